using System.Collections.Concurrent;
using Interop.Core.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tmds.DBus.Protocol;

namespace Interop.DBus.Systemd;

/// <summary>
/// <see cref="ISystemdHost"/> on the system bus: org.freedesktop.systemd1 and org.freedesktop.machine1.
/// </summary>
/// <remarks>
/// Implementation notes.
/// - One connection of its own (not interopd's serving one), so a call made while a hook's call is being served
///   never waits on the read loop that serves it.
/// - Manager.Subscribe is called once at connect: without it systemd sends no JobRemoved/UnitRemoved signals.
///   The JobRemoved match is added before StartTransientUnit is called (a job can finish before its reply is
///   read), and the job is matched by the object path the reply returns.
/// - Errors: a D-Bus error reply becomes <see cref="SystemdException"/> naming the unit or machine; "no such
///   unit/machine" answers are results (null/false), not errors.
/// </remarks>
public sealed class SystemdBusClient : ISystemdHost, IDisposable
{
    private const string Systemd1 = "org.freedesktop.systemd1";
    private const string Systemd1Path = "/org/freedesktop/systemd1";
    private const string Systemd1Manager = "org.freedesktop.systemd1.Manager";
    private const string UnitInterface = "org.freedesktop.systemd1.Unit";
    private const string ScopeInterface = "org.freedesktop.systemd1.Scope";
    private const string Machine1 = "org.freedesktop.machine1";
    private const string Machine1Path = "/org/freedesktop/machine1";
    private const string Machine1Manager = "org.freedesktop.machine1.Manager";
    private const string MachineInterface = "org.freedesktop.machine1.Machine";
    private const string Properties = "org.freedesktop.DBus.Properties";

    private static readonly string[] NoUnitErrors = ["org.freedesktop.systemd1.NoSuchUnit", "org.freedesktop.systemd1.NoUnitForPID", "org.freedesktop.DBus.Error.UnixProcessIdUnknown"];
    private static readonly string[] NoMachineErrors = ["org.freedesktop.machine1.NoSuchMachine", "org.freedesktop.machine1.NoMachineForPID", "org.freedesktop.DBus.Error.UnixProcessIdUnknown"];

    private readonly DBusConnection _connection;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _finished = new(StringComparer.Ordinal);

    private readonly ILogger _log;

    private SystemdBusClient(DBusConnection connection, ILogger? log)
    {
        _connection = connection;
        _log = log ?? NullLogger.Instance;
    }

    private delegate void BodyWriter(ref MessageWriter writer);

    public event EventHandler<string>? MachineRemoved;

    public event EventHandler<string>? UnitRemoved;

    /// <summary>Connects to <paramref name="address"/> (default: the system bus), subscribes to systemd's and machined's signals.</summary>
    /// <param name="address">A D-Bus address; null for the system bus.</param>
    /// <param name="log">Told (a warning with the exception) when a handler of a signal failed: it never throws on the read loop.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    public static async Task<SystemdBusClient> ConnectAsync(string? address = null, ILogger? log = null, CancellationToken cancellationToken = default)
    {
        // Read by a thread of its own, as interopd's own connection (BusStream): every JobRemoved and UnitRemoved of the
        // host's units reaches interopd, one recv each.
        var connection = new DBusConnection(new Direct.BusStreamOptions(
            address ?? DBusAddress.System ?? throw new InvalidOperationException("the system bus address is unknown")));
        var client = new SystemdBusClient(connection, log);
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
            await client.SubscribeAsync().ConfigureAwait(false);
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        return client;
    }

    public void Dispose() => _connection.Dispose();

    public async Task<UnitInfo?> GetUnitByPidAsync(int pid, CancellationToken cancellationToken = default)
    {
        var path = await CallOrNullAsync(Systemd1, Systemd1Path, Systemd1Manager, "GetUnitByPID", "u", (ref MessageWriter w) => w.WriteUInt32((uint)pid), ReadObjectPath, $"the unit of pid {pid}", NoUnitErrors, cancellationToken).ConfigureAwait(false);
        return path is null ? null : await ReadUnitAsync(path, $"the unit of pid {pid}", cancellationToken).ConfigureAwait(false);
    }

    public async Task<UnitInfo?> GetUnitAsync(string unit, CancellationToken cancellationToken = default)
    {
        var path = await CallOrNullAsync(Systemd1, Systemd1Path, Systemd1Manager, "GetUnit", "s", (ref MessageWriter w) => w.WriteString(unit), ReadObjectPath, unit, NoUnitErrors, cancellationToken).ConfigureAwait(false);
        return path is null ? null : await ReadUnitAsync(path, unit, cancellationToken).ConfigureAwait(false);
    }

    public async Task StartScopeAsync(ScopeRequest request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var pending = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        string job;
        try
        {
            job = await CallAsync(Systemd1, Systemd1Path, Systemd1Manager, "StartTransientUnit", "ssa(sv)a(sa(sv))", (ref MessageWriter w) =>
            {
                w.WriteString(request.Unit);
                w.WriteString("fail");
                var props = w.WriteArrayStart(DBusType.Struct);
                Property(ref w, "Slice", (ref MessageWriter v) => v.WriteVariantString(request.Slice));
                Property(ref w, "Description", (ref MessageWriter v) => v.WriteVariantString(request.Description));
                Property(ref w, "Delegate", (ref MessageWriter v) => v.WriteVariantBool(true));
                Property(ref w, "CollectMode", (ref MessageWriter v) => v.WriteVariantString("inactive-or-failed"));
                // machinectl terminate stops the scope: LXC's monitor and a container init that ignores SIGTERM get SIGKILL after 10 s, not 90.
                Property(ref w, "TimeoutStopUSec", (ref MessageWriter v) => v.WriteVariantUInt64(10_000_000));
                foreach (var accounting in new[] { "CPUAccounting", "MemoryAccounting", "TasksAccounting", "IOAccounting", "BlockIOAccounting" })
                {
                    Property(ref w, accounting, (ref MessageWriter v) => v.WriteVariantBool(true));
                }

                Property(ref w, "PIDs", (ref MessageWriter v) =>
                {
                    v.WriteSignature("au");
                    v.WriteArray(new[] { (uint)request.Pid });
                });
                w.WriteArrayEnd(props);
                var aux = w.WriteArrayStart(DBusType.Struct);
                w.WriteArrayEnd(aux);
            }, ReadObjectPath, request.Unit, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SystemdException(request.Unit, "org.interop.Interop1.Error.Timeout", $"StartTransientUnit gave no answer in {timeout.TotalSeconds:F0} s");
        }

        _jobs[job] = pending;
        if (_finished.TryRemove(job, out var early))
        {
            pending.TrySetResult(early);
        }

        try
        {
            var result = await pending.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
            if (result != "done")
            {
                throw new SystemdException(request.Unit, "org.freedesktop.systemd1.JobFailed", $"the start job ended '{result}' (see journalctl -u {request.Unit})");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SystemdException(request.Unit, "org.interop.Interop1.Error.Timeout", $"the start job did not finish in {timeout.TotalSeconds:F0} s");
        }
        finally
        {
            _jobs.TryRemove(job, out _);
        }
    }

    public async Task<bool> StopUnitAsync(string unit, CancellationToken cancellationToken = default) =>
        await CallOrNullAsync(Systemd1, Systemd1Path, Systemd1Manager, "StopUnit", "ss", (ref MessageWriter w) =>
        {
            w.WriteString(unit);
            w.WriteString("replace");
        }, ReadObjectPath, unit, NoUnitErrors, cancellationToken).ConfigureAwait(false) is not null;

    public async Task<bool> ResetFailedUnitAsync(string unit, CancellationToken cancellationToken = default) =>
        await CallOrNullAsync(Systemd1, Systemd1Path, Systemd1Manager, "ResetFailedUnit", "s", (ref MessageWriter w) => w.WriteString(unit), static (m, _) => "ok", unit, NoUnitErrors, cancellationToken).ConfigureAwait(false) is not null;

    public Task SetUnitPropertiesAsync(string unit, IReadOnlyList<UnitProperty> properties, CancellationToken cancellationToken = default) =>
        CallAsync(Systemd1, Systemd1Path, Systemd1Manager, "SetUnitProperties", "sba(sv)", (ref MessageWriter w) =>
        {
            w.WriteString(unit);
            w.WriteBool(true);
            var props = w.WriteArrayStart(DBusType.Struct);
            foreach (var p in properties)
            {
                Property(ref w, p.Name, (ref MessageWriter v) =>
                {
                    if (p.Mask is { } mask)
                    {
                        v.WriteSignature("ay");
                        v.WriteArray(mask);
                    }
                    else
                    {
                        v.WriteVariantUInt64(p.Number);
                    }
                });
            }

            w.WriteArrayEnd(props);
        }, static (m, _) => "ok", unit, cancellationToken);

    public Task RegisterMachineAsync(MachineRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(Machine1, Machine1Path, Machine1Manager, "RegisterMachine", "sayssus", (ref MessageWriter w) =>
        {
            w.WriteString(request.Name);
            w.WriteArray(Array.Empty<byte>());
            w.WriteString(request.Service);
            w.WriteString("container");
            w.WriteUInt32((uint)request.Leader);
            w.WriteString(request.RootDirectory);
        }, ReadObjectPath, "machine " + request.Name, cancellationToken);

    public async Task<bool> UnregisterMachineAsync(string name, CancellationToken cancellationToken = default) =>
        await CallOrNullAsync(Machine1, Machine1Path, Machine1Manager, "UnregisterMachine", "s", (ref MessageWriter w) => w.WriteString(name), static (m, _) => "ok", "machine " + name, NoMachineErrors, cancellationToken).ConfigureAwait(false) is not null;

    public async Task<string?> GetMachineByPidAsync(int pid, CancellationToken cancellationToken = default)
    {
        var path = await CallOrNullAsync(Machine1, Machine1Path, Machine1Manager, "GetMachineByPID", "u", (ref MessageWriter w) => w.WriteUInt32((uint)pid), ReadObjectPath, $"the machine of pid {pid}", NoMachineErrors, cancellationToken).ConfigureAwait(false);
        return path is null ? null : await GetStringAsync(Machine1, path, MachineInterface, "Name", $"the machine of pid {pid}", cancellationToken).ConfigureAwait(false);
    }

    private static void Property(ref MessageWriter writer, string name, BodyWriter value)
    {
        writer.WriteStructureStart();
        writer.WriteString(name);
        value(ref writer);
    }

    private static string ReadObjectPath(Message message, object? state) => message.GetBodyReader().ReadObjectPathAsString();

    private async Task SubscribeAsync()
    {
        await _connection.AddMatchAsync(
            new MatchRule { Type = MessageType.Signal, Sender = Systemd1, Path = Systemd1Path, Interface = Systemd1Manager, Member = "JobRemoved" },
            static (Message m, object? _) =>
            {
                var r = m.GetBodyReader();
                r.ReadUInt32();
                var job = r.ReadObjectPathAsString();
                r.ReadString();
                return (job, r.ReadString());
            },
            (Notification<(string Job, string Result)> n) =>
            {
                if (!n.HasValue)
                {
                    return;
                }

                if (_jobs.TryGetValue(n.Value.Job, out var tcs))
                {
                    tcs.TrySetResult(n.Value.Result);
                    return;
                }

                // Maybe ours, its reply not yet seen by the caller: keep the last few results.
                if (_finished.Count > 256)
                {
                    _finished.Clear();
                }

                _finished[n.Value.Job] = n.Value.Result;
            },
            false,
            ObserverFlags.None,
            null).ConfigureAwait(false);
        await _connection.AddMatchAsync(
            new MatchRule { Type = MessageType.Signal, Sender = Systemd1, Path = Systemd1Path, Interface = Systemd1Manager, Member = "UnitRemoved" },
            static (Message m, object? _) => m.GetBodyReader().ReadString(),
            (Notification<string> n) => Raise(UnitRemoved, n),
            false,
            ObserverFlags.None,
            null).ConfigureAwait(false);
        await _connection.AddMatchAsync(
            new MatchRule { Type = MessageType.Signal, Sender = Machine1, Path = Machine1Path, Interface = Machine1Manager, Member = "MachineRemoved" },
            static (Message m, object? _) => m.GetBodyReader().ReadString(),
            (Notification<string> n) => Raise(MachineRemoved, n),
            false,
            ObserverFlags.None,
            null).ConfigureAwait(false);
        await CallAsync(Systemd1, Systemd1Path, Systemd1Manager, "Subscribe", null, null, static (m, _) => "ok", "the manager's signals", CancellationToken.None).ConfigureAwait(false);

        // A handler must never throw on the read loop, and runs off it so that it may call back into systemd.
        void Raise(EventHandler<string>? handler, Notification<string> n)
        {
            if (n.HasValue && handler is not null)
            {
                var value = n.Value;
                ThreadPool.QueueUserWorkItem(_ =>
                {
                    try
                    {
                        handler(this, value);
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        _log.LogWarning(ex, "handling the removal of {0} failed", value);
                    }
                });
            }
        }
    }

    private async Task<UnitInfo> ReadUnitAsync(string path, string subject, CancellationToken cancellationToken)
    {
        var id = await GetStringAsync(Systemd1, path, UnitInterface, "Id", subject, cancellationToken).ConfigureAwait(false);
        var state = await GetStringAsync(Systemd1, path, UnitInterface, "ActiveState", subject, cancellationToken).ConfigureAwait(false);
        var iface = id.EndsWith(".scope", StringComparison.Ordinal) ? ScopeInterface
            : id.EndsWith(".service", StringComparison.Ordinal) ? "org.freedesktop.systemd1.Service"
            : id.EndsWith(".slice", StringComparison.Ordinal) ? "org.freedesktop.systemd1.Slice" : null;
        if (iface is null)
        {
            return new UnitInfo(id, "", false, state);
        }

        var cgroup = await GetStringAsync(Systemd1, path, iface, "ControlGroup", subject, cancellationToken).ConfigureAwait(false);
        var delegated = !id.EndsWith(".slice", StringComparison.Ordinal) && await CallAsync(Systemd1, path, Properties, "Get", "ss", (ref MessageWriter w) =>
        {
            w.WriteString(iface);
            w.WriteString("Delegate");
        }, static (m, _) =>
        {
            var r = m.GetBodyReader();
            r.ReadSignature("b");
            return r.ReadBool();
        }, subject, cancellationToken).ConfigureAwait(false);
        return new UnitInfo(id, cgroup, delegated, state);
    }

    private Task<string> GetStringAsync(string destination, string path, string iface, string property, string subject, CancellationToken cancellationToken) =>
        CallAsync(destination, path, Properties, "Get", "ss", (ref MessageWriter w) =>
        {
            w.WriteString(iface);
            w.WriteString(property);
        }, static (m, _) =>
        {
            var r = m.GetBodyReader();
            r.ReadSignature("s");
            return r.ReadString();
        }, subject, cancellationToken);

    private async Task<T?> CallOrNullAsync<T>(string destination, string path, string iface, string member, string? signature, BodyWriter? body, MessageValueReader<T> reader, string subject, string[] absent, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await CallAsync(destination, path, iface, member, signature, body, reader, subject, cancellationToken).ConfigureAwait(false);
        }
        catch (SystemdException e) when (absent.Contains(e.DBusError, StringComparer.Ordinal))
        {
            return null;
        }
    }

    private async Task<T> CallAsync<T>(string destination, string path, string iface, string member, string? signature, BodyWriter? body, MessageValueReader<T> reader, string subject, CancellationToken cancellationToken)
    {
        MessageBuffer message;
        var writer = _connection.GetMessageWriter();
        try
        {
            writer.WriteMethodCallHeader(destination, path, iface, member, signature, MessageFlags.None);
            body?.Invoke(ref writer);
            message = writer.CreateMessage();
        }
        finally
        {
            writer.Dispose();
        }

        try
        {
            return await _connection.CallMethodAsync(message, reader).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DBusErrorReplyException e)
        {
            throw new SystemdException(subject, e.ErrorName, e.ErrorMessage, e);
        }
        catch (DBusConnectionClosedException e)
        {
            throw new SystemdException(subject, "org.freedesktop.DBus.Error.Disconnected", e.Message, e);
        }
    }
}
