// Implementation notes
// - Calls are written with serials this client numbers (from 2^31 up) and sent with TrySendMessage; two observers
//   (NoSubscribe: nothing is asked of the bus) see every method return and error that arrives, and the one whose
//   reply serial is a pending call's completes it. Tmds.DBus.Protocol's CallMethodAsync would drop an error's typed
//   fields (see ErrorReplies.cs); the library's own calls (Hello) keep their small serials and are not affected.
// - Observers run on the connection's read loop: a reply is read there, into plain values, and the call's task is
//   completed with RunContinuationsAsynchronously; ConnectAsync resumes on the thread pool too. So no caller's code
//   runs on the read loop, and a caller that blocks on a task of this client cannot stall the replies.
// - A connection that closes fails every pending call with DaemonUnreachableException.
using System.Collections.Concurrent;
using Interop.Core.Model;
using Tmds.DBus.Protocol;

namespace Interop.DBus;

/// <summary>
/// <see cref="IInteropClient"/> over the bus: what interopctl's admin commands use. Connecting costs only the bus
/// handshake (no Introspect, no GetAll, no AddMatch); every member is one method call, except the GetContainer
/// lookups, which add a GetAll on the object they return.
/// </summary>
public sealed class InteropClient : IInteropClient
{
    private const string PropertiesInterface = "org.freedesktop.DBus.Properties";

    private readonly DBusConnection _connection;
    private readonly string _bus;
    private readonly ConcurrentDictionary<uint, PendingCall> _pending = new();
    private readonly List<IDisposable> _observers = [];
    private int _serial;

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
            // The library completes the connect on its read loop and would resume here, on that thread: a caller that
            // then blocked on a call would block the only thread that reads the reply. Resume on the thread pool.
            var connect = connection.ConnectAsync().AsTask();
            await connect.ContinueWith(static _ => { }, cancellationToken, TaskContinuationOptions.RunContinuationsAsynchronously, TaskScheduler.Default).ConfigureAwait(false);
            await connect.ConfigureAwait(false);
            var client = new InteropClient(connection, bus);
            foreach (var type in new[] { MessageType.MethodReturn, MessageType.Error })
            {
                client._observers.Add(await connection.AddMatchAsync(
                    new MatchRule { Type = type },
                    (Message m, object? _) => client.OnReply(m),
                    (Notification<bool> n) => client.OnClosed(n),
                    emitOnCapturedContext: false,
                    flags: ObserverFlags.NoSubscribe | ObserverFlags.EmitOnConnectionClosed | ObserverFlags.EmitOnConnectionFailed).ConfigureAwait(false));
            }

            return client;
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
    }

    public Task<DaemonProperties> GetPropertiesAsync(CancellationToken cancellationToken = default) => CallAsync(
        ObjectPaths.ManagerPath,
        PropertiesInterface,
        "GetAll",
        "s",
        (ref MessageWriter w) => w.WriteString(ObjectPaths.ManagerInterface),
        static (Message m) =>
        {
            var reader = m.GetBodyReader();
            return Wire.ReadManagerProperties(ref reader);
        },
        cancellationToken);

    public Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(CancellationToken cancellationToken = default) => CallAsync(
        ObjectPaths.ManagerPath,
        ObjectPaths.ManagerInterface,
        "ListContainers",
        null,
        null,
        static (Message m) =>
        {
            var reader = m.GetBodyReader();
            var result = new List<ContainerSummary>();
            var end = reader.ReadArrayStart(DBusType.Struct);
            while (reader.HasNext(end))
            {
                var manager = ManagerNames.Parse(reader.ReadString());
                var name = reader.ReadString();
                var state = ContainerStateNames.Parse(reader.ReadString());
                var leader = reader.ReadUInt32();
                var cgroup = reader.ReadString();
                result.Add(new ContainerSummary(manager, name, state, leader, cgroup, reader.ReadObjectPathAsString()));
            }

            return (IReadOnlyList<ContainerSummary>)result;
        },
        cancellationToken);

    public async Task<IReadOnlyList<ContainerUnit>> ListUnitsAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await CallAsync(
                ObjectPaths.ManagerPath,
                ObjectPaths.ManagerInterface,
                "ListUnits",
                null,
                null,
                static (Message m) =>
                {
                    var reader = m.GetBodyReader();
                    var result = new List<ContainerUnit>();
                    var end = reader.ReadArrayStart(DBusType.Struct);
                    while (reader.HasNext(end))
                    {
                        var manager = ManagerNames.Parse(reader.ReadString());
                        var name = reader.ReadString();
                        result.Add(new ContainerUnit(manager, name, reader.ReadString(), reader.ReadString()));
                    }

                    return (IReadOnlyList<ContainerUnit>)result;
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (DaemonErrorException ex) when (ex.ErrorName == "org.freedesktop.DBus.Error.UnknownMethod")
        {
            // An interopd older than ListUnits.
            return [];
        }
    }

    public Task<Mapping> GetContainerAsync(Manager manager, string name, CancellationToken cancellationToken = default) =>
        LookupAsync(
            "GetContainer",
            "ss",
            (ref MessageWriter w) =>
            {
                w.WriteString(manager.ToWire());
                w.WriteString(name);
            },
            cancellationToken);

    public Task<Mapping> GetContainerByPidAsync(uint pid, CancellationToken cancellationToken = default) =>
        LookupAsync("GetContainerByPid", "u", (ref MessageWriter w) => w.WriteUInt32(pid), cancellationToken);

    public Task<Mapping> GetContainerByCgroupAsync(string path, CancellationToken cancellationToken = default) =>
        LookupAsync("GetContainerByCgroup", "s", (ref MessageWriter w) => w.WriteString(path), cancellationToken);

    public Task<Mapping> GetMappingAsync(string objectPath, CancellationToken cancellationToken = default) => CallAsync(
        objectPath,
        PropertiesInterface,
        "GetAll",
        "s",
        (ref MessageWriter w) => w.WriteString(ObjectPaths.ContainerInterface),
        static (Message m) =>
        {
            var reader = m.GetBodyReader();
            return Wire.ReadMapping(ref reader);
        },
        cancellationToken);

    public Task PrepareContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default)
        => CallAsync(ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "PrepareContainer", "ssa{ss}", ManagerNameFacts(manager, name, facts), ReadNothing, cancellationToken);

    public Task<string> RegisterContainerAsync(Manager manager, string name, uint leader, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default)
        => CallAsync(
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
            cancellationToken);

    public Task<bool> ReleaseContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default)
        => CallAsync(
            ObjectPaths.ManagerPath,
            ObjectPaths.ManagerInterface,
            "ReleaseContainer",
            "ssa{ss}",
            ManagerNameFacts(manager, name, facts),
            static (Message m) => m.GetBodyReader().ReadBool(),
            cancellationToken);

    public Task StopContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default)
        => CallAsync(ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "StopContainer", "ssa{ss}", ManagerNameFacts(manager, name, facts), ReadNothing, cancellationToken);

    public Task<IReadOnlyList<string>> SetupAsync(CancellationToken cancellationToken = default)
        => CallAsync(ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "Setup", null, null, ReadStrings, cancellationToken);

    public Task<IReadOnlyList<string>> PruneAsync(bool dryRun, CancellationToken cancellationToken = default)
        => CallAsync(ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "Prune", "b", (ref MessageWriter w) => w.WriteBool(dryRun), ReadStrings, cancellationToken);

    public Task<string> GetMetricsAsync(CancellationToken cancellationToken = default)
        => CallAsync(ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "GetMetrics", null, null, ReadString, cancellationToken);

    public Task<string> GetValueAsync(Manager manager, string name, string key, CancellationToken cancellationToken = default) => CallAsync(
        ObjectPaths.ForContainer(manager, name),
        ObjectPaths.ContainerInterface,
        "GetValue",
        "s",
        (ref MessageWriter w) => w.WriteString(key),
        ReadString,
        cancellationToken);

    public Task SetValueAsync(Manager manager, string name, string key, string value, CancellationToken cancellationToken = default)
        => CallAsync(
            ObjectPaths.ForContainer(manager, name),
            ObjectPaths.ContainerInterface,
            "SetValue",
            "ss",
            (ref MessageWriter w) =>
            {
                w.WriteString(key);
                w.WriteString(value);
            },
            ReadNothing,
            cancellationToken);

    public Task<IReadOnlyList<uint>> GetTasksAsync(Manager manager, string name, CancellationToken cancellationToken = default) => CallAsync(
        ObjectPaths.ForContainer(manager, name),
        ObjectPaths.ContainerInterface,
        "GetTasks",
        null,
        null,
        static (Message m) => (IReadOnlyList<uint>)m.GetBodyReader().ReadArrayOfUInt32(),
        cancellationToken);

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    public void Dispose()
    {
        foreach (var observer in _observers)
        {
            observer.Dispose();
        }

        _connection.Dispose();
        FailAll(new DaemonUnreachableException(_bus, "the client was disposed"));
    }

    private static bool ReadNothing(Message message) => true;

    private static string ReadString(Message message) => message.GetBodyReader().ReadString();

    private static string ReadObjectPath(Message message) => message.GetBodyReader().ReadObjectPathAsString();

    private static IReadOnlyList<string> ReadStrings(Message message) => message.GetBodyReader().ReadArrayOfString();

    private static BodyWriter ManagerNameFacts(Manager manager, string name, IReadOnlyDictionary<string, string> facts)
        => (ref MessageWriter w) =>
        {
            w.WriteString(manager.ToWire());
            w.WriteString(name);
            Wire.WriteStringDictionary(ref w, facts);
        };

    /// <summary>A Manager lookup that answers an object path, then that object's properties.</summary>
    private async Task<Mapping> LookupAsync(string member, string signature, BodyWriter body, CancellationToken cancellationToken)
    {
        var path = await CallAsync(ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, member, signature, body, ReadObjectPath, cancellationToken).ConfigureAwait(false);
        return await GetMappingAsync(path, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> CallAsync<T>(string path, string iface, string member, string? signature, BodyWriter? body, Func<Message, T> read, CancellationToken cancellationToken)
    {
        var serial = (uint)Interlocked.Increment(ref _serial) | 0x8000_0000u;
        var call = new PendingCall<T>(read);
        _pending[serial] = call;
        MessageBuffer message;
        var writer = _connection.GetMessageWriter();
        try
        {
            RawHeader.WriteMethodCall(ref writer, serial, ObjectPaths.BusName, path, iface, member, signature);
            body?.Invoke(ref writer);
            message = writer.CreateMessage();
        }
        catch
        {
            _pending.TryRemove(serial, out _);
            throw;
        }
        finally
        {
            writer.Dispose();
        }

        if (!_connection.TrySendMessage(message))
        {
            _pending.TryRemove(serial, out _);
            throw new DaemonUnreachableException(_bus, "the bus connection is closed");
        }

        using var registration = cancellationToken.Register(() =>
        {
            if (_pending.TryRemove(serial, out var cancelled))
            {
                cancelled.Fail(new OperationCanceledException(cancellationToken));
            }
        });
        return await call.Task.ConfigureAwait(false);
    }

    /// <summary>Completes the pending call a reply answers (on the read loop: reads, never blocks).</summary>
    private bool OnReply(Message message)
    {
        if (message.ReplySerial is not { } serial || !_pending.TryRemove(serial, out var call))
        {
            return false;
        }

        if (message.MessageType == MessageType.Error)
        {
            call.Fail(ErrorCodec.ToException(_bus, ErrorCodec.Read(message)));
        }
        else
        {
            call.Complete(message);
        }

        return true;
    }

    /// <summary>The observers complete only when the connection closes or fails: every pending call fails with it.</summary>
    private void OnClosed(Notification<bool> notification)
    {
        if (notification.IsCompletion)
        {
            FailAll(new DaemonUnreachableException(_bus, $"the bus connection closed ({notification.Type})"));
        }
    }

    private void FailAll(Exception ex)
    {
        foreach (var serial in _pending.Keys)
        {
            if (_pending.TryRemove(serial, out var call))
            {
                call.Fail(ex);
            }
        }
    }

    private abstract class PendingCall
    {
        public abstract void Complete(Message reply);

        public abstract void Fail(Exception ex);
    }

    private sealed class PendingCall<T>(Func<Message, T> read) : PendingCall
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Task => _done.Task;

        public override void Complete(Message reply)
        {
            try
            {
                _done.TrySetResult(read(reply));
            }
            catch (Exception ex)
            {
                _done.TrySetException(new DaemonErrorException("org.freedesktop.DBus.Error.InvalidSignature", $"interopd answered '{reply.SignatureAsString}', which this interopctl cannot read: {ex.Message}", ex));
            }
        }

        public override void Fail(Exception ex) => _done.TrySetException(ex);
    }
}
