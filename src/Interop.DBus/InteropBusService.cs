// Implementation notes
// - Two IPathMethodHandlers: the manager object (exact path) and everything below .../container (child paths).
//   Tmds.DBus.Protocol answers Introspect on "/", "/org", "/org/interop" itself (child names from the registered
//   paths), adds "container" as a child of the manager object, and answers org.freedesktop.DBus.Peer on every path.
// - HandleMethodAsync runs on the connection's read loop: no message is read until it returns. Reads of the
//   registry are answered inline (they are in-memory lookups or one small cgroupfs read). Every mutating call
//   sets DisposesAsynchronously, copies its arguments out of the request and continues on the thread pool:
//   the uid lookup (a round trip to the bus) and the service call must not stall the loop.
// - Errors: InteropException -> its ErrorName, its message and its typed fields (ErrorCodec); anything else -> org.freedesktop.DBus.Error.Failed with a
//   short message, and the exception goes to the injected log callback. Handler exceptions never close the connection.
using Interop.Core;
using Interop.Core.Model;
using Interop.Core.Service;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tmds.DBus.Protocol;

namespace Interop.DBus;

/// <summary>
/// Exports an <see cref="IInteropService"/> on a bus as org.interop.Interop1 (DESIGN.md section 8).
/// </summary>
public sealed class InteropBusService : IAsyncDisposable
{
    internal const string InvalidArgs = "org.freedesktop.DBus.Error.InvalidArgs";
    internal const string Failed = "org.freedesktop.DBus.Error.Failed";
    internal const string UnknownObject = "org.freedesktop.DBus.Error.UnknownObject";
    internal const string UnknownInterface = "org.freedesktop.DBus.Error.UnknownInterface";
    internal const string UnknownProperty = "org.freedesktop.DBus.Error.UnknownProperty";
    internal const string PropertyReadOnly = "org.freedesktop.DBus.Error.PropertyReadOnly";
    private const string PropertiesInterface = "org.freedesktop.DBus.Properties";

    private readonly DBusConnection _connection;
    private readonly IInteropService _service;
    private readonly ILogger _log;
    private readonly CallerAuthorizer _authorizer;
    private Func<uint, Mapping, bool>? _mayChange;

    /// <summary>Open tree walks (GetTasks) that run at once (one: a walk may take a core); more wait their turn off the read loop.</summary>
    private const int MaxConcurrentWalks = 1;

    private readonly SemaphoreSlim _walks = new(MaxConcurrentWalks, MaxConcurrentWalks);
    private readonly Func<CancellationToken, Task<string>>? _metrics;

    // Cancelled when the daemon stops (StartAsync's token) or this is disposed: every call still waiting for the
    // service then ends with the "shutting down" reply while the connection can still carry it.
    private readonly CancellationTokenSource _stopping;
    private int _disposed;

    private InteropBusService(DBusConnection connection, IInteropService service, Func<uint, bool> isAllowed, ILogger log, Func<CancellationToken, Task<string>>? metrics, CancellationToken stopping)
    {
        _stopping = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _metrics = metrics;
        _connection = connection;
        _service = service;
        _log = log;
        _authorizer = new CallerAuthorizer(connection, isAllowed);
    }

    /// <summary>The connection's unique name on the bus.</summary>
    public string? UniqueName => _connection.UniqueName;

    internal CallerAuthorizer Authorizer => _authorizer;

    /// <summary>
    /// Connects to <paramref name="bus"/> ("system", "session" or an address), exports the objects and takes the
    /// name org.interop.Interop1.
    /// </summary>
    /// <param name="isAllowed">Whether a caller uid may call mutating methods (the daemon builds it from allowed_users).</param>
    /// <param name="log">Receives every unexpected exception, as a warning with the exception (nothing is logged when null).</param>
    /// <param name="mayChange">Whether a non-root allowed caller may change a registered container (SetValue, StopContainer,
    /// ReleaseContainer); null: every allowed caller may.</param>
    /// <param name="cancellationToken">Stops the connecting, and later the daemon: once cancelled, every call still waiting
    /// for the service gets the "interopd is shutting down; try again" reply.</param>
    /// <param name="metrics">Produces the Prometheus exposition GetMetrics answers; null answers that metrics are not available.</param>
    /// <exception cref="InvalidOperationException">another connection already owns org.interop.Interop1.</exception>
    /// <exception cref="DaemonUnreachableException">the bus cannot be reached.</exception>
    public static async Task<InteropBusService> StartAsync(
        string bus,
        IInteropService service,
        Func<uint, bool> isAllowed,
        ILogger? log = null,
        CancellationToken cancellationToken = default,
        Func<uint, Mapping, bool>? mayChange = null,
        Func<CancellationToken, Task<string>>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(isAllowed);
        log ??= NullLogger.Instance;
        var address = BusAddress.Resolve(bus);
        var options = new Direct.BusStreamOptions(address)
        {
            AutoConnect = false,
            OnException = context =>
            {
                if (context.Source != DBusConnection.ExceptionSource.ConnectionFailed)
                {
                    context.DisconnectConnection = false;
                }

                SafeLog(log, $"D-Bus {context.Source}: {context.Exception.Message}", context.Exception);
            },
        };
        var connection = new DBusConnection(options);
        try
        {
            try
            {
                await connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (DBusConnectFailedException ex)
            {
                throw new DaemonUnreachableException(bus, $"cannot connect to the bus at {address}: {ex.Message}", ex);
            }

            var self = new InteropBusService(connection, service, isAllowed, log, metrics, cancellationToken) { _mayChange = mayChange };
            connection.AddMethodHandlers([new ManagerHandler(self), new ContainerHandler(self)]);
            service.ContainerAdded += self.OnContainerAdded;
            service.ContainerRemoved += self.OnContainerRemoved;
            service.ContainerChanged += self.OnContainerChanged;
            if (service is IStateHealth health)
            {
                health.StateWritableChanged += self.OnStateWritableChanged;
            }

            if (!await connection.TryRequestNameAsync(ObjectPaths.BusName, RequestNameOptions.None).ConfigureAwait(false))
            {
                await self.DisposeAsync().ConfigureAwait(false);
                throw new InvalidOperationException(
                    $"the name {ObjectPaths.BusName} is already owned on the {bus} bus: another interopd is running (see 'busctl status {ObjectPaths.BusName}')");
            }

            return self;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Completes when the connection is lost (with the reason) or disposed (null).</summary>
    public Task<Exception?> Disconnected => _connection.DisconnectedAsync();

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _service.ContainerAdded -= OnContainerAdded;
            _service.ContainerRemoved -= OnContainerRemoved;
            _service.ContainerChanged -= OnContainerChanged;
            if (_service is IStateHealth health)
            {
                health.StateWritableChanged -= OnStateWritableChanged;
            }

            _stopping.Cancel();
            _connection.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private static void SafeLog(ILogger log, string message, Exception? ex)
    {
        try
        {
            log.LogWarning(ex, "{0}", message);
        }
        catch (Exception)
        {
            // A logger must not take the bus down.
        }
    }

    // ---- signals -------------------------------------------------------------------------------------------

    private void OnContainerAdded(object? sender, ContainerEventArgs e) => EmitLifecycle("ContainerAdded", e.Mapping);

    private void OnContainerRemoved(object? sender, ContainerEventArgs e) => EmitLifecycle("ContainerRemoved", e.Mapping);

    private void EmitLifecycle(string member, Mapping mapping)
    {
        try
        {
            SendContainerSignal(member, mapping);
            SendContainerCountChanged();
        }
        catch (Exception ex)
        {
            SafeLog(_log, $"cannot emit {member} for {mapping.Id}: {ex.Message}", ex);
        }
    }

    private void OnContainerChanged(object? sender, ContainerEventArgs e)
    {
        try
        {
            var writer = _connection.GetMessageWriter();
            try
            {
                writer.WriteSignalHeader(null, ObjectPaths.ForContainer(e.Mapping.Manager, e.Mapping.Name), PropertiesInterface, "PropertiesChanged", "sa{sv}as");
                writer.WriteString(ObjectPaths.ContainerInterface);
                Wire.WriteContainerProperties(ref writer, e.Mapping);
                writer.WriteArray(Array.Empty<string>());
                _connection.TrySendMessage(writer.CreateMessage());
            }
            finally
            {
                writer.Dispose();
            }
        }
        catch (Exception ex)
        {
            SafeLog(_log, $"cannot emit PropertiesChanged for {e.Mapping.Id}: {ex.Message}", ex);
        }
    }

    private void SendContainerSignal(string member, Mapping mapping)
    {
        using var writer = _connection.GetMessageWriter();
        writer.WriteSignalHeader(null, ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, member, "sso");
        writer.WriteString(mapping.Manager.ToWire());
        writer.WriteString(mapping.Name);
        writer.WriteObjectPath(ObjectPaths.ForContainer(mapping.Manager, mapping.Name));
        _connection.TrySendMessage(writer.CreateMessage());
    }

    private void OnStateWritableChanged(object? sender, EventArgs e)
    {
        try
        {
            SendManagerPropertyChanged("StateWritable");
        }
        catch (Exception ex)
        {
            SafeLog(_log, $"cannot emit PropertiesChanged for StateWritable: {ex.Message}", ex);
        }
    }

    private void SendContainerCountChanged() => SendManagerPropertyChanged("ContainerCount");

    private void SendManagerPropertyChanged(string name)
    {
        var writer = _connection.GetMessageWriter();
        try
        {
            writer.WriteSignalHeader(null, ObjectPaths.ManagerPath, PropertiesInterface, "PropertiesChanged", "sa{sv}as");
            writer.WriteString(ObjectPaths.ManagerInterface);
            Wire.WriteManagerProperties(ref writer, _service, [name]);
            writer.WriteArray(Array.Empty<string>());
            _connection.TrySendMessage(writer.CreateMessage());
        }
        finally
        {
            writer.Dispose();
        }
    }

    // ---- replies -------------------------------------------------------------------------------------------

    private void ReplyException(MethodContext context, Exception ex)
    {
        if (ex is InteropException interop)
        {
            ReplyError(context, interop);
            return;
        }

        var (name, message) = BusErrors.Describe(ex, out var unexpected);
        if (unexpected)
        {
            SafeLog(_log, $"{context.Request.InterfaceAsString}.{context.Request.MemberAsString} on {context.Request.PathAsString} failed: {ex.Message}", ex);
        }

        context.ReplyError(name, message);
    }

    /// <summary>An error reply that carries the message, then the error's typed fields (<see cref="ErrorCodec"/>).</summary>
    private static void ReplyError(MethodContext context, InteropException error)
    {
        if (context.NoReplyExpected || context.ReplySent)
        {
            return;
        }

        var writer = context.Connection.GetMessageWriter();
        try
        {
            var signature = ErrorCodec.Signature(error);
            RawHeader.WriteError(ref writer, NextErrorSerial(), context.Request.Serial, context.Request.SenderAsString, error.ErrorName, signature);
            ErrorCodec.WriteBody(ref writer, error);
            context.Reply(writer.CreateMessage());
        }
        finally
        {
            writer.Dispose();
        }
    }

    /// <summary>
    /// Serials for the error replies written by hand: from 2^31 up, away from the ones the library numbers its own
    /// messages with (from 1). Nothing answers an error, so a serial only has to be non-zero.
    /// </summary>
    private static uint NextErrorSerial() => (uint)Interlocked.Increment(ref s_errorSerial) | 0x8000_0000u;

    private static int s_errorSerial;

    private static bool CheckSignature(MethodContext context, string expected)
    {
        var actual = context.Request.SignatureAsString ?? string.Empty;
        if (actual == expected)
        {
            return true;
        }

        context.ReplyError(InvalidArgs, $"{context.Request.MemberAsString} expects arguments of type '{expected}', got '{actual}'");
        return false;
    }

    private static void ReplyEmpty(MethodContext context)
    {
        using var writer = context.CreateReplyWriter(null);
        context.Reply(writer.CreateMessage());
    }

    private static void ReplyPath(MethodContext context, Mapping mapping)
    {
        using var writer = context.CreateReplyWriter("o");
        writer.WriteObjectPath(ObjectPaths.ForContainer(mapping.Manager, mapping.Name));
        context.Reply(writer.CreateMessage());
    }

    private static void ReplyString(MethodContext context, string value)
    {
        using var writer = context.CreateReplyWriter("s");
        writer.WriteString(value);
        context.Reply(writer.CreateMessage());
    }

    private static void ReplyStrings(MethodContext context, IReadOnlyList<string> values)
    {
        using var writer = context.CreateReplyWriter("as");
        writer.WriteArray(values);
        context.Reply(writer.CreateMessage());
    }

    private static void ReplyBool(MethodContext context, bool value)
    {
        using var writer = context.CreateReplyWriter("b");
        writer.WriteBool(value);
        context.Reply(writer.CreateMessage());
    }

    /// <summary>A non-root caller changes a registered container only when the policy lets it (see <see cref="StartAsync"/>).</summary>
    private void DemandChange(uint uid, Manager manager, string name, string member)
    {
        if (uid == 0 || _mayChange is null)
        {
            return;
        }

        Mapping container;
        try
        {
            container = _service.GetContainer(manager, name);
        }
        catch (NoSuchContainerException)
        {
            return; // nothing registered to change
        }

        if (!_mayChange(uid, container))
        {
            throw new AccessDeniedException($"uid {uid} may not call {member} on {container.Id}: it neither runs it nor owns its cgroup (see docs/configuration.md)");
        }
    }

    /// <summary>
    /// Answers an open read that walks a container's cgroup tree (GetTasks) off the read loop, at most
    /// <see cref="MaxConcurrentWalks"/> at a time: however big a container's tree and however many callers ask,
    /// the hooks' calls behind it on the connection are read and answered meanwhile.
    /// </summary>
    private void RunWalk(MethodContext context, Func<Action<MethodContext>> walk) =>
        RunOffLoop(context, async _ =>
        {
            await _walks.WaitAsync().ConfigureAwait(false);
            try
            {
                return walk();
            }
            finally
            {
                _walks.Release();
            }
        });

    private void RunMutating(MethodContext context, Func<CancellationToken, Task<Action<MethodContext>>> call) =>
        RunMutating(context, (_, ct) => call(ct));

    /// <summary>Answers a mutating call off the read loop: check the caller, run the call (with the caller's uid), reply, dispose.</summary>
    private void RunMutating(MethodContext context, Func<uint, CancellationToken, Task<Action<MethodContext>>> call)
    {
        var member = context.Request.MemberAsString ?? string.Empty;
        var sender = context.Request.SenderAsString;
        RunOffLoop(context, async ct =>
        {
            var uid = await _authorizer.DemandAsync(sender, member).ConfigureAwait(false);
            return await call(uid, ct).ConfigureAwait(false);
        });
    }

    // ---- Properties ----------------------------------------------------------------------------------------

    private delegate bool PropertyWriter(ref MessageWriter writer, string name);

    private delegate void AllPropertiesWriter(ref MessageWriter writer);

    private static void HandleProperties(MethodContext context, string ownInterface, string[] names, PropertyWriter writeOne, AllPropertiesWriter writeAll)
    {
        var reader = context.Request.GetBodyReader();
        switch (context.Request.MemberAsString)
        {
            case "Get":
            {
                if (!CheckSignature(context, "ss"))
                {
                    return;
                }

                var iface = reader.ReadString();
                var name = reader.ReadString();
                if (iface != ownInterface)
                {
                    context.ReplyError(UnknownInterface, $"this object has no interface '{iface}'");
                    return;
                }

                if (!names.Contains(name, StringComparer.Ordinal))
                {
                    context.ReplyError(UnknownProperty, $"{ownInterface} has no property '{name}'");
                    return;
                }

                var writer = context.CreateReplyWriter("v");
                try
                {
                    writeOne(ref writer, name);
                    context.Reply(writer.CreateMessage());
                }
                finally
                {
                    writer.Dispose();
                }

                return;
            }

            case "GetAll":
            {
                if (!CheckSignature(context, "s"))
                {
                    return;
                }

                var iface = reader.ReadString();
                var writer = context.CreateReplyWriter("a{sv}");
                try
                {
                    if (iface == ownInterface || iface.Length == 0)
                    {
                        writeAll(ref writer);
                    }
                    else
                    {
                        // Other interfaces (Peer, Introspectable, Properties) have no properties.
                        writer.WriteDictionaryEnd(writer.WriteDictionaryStart());
                    }

                    context.Reply(writer.CreateMessage());
                }
                finally
                {
                    writer.Dispose();
                }

                return;
            }

            case "Set":
            {
                if (!CheckSignature(context, "ssv"))
                {
                    return;
                }

                var iface = reader.ReadString();
                var name = reader.ReadString();
                if (iface == ownInterface && names.Contains(name, StringComparer.Ordinal))
                {
                    context.ReplyError(PropertyReadOnly, $"{ownInterface}.{name} is read-only");
                }
                else
                {
                    context.ReplyError(UnknownProperty, $"{iface} has no property '{name}'");
                }

                return;
            }

            default:
                context.ReplyUnknownMethodError();
                return;
        }
    }

    // ---- manager object ------------------------------------------------------------------------------------

    private void HandleManager(MethodContext context)
    {
        var request = context.Request;
        if (context.IsDBusIntrospectRequest)
        {
            context.ReplyIntrospectXml([InterfaceXml.Manager, IntrospectionXml.DBusProperties]);
            return;
        }

        if (context.IsPropertiesInterfaceRequest)
        {
            HandleProperties(
                context,
                ObjectPaths.ManagerInterface,
                Wire.ManagerProperties,
                (ref MessageWriter w, string name) => Wire.WriteManagerProperty(ref w, name, _service),
                (ref MessageWriter w) => Wire.WriteManagerProperties(ref w, _service, Wire.ManagerProperties));
            return;
        }

        var iface = request.InterfaceAsString;
        if (iface is not null && iface != ObjectPaths.ManagerInterface)
        {
            context.ReplyUnknownMethodError();
            return;
        }

        var reader = request.GetBodyReader();
        switch (request.MemberAsString)
        {
            case "ListContainers":
            {
                if (CheckSignature(context, string.Empty))
                {
                    var list = _service.ListContainers();
                    var writer = context.CreateReplyWriter("a(sssuso)");
                    try
                    {
                        Wire.WriteContainerList(ref writer, list);
                        context.Reply(writer.CreateMessage());
                    }
                    finally
                    {
                        writer.Dispose();
                    }
                }

                return;
            }

            case "ListUnits":
            {
                if (CheckSignature(context, string.Empty))
                {
                    var writer = context.CreateReplyWriter("a(ssss)");
                    try
                    {
                        var array = writer.WriteArrayStart(DBusType.Struct);
                        foreach (var m in _service.ListContainers().Where(m => m.Unit.Length > 0 || m.Machine.Length > 0))
                        {
                            writer.WriteStructureStart();
                            writer.WriteString(m.Manager.ToWire());
                            writer.WriteString(m.Name);
                            writer.WriteString(m.Unit);
                            writer.WriteString(m.Machine);
                        }

                        writer.WriteArrayEnd(array);
                        context.Reply(writer.CreateMessage());
                    }
                    finally
                    {
                        writer.Dispose();
                    }
                }

                return;
            }

            case "GetContainer":
                if (CheckSignature(context, "ss"))
                {
                    var manager = ManagerNames.Parse(reader.ReadString());
                    ReplyPath(context, _service.GetContainer(manager, reader.ReadString()));
                }

                return;
            case "GetContainerByPid":
                if (CheckSignature(context, "u"))
                {
                    ReplyPath(context, _service.GetContainerByPid(reader.ReadUInt32()));
                }

                return;
            case "GetContainerByCgroup":
                if (CheckSignature(context, "s"))
                {
                    ReplyPath(context, _service.GetContainerByCgroup(reader.ReadString()));
                }

                return;
            case "PrepareContainer":
                if (CheckSignature(context, "ssa{ss}"))
                {
                    var (manager, name, facts) = ReadManagerNameFacts(ref reader);
                    RunMutating(context, async ct =>
                    {
                        await _service.PrepareContainerAsync(manager, name, facts, ct).ConfigureAwait(false);
                        return ReplyEmpty;
                    });
                }

                return;
            case "RegisterContainer":
                if (CheckSignature(context, "ssua{ss}"))
                {
                    var manager = ManagerNames.Parse(reader.ReadString());
                    var name = reader.ReadString();
                    var leader = reader.ReadUInt32();
                    var facts = Wire.ReadStringDictionary(ref reader);
                    RunMutating(context, async ct =>
                    {
                        var mapping = await _service.RegisterContainerAsync(manager, name, leader, facts, ct).ConfigureAwait(false);
                        return c => ReplyPath(c, mapping);
                    });
                }

                return;
            case "StopContainer":
                if (CheckSignature(context, "ssa{ss}"))
                {
                    var (manager, name, facts) = ReadManagerNameFacts(ref reader);
                    RunMutating(context, async (uid, ct) =>
                    {
                        DemandChange(uid, manager, name, "StopContainer");
                        await _service.StopContainerAsync(manager, name, facts, ct).ConfigureAwait(false);
                        return ReplyEmpty;
                    });
                }

                return;
            case "ReleaseContainer":
                if (CheckSignature(context, "ssa{ss}"))
                {
                    var (manager, name, facts) = ReadManagerNameFacts(ref reader);
                    RunMutating(context, async (uid, ct) =>
                    {
                        DemandChange(uid, manager, name, "ReleaseContainer");
                        var released = await _service.ReleaseContainerAsync(manager, name, facts, ct).ConfigureAwait(false);
                        return c => ReplyBool(c, released);
                    });
                }

                return;
            case "Setup":
                if (CheckSignature(context, string.Empty))
                {
                    RunMutating(context, async ct =>
                    {
                        var actions = await _service.SetupAsync(ct).ConfigureAwait(false);
                        return c => ReplyStrings(c, actions);
                    });
                }

                return;
            case "Prune":
                if (CheckSignature(context, "b"))
                {
                    var dryRun = reader.ReadBool();
                    RunMutating(context, async ct =>
                    {
                        var removed = await _service.PruneAsync(dryRun, ct).ConfigureAwait(false);
                        return c => ReplyStrings(c, removed);
                    });
                }

                return;
            case "GetMetrics":
                if (_metrics is not { } metrics)
                {
                    context.ReplyError(Failed, "this interopd exports no metrics");
                }
                else if (CheckSignature(context, string.Empty))
                {
                    RunRead(context, async ct =>
                    {
                        var text = await metrics(ct).ConfigureAwait(false);
                        return c => ReplyString(c, text);
                    });
                }

                return;
            default:
                context.ReplyUnknownMethodError();
                return;
        }
    }

    /// <summary>Answers a read that reads cgroupfs at length (GetMetrics) off the read loop; reads are open to every caller.</summary>
    private void RunRead(MethodContext context, Func<CancellationToken, Task<Action<MethodContext>>> call) => RunOffLoop(context, call);

    /// <summary>
    /// Answers a call off the bus read loop (a handler must never block it): run <paramref name="call"/>, apply its
    /// reply, or reply with the error it threw; the context is disposed in every case.
    /// </summary>
    private void RunOffLoop(MethodContext context, Func<CancellationToken, Task<Action<MethodContext>>> call)
    {
        context.DisposesAsynchronously = true;
        var member = context.Request.MemberAsString ?? string.Empty;
        _ = Task.Run(async () =>
        {
            try
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
                var reply = await call(linked.Token).ConfigureAwait(false);
                reply(context);
            }
            catch (Exception ex)
            {
                try
                {
                    ReplyException(context, ex);
                }
                catch (Exception replyEx)
                {
                    SafeLog(_log, $"cannot reply to {member}: {replyEx.Message}", replyEx);
                }
            }
            finally
            {
                context.Dispose();
            }
        });
    }

    private static (Manager Manager, string Name, Dictionary<string, string> Facts) ReadManagerNameFacts(ref Reader reader)
    {
        var manager = ManagerNames.Parse(reader.ReadString());
        var name = reader.ReadString();
        return (manager, name, Wire.ReadStringDictionary(ref reader));
    }

    // ---- container objects ---------------------------------------------------------------------------------

    private void HandleContainer(MethodContext context)
    {
        var request = context.Request;
        var path = request.PathAsString ?? string.Empty;
        if (path == ObjectPaths.ContainerParent)
        {
            if (context.IsDBusIntrospectRequest)
            {
                var children = _service.ListContainers().Select(m => ObjectPaths.Label(m.Manager, m.Name)).ToList();
                context.ReplyIntrospectXml([], children);
            }
            else
            {
                context.ReplyError(UnknownObject, $"{path} is a directory of containers, not an object; see its children");
            }

            return;
        }

        if (!ObjectPaths.TryParseContainer(path, out var id))
        {
            context.ReplyError(UnknownObject, $"no object at {path}");
            return;
        }

        // Throws NoSuchContainerException for a container that is not registered.
        var mapping = _service.GetContainer(id.Manager, id.Name);
        if (context.IsDBusIntrospectRequest)
        {
            context.ReplyIntrospectXml([InterfaceXml.Container, IntrospectionXml.DBusProperties]);
            return;
        }

        if (context.IsPropertiesInterfaceRequest)
        {
            HandleProperties(
                context,
                ObjectPaths.ContainerInterface,
                Wire.ContainerProperties,
                (ref MessageWriter w, string name) => Wire.WriteContainerProperty(ref w, name, mapping),
                (ref MessageWriter w) => Wire.WriteContainerProperties(ref w, mapping));
            return;
        }

        var iface = request.InterfaceAsString;
        if (iface is not null && iface != ObjectPaths.ContainerInterface)
        {
            context.ReplyUnknownMethodError();
            return;
        }

        var reader = request.GetBodyReader();
        switch (request.MemberAsString)
        {
            case "GetValue":
                if (CheckSignature(context, "s"))
                {
                    ReplyString(context, _service.GetValue(id.Manager, id.Name, reader.ReadString()));
                }

                return;
            case "SetValue":
                if (CheckSignature(context, "ss"))
                {
                    var key = reader.ReadString();
                    var value = reader.ReadString();
                    RunMutating(context, async (uid, ct) =>
                    {
                        DemandChange(uid, id.Manager, id.Name, "SetValue");
                        await _service.SetValueAsync(id.Manager, id.Name, key, value, ct).ConfigureAwait(false);
                        return ReplyEmpty;
                    });
                }

                return;
            case "GetTasks":
                if (CheckSignature(context, string.Empty))
                {
                    RunWalk(context, () =>
                    {
                        var tasks = _service.GetTasks(id.Manager, id.Name);
                        return c =>
                        {
                            using var writer = c.CreateReplyWriter("au");
                            writer.WriteArray(tasks as uint[] ?? tasks.ToArray());
                            c.Reply(writer.CreateMessage());
                        };
                    });
                }

                return;
            default:
                context.ReplyUnknownMethodError();
                return;
        }
    }

    private ValueTask Dispatch(MethodContext context, Action<MethodContext> handle)
    {
        try
        {
            handle(context);
        }
        catch (Exception ex)
        {
            ReplyException(context, ex);
        }

        return ValueTask.CompletedTask;
    }

    private sealed class ManagerHandler(InteropBusService owner) : IPathMethodHandler
    {
        public string Path => ObjectPaths.ManagerPath;

        public bool HandlesChildPaths => false;

        public ValueTask HandleMethodAsync(MethodContext context) => owner.Dispatch(context, owner.HandleManager);
    }

    private sealed class ContainerHandler(InteropBusService owner) : IPathMethodHandler
    {
        public string Path => ObjectPaths.ContainerParent;

        public bool HandlesChildPaths => true;

        public ValueTask HandleMethodAsync(MethodContext context) => owner.Dispatch(context, owner.HandleContainer);
    }
}
