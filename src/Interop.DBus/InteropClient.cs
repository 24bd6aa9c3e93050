using System.Text.RegularExpressions;
using Interop.Core;
using Interop.Core.Model;
using Interop.Core.Service;
using Tmds.DBus.Protocol;

namespace Interop.DBus;

/// <summary>
/// <see cref="IInteropService"/> over the bus: what interopctl uses. Connecting costs only the bus handshake
/// (no Introspect, no GetAll); every member is one method call, except <see cref="GetContainer"/> and its
/// siblings, which need a second call (GetAll on the returned object) to return a full <see cref="Mapping"/>.
/// </summary>
/// <remarks>
/// Mappings from <see cref="ListContainers"/> and <see cref="RegisterContainerAsync"/> are partial (the wire carries
/// manager, name, state, leader and cgroup path only, plus unit and machine from ListUnits): Uuid, Paths, Since,
/// CgroupNamespace and Source are Unknown.
/// The events are not supported on the client: subscribing throws <see cref="NotSupportedException"/>
/// (a short-lived CLI has no use for them; watch the signals with a match rule instead).
/// Sync members block on the call; the CLI is a short-lived process without a synchronization context.
/// </remarks>
public sealed partial class InteropClient : IInteropService, IStateHealth, IMetricsSource, IAsyncDisposable, IDisposable
{
    private readonly DBusConnection _connection;
    private readonly string _bus;

    private InteropClient(DBusConnection connection, string bus)
    {
        _connection = connection;
        _bus = bus;
    }

    private delegate void BodyWriter(ref MessageWriter writer);

    /// <summary>Connects to <paramref name="bus"/>: "system", "session" or an address such as "unix:path=/run/x".</summary>
    /// <exception cref="DaemonUnreachableException">the bus cannot be reached.</exception>
    public static async Task<InteropClient> ConnectAsync(string bus = BusAddress.System, CancellationToken cancellationToken = default)
    {
        var address = BusAddress.Resolve(bus);
        var connection = new DBusConnection(new DBusConnectionOptions(address) { AutoConnect = false });
        try
        {
            await OffReadLoop(connection.ConnectAsync().AsTask().WaitAsync(cancellationToken)).ConfigureAwait(false);
        }
        catch (DBusConnectFailedException ex)
        {
            connection.Dispose();
            throw new DaemonUnreachableException(bus, $"cannot connect to the bus at {address}: {ex.Message}", ex);
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        return new InteropClient(connection, bus);
    }

    public string Version => GetProperty(ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "Version", static (Message m, object? _) => ReadVariantString(m));

    public string CgroupMode => GetProperty(ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "CgroupMode", static (Message m, object? _) => ReadVariantString(m));

    public string SharedRoot => GetProperty(ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "SharedRoot", static (Message m, object? _) => ReadVariantString(m));

    public IReadOnlyList<HierarchyInfo> Hierarchies => GetProperty(
        ObjectPaths.ManagerPath,
        ObjectPaths.ManagerInterface,
        "Hierarchies",
        static (Message m, object? _) =>
        {
            var reader = m.GetBodyReader();
            reader.ReadSignature("a(sss)");
            return (IReadOnlyList<HierarchyInfo>)Wire.ReadHierarchies(ref reader);
        });

    public uint ContainerCount => GetProperty(
        ObjectPaths.ManagerPath,
        ObjectPaths.ManagerInterface,
        "ContainerCount",
        static (Message m, object? _) =>
        {
            var reader = m.GetBodyReader();
            reader.ReadSignature("u");
            return reader.ReadUInt32();
        });

    /// <summary>The daemon's StateWritable property (false: degraded, see <see cref="IStateHealth"/>).</summary>
    public bool StateWritable => GetProperty(
        ObjectPaths.ManagerPath,
        ObjectPaths.ManagerInterface,
        "StateWritable",
        static (Message m, object? _) =>
        {
            var reader = m.GetBodyReader();
            reader.ReadSignature("b");
            return reader.ReadBool();
        });

    public event EventHandler? StateWritableChanged
    {
        add => throw EventsNotSupported();
        remove => throw EventsNotSupported();
    }

    public event EventHandler<ContainerEventArgs>? ContainerAdded
    {
        add => throw EventsNotSupported();
        remove => throw EventsNotSupported();
    }

    public event EventHandler<ContainerEventArgs>? ContainerRemoved
    {
        add => throw EventsNotSupported();
        remove => throw EventsNotSupported();
    }

    public event EventHandler<ContainerEventArgs>? ContainerChanged
    {
        add => throw EventsNotSupported();
        remove => throw EventsNotSupported();
    }

    public IReadOnlyList<Mapping> ListContainers() => Wait(ListContainersAsync);

    /// <summary>ListContainers, with each mapping's unit and machine from ListUnits (systemd hosts; a daemon without it answers UnknownMethod and they stay empty).</summary>
    public async Task<IReadOnlyList<Mapping>> ListContainersAsync()
    {
        var list = await ListPartialAsync().ConfigureAwait(false);
        IReadOnlyDictionary<(Manager, string), (string Unit, string Machine)> units;
        try
        {
            units = await CallAsync(ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "ListUnits", null, null, static (Message m, object? _) =>
            {
                var reader = m.GetBodyReader();
                var result = new Dictionary<(Manager, string), (string, string)>();
                var end = reader.ReadArrayStart(DBusType.Struct);
                while (reader.HasNext(end))
                {
                    var manager = ManagerNames.Parse(reader.ReadString());
                    var name = reader.ReadString();
                    result[(manager, name)] = (reader.ReadString(), reader.ReadString());
                }

                return (IReadOnlyDictionary<(Manager, string), (string Unit, string Machine)>)result;
            }).ConfigureAwait(false);
        }
        catch (DaemonErrorException)
        {
            // An interopd older than ListUnits: the list without units.
            return list;
        }

        return units.Count == 0 ? list : [.. list.Select(m => units.TryGetValue((m.Manager, m.Name), out var u) ? m with { Unit = u.Unit, Machine = u.Machine } : m)];
    }

    private Task<IReadOnlyList<Mapping>> ListPartialAsync() => CallAsync(
        ObjectPaths.ManagerPath,
        ObjectPaths.ManagerInterface,
        "ListContainers",
        null,
        null,
        static (Message m, object? _) =>
        {
            var reader = m.GetBodyReader();
            var result = new List<Mapping>();
            var end = reader.ReadArrayStart(DBusType.Struct);
            while (reader.HasNext(end))
            {
                var manager = ManagerNames.Parse(reader.ReadString());
                var name = reader.ReadString();
                var state = ContainerStateNames.Parse(reader.ReadString());
                var leader = reader.ReadUInt32();
                var cgroup = reader.ReadString();
                reader.ReadObjectPath();
                result.Add(Partial(manager, name, string.Empty, state, leader, cgroup));
            }

            return (IReadOnlyList<Mapping>)result;
        });

    public Mapping GetContainer(Manager manager, string name) => Wait(() => GetContainerAsync(manager, name));

    public Task<Mapping> GetContainerAsync(Manager manager, string name) =>
        LookupAsync("GetContainer", "ss", (ref MessageWriter w) =>
        {
            w.WriteString(manager.ToWire());
            w.WriteString(name);
        });

    public Mapping GetContainerByPid(uint pid) => Wait(() => GetContainerByPidAsync(pid));

    public Task<Mapping> GetContainerByPidAsync(uint pid) =>
        LookupAsync("GetContainerByPid", "u", (ref MessageWriter w) => w.WriteUInt32(pid));

    public Mapping GetContainerByCgroup(string path) => Wait(() => GetContainerByCgroupAsync(path));

    public Task<Mapping> GetContainerByCgroupAsync(string path) =>
        LookupAsync("GetContainerByCgroup", "s", (ref MessageWriter w) => w.WriteString(path));

    /// <summary>All properties of a container object (one GetAll call).</summary>
    public Task<Mapping> GetMappingAsync(string objectPath) => CallAsync(
        objectPath,
        "org.freedesktop.DBus.Properties",
        "GetAll",
        "s",
        (ref MessageWriter w) => w.WriteString(ObjectPaths.ContainerInterface),
        static (Message m, object? _) =>
        {
            var reader = m.GetBodyReader();
            return Wire.ReadMapping(ref reader);
        });

    public Task PrepareContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default)
        => CallVoidAsync(ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "PrepareContainer", "ssa{ss}", ManagerNameFacts(manager, name, facts), cancellationToken);

    public async Task<Mapping> RegisterContainerAsync(Manager manager, string name, uint leader, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default)
    {
        await CallAsync(
            ObjectPaths.ManagerPath,
            ObjectPaths.ManagerInterface,
            "RegisterContainer",
            "ssua{ss}",
            (ref MessageWriter w) =>
            {
                w.WriteString(manager.ToWire());
                w.WriteString(name);
                w.WriteUInt32(leader);
                Wire.WriteStringDictionary(ref w, facts);
            },
            ReadObjectPath,
            cancellationToken).ConfigureAwait(false);
        facts.TryGetValue(FactKeys.Uuid, out var uuid);
        return Partial(manager, name, uuid ?? string.Empty, ContainerState.Running, leader, string.Empty) with { Source = MappingSource.Hook };
    }

    public Task<bool> ReleaseContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default)
        => CallAsync(
            ObjectPaths.ManagerPath,
            ObjectPaths.ManagerInterface,
            "ReleaseContainer",
            "ssa{ss}",
            ManagerNameFacts(manager, name, facts),
            static (Message m, object? _) => m.GetBodyReader().ReadBool(),
            cancellationToken);

    public Task StopContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default)
        => CallVoidAsync(ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "StopContainer", "ssa{ss}", ManagerNameFacts(manager, name, facts), cancellationToken);

    public Task<IReadOnlyList<string>> SetupAsync(CancellationToken cancellationToken = default)
        => CallAsync(ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "Setup", null, null, ReadStrings, cancellationToken);

    public Task<IReadOnlyList<string>> PruneAsync(bool dryRun, CancellationToken cancellationToken = default)
        => CallAsync(ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "Prune", "b", (ref MessageWriter w) => w.WriteBool(dryRun), ReadStrings, cancellationToken);

    /// <summary>Interop's metrics in the Prometheus text exposition format, as interopd's /metrics serves them.</summary>
    public Task<string> GetMetricsAsync(CancellationToken cancellationToken = default)
        => CallAsync(ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "GetMetrics", null, null, static (Message m, object? _) => m.GetBodyReader().ReadString(), cancellationToken);

    public string GetValue(Manager manager, string name, string key) => Wait(() => CallAsync(
        ObjectPaths.ForContainer(manager, name),
        ObjectPaths.ContainerInterface,
        "GetValue",
        "s",
        (ref MessageWriter w) => w.WriteString(key),
        static (Message m, object? _) => m.GetBodyReader().ReadString()));

    public Task SetValueAsync(Manager manager, string name, string key, string value, CancellationToken cancellationToken = default)
        => CallVoidAsync(
            ObjectPaths.ForContainer(manager, name),
            ObjectPaths.ContainerInterface,
            "SetValue",
            "ss",
            (ref MessageWriter w) =>
            {
                w.WriteString(key);
                w.WriteString(value);
            },
            cancellationToken);

    public IReadOnlyList<uint> GetTasks(Manager manager, string name) => Wait(() => CallAsync(
        ObjectPaths.ForContainer(manager, name),
        ObjectPaths.ContainerInterface,
        "GetTasks",
        null,
        null,
        static (Message m, object? _) => (IReadOnlyList<uint>)m.GetBodyReader().ReadArrayOfUInt32()));

    public ValueTask DisposeAsync()
    {
        _connection.Dispose();
        return ValueTask.CompletedTask;
    }

    public void Dispose() => _connection.Dispose();

    /// <summary>Maps an error reply back to the InteropException family by its name.</summary>
    internal static Exception MapError(string bus, string errorName, string message, Exception? inner)
    {
        switch (errorName)
        {
            case "org.freedesktop.DBus.Error.ServiceUnknown":
            case "org.freedesktop.DBus.Error.NameHasNoOwner":
                return new DaemonUnreachableException(bus, $"nobody owns {ObjectPaths.BusName}", inner);
            case "org.freedesktop.DBus.Error.AccessDenied":
                return new AccessDeniedException(message);
            case InteropException.Prefix + "NoSuchContainer":
                return new NoSuchContainerException(StripPrefix(message, "no such container: "));
            case InteropException.Prefix + "InvalidArgument":
            {
                var match = InvalidPattern().Match(message);
                return match.Success ? new InvalidInputException(match.Groups[1].Value, match.Groups[2].Value) : new InvalidInputException("argument", message);
            }

            case InteropException.Prefix + "Conflict":
                return new ConflictException(message);
            case InteropException.Prefix + "NotInSharedRoot":
                return new NotInSharedRootException(message);
            case InteropException.Prefix + "Cgroup":
            {
                var match = CgroupPattern().Match(message);
                return match.Success
                    ? new CgroupException(match.Groups["path"].Value, int.Parse(match.Groups["errno"].Value, System.Globalization.CultureInfo.InvariantCulture), match.Groups["op"].Value, match.Groups["detail"].Value)
                    : new DaemonErrorException(errorName, message, inner);
            }

            default:
                return new DaemonErrorException(errorName, message, inner);
        }
    }

    private static string StripPrefix(string message, string prefix)
        => message.StartsWith(prefix, StringComparison.Ordinal) ? message[prefix.Length..] : message;

    private static NotSupportedException EventsNotSupported()
        => new("InteropClient does not raise events; watch the ContainerAdded/ContainerRemoved/PropertiesChanged signals with a match rule (e.g. busctl monitor org.interop.Interop1)");

    internal static Mapping Partial(Manager manager, string name, string uuid, ContainerState state, uint leader, string cgroupPath)
        => new(manager, name, uuid, state, (int)Math.Min(leader, int.MaxValue), cgroupPath, new Dictionary<string, string>(), 0, CgroupNamespaceKind.Unknown, MappingSource.Unknown);

    private static BodyWriter ManagerNameFacts(Manager manager, string name, IReadOnlyDictionary<string, string> facts)
        => (ref MessageWriter w) =>
        {
            w.WriteString(manager.ToWire());
            w.WriteString(name);
            Wire.WriteStringDictionary(ref w, facts);
        };

    private static string ReadObjectPath(Message message, object? state) => message.GetBodyReader().ReadObjectPathAsString();

    private static IReadOnlyList<string> ReadStrings(Message message, object? state) => message.GetBodyReader().ReadArrayOfString();

    private static string ReadVariantString(Message message)
    {
        var reader = message.GetBodyReader();
        reader.ReadSignature("s");
        return reader.ReadString();
    }

    /// <summary>Blocks on a call started without the caller's synchronization context, so it cannot deadlock on it.</summary>
    private static T Wait<T>(Func<Task<T>> start)
    {
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            return start().GetAwaiter().GetResult();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }

    private T GetProperty<T>(string path, string iface, string name, MessageValueReader<T> reader) => Wait(() => CallAsync(
        path,
        "org.freedesktop.DBus.Properties",
        "Get",
        "ss",
        (ref MessageWriter w) =>
        {
            w.WriteString(iface);
            w.WriteString(name);
        },
        reader));

    private MessageBuffer CreateCall(string path, string iface, string member, string? signature, BodyWriter? body)
    {
        var writer = _connection.GetMessageWriter();
        try
        {
            writer.WriteMethodCallHeader(ObjectPaths.BusName, path, iface, member, signature, MessageFlags.None);
            body?.Invoke(ref writer);
            return writer.CreateMessage();
        }
        finally
        {
            writer.Dispose();
        }
    }

    private async Task<T> CallAsync<T>(string path, string iface, string member, string? signature, BodyWriter? body, MessageValueReader<T> reader, CancellationToken cancellationToken = default)
    {
        try
        {
            return await OffReadLoop(_connection.CallMethodAsync(CreateCall(path, iface, member, signature, body), reader).WaitAsync(cancellationToken)).ConfigureAwait(false);
        }
        catch (DBusErrorReplyException ex)
        {
            throw MapError(_bus, ex.ErrorName, ex.ErrorMessage, ex);
        }
        catch (DBusConnectionClosedException ex)
        {
            throw new DaemonUnreachableException(_bus, $"the bus connection closed: {ex.Message}", ex);
        }
    }

    private async Task CallVoidAsync(string path, string iface, string member, string? signature, BodyWriter? body, CancellationToken cancellationToken)
    {
        try
        {
            await OffReadLoop(_connection.CallMethodAsync(CreateCall(path, iface, member, signature, body)).WaitAsync(cancellationToken)).ConfigureAwait(false);
        }
        catch (DBusErrorReplyException ex)
        {
            throw MapError(_bus, ex.ErrorName, ex.ErrorMessage, ex);
        }
        catch (DBusConnectionClosedException ex)
        {
            throw new DaemonUnreachableException(_bus, $"the bus connection closed: {ex.Message}", ex);
        }
    }

    /// <summary>A Manager lookup that answers an object path, then that object's properties.</summary>
    private async Task<Mapping> LookupAsync(string member, string signature, BodyWriter body)
    {
        var path = await CallAsync(ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, member, signature, body, ReadObjectPath).ConfigureAwait(false);
        return await GetMappingAsync(path).ConfigureAwait(false);
    }

    /// <summary>
    /// Tmds.DBus.Protocol completes a call on the connection's read loop and runs its continuation right
    /// there. A caller that then blocks on a synchronous member (interopctl does: connect, then call)
    /// would block the only thread that can read the reply: a deadlock. Hop to the thread pool first,
    /// whether the call succeeded or threw.
    /// </summary>
    private static async Task<T> OffReadLoop<T>(Task<T> call)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        finally
        {
            await Task.Yield();
        }
    }

    private static async Task OffReadLoop(Task call)
    {
        try
        {
            await call.ConfigureAwait(false);
        }
        finally
        {
            await Task.Yield();
        }
    }

    [GeneratedRegex("^invalid ([^:]+): (.*)$", RegexOptions.Singleline)]
    private static partial Regex InvalidPattern();

    [GeneratedRegex(@"^(?<op>[^/]*?) (?<path>/.*): (?<detail>[^:]*) \(errno (?<errno>-?\d+)\)$", RegexOptions.Singleline)]
    private static partial Regex CgroupPattern();
}
