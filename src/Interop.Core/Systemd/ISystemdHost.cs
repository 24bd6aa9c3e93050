namespace Interop.Core.Systemd;

/// <summary>
/// What Interop asks of systemd (org.freedesktop.systemd1.Manager) and systemd-machined
/// (org.freedesktop.machine1.Manager) on a systemd host. Interop.DBus has the real one (SystemdBusClient, on the
/// system bus); tests of the logic substitute it. Refusals are <see cref="SystemdException"/>s naming the unit or
/// machine, with the D-Bus error name and message.
/// </summary>
public interface ISystemdHost
{
    /// <summary>Raised (never on a caller's thread of a method here) when machined forgets a machine: the machine's name.</summary>
    event EventHandler<string>? MachineRemoved;

    /// <summary>Raised when systemd unloads a unit: the unit's name.</summary>
    event EventHandler<string>? UnitRemoved;

    /// <summary>GetUnitByPID, then the unit's Id, ControlGroup, Delegate and ActiveState; null when the pid is in no unit.</summary>
    Task<UnitInfo?> GetUnitByPidAsync(int pid, CancellationToken cancellationToken = default);

    /// <summary>GetUnit, then its properties; null when systemd has no such unit loaded.</summary>
    Task<UnitInfo?> GetUnitAsync(string unit, CancellationToken cancellationToken = default);

    /// <summary>
    /// StartTransientUnit(scope, "fail", properties) with Slice, Delegate=yes, PIDs=[pid], Description,
    /// CollectMode=inactive-or-failed and the accounting that makes systemd realize the scope in every hierarchy
    /// it manages; waits for the job (JobRemoved) up to <paramref name="timeout"/>.
    /// </summary>
    /// <remarks>Returns once the job is done: the pid is in the scope's cgroup, which /proc/PID/cgroup then shows.</remarks>
    Task StartScopeAsync(ScopeRequest request, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>StopUnit(unit, "replace") without waiting for the job; false when there is no such unit.</summary>
    Task<bool> StopUnitAsync(string unit, CancellationToken cancellationToken = default);

    /// <summary>ResetFailedUnit; false when there is no such unit.</summary>
    Task<bool> ResetFailedUnitAsync(string unit, CancellationToken cancellationToken = default);

    /// <summary>SetUnitProperties(unit, runtime = true, properties).</summary>
    Task SetUnitPropertiesAsync(string unit, IReadOnlyList<UnitProperty> properties, CancellationToken cancellationToken = default);

    /// <summary>machined RegisterMachine(name, id, service, "container", leader, root): registers the unit the leader already runs in.</summary>
    Task RegisterMachineAsync(MachineRequest request, CancellationToken cancellationToken = default);

    /// <summary>machined UnregisterMachine; false when machined has no such machine.</summary>
    Task<bool> UnregisterMachineAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>machined GetMachineByPID, then the machine's Name; null when the pid belongs to no machine.</summary>
    Task<string?> GetMachineByPidAsync(int pid, CancellationToken cancellationToken = default);
}

/// <param name="Id">The unit's name ("lxc-web.scope").</param>
/// <param name="ControlGroup">Its cgroup path ("/machine.slice/lxc-web.scope"); empty when not realized.</param>
/// <param name="Delegate">Whether the unit's cgroup is delegated (Delegate=yes).</param>
/// <param name="ActiveState">"active", "failed", ...</param>
public sealed record UnitInfo(string Id, string ControlGroup, bool Delegate, string ActiveState);

public sealed record ScopeRequest(string Unit, string Slice, int Pid, string Description);

/// <param name="Name">The machine name (<see cref="SystemdUnits.MachineName"/>).</param>
/// <param name="Service">"lxc".</param>
/// <param name="Leader">The container's init.</param>
/// <param name="RootDirectory">The container's root file system, or empty.</param>
public sealed record MachineRequest(string Name, string Service, int Leader, string RootDirectory);

/// <summary>systemd or machined refused a call: one line naming the unit (or machine), the D-Bus error name and message.</summary>
public sealed class SystemdException : InteropException
{
    public SystemdException(string subject, string dbusError, string message, Exception? inner = null)
        : this($"systemd refused {subject}: {dbusError}: {message}", subject, dbusError, message, inner)
    {
    }

    /// <summary>An error as a client received it: interopd's message and its fields.</summary>
    public SystemdException(string message, string subject, string dbusError, string systemdMessage, Exception? inner = null)
        : base(message, inner)
    {
        Subject = subject;
        DBusError = dbusError;
        SystemdMessage = systemdMessage;
    }

    /// <summary>The unit or machine the call was about.</summary>
    public string Subject { get; }

    /// <summary>The D-Bus error name systemd answered (e.g. org.freedesktop.systemd1.NoSuchUnit).</summary>
    public string DBusError { get; }

    /// <summary>systemd's own message with that error.</summary>
    public string SystemdMessage { get; }

    public override string ErrorName => Prefix + "Systemd";
}
