using System.Globalization;
using Interop.Core;
using Interop.Core.Adapters.Lxc;
using Interop.Core.Model;
using Interop.Core.Systemd;
using Interop.Core.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Interop.Service;

/// <summary>
/// What interopd does on a systemd host (DESIGN.md section 14): each container runs in a unit of its own in the
/// shared slice, the unit's path is mirrored in the hierarchies systemd does not manage, LXC containers are
/// registered with machined, limits go through systemd, and units are left to systemd.
/// </summary>
/// <remarks>
/// Implementation notes.
/// - LXC pre-start runs before LXC sets up any cgroup (start.c lxc_init: the hook, then cgroup_init), and with
///   lxc.cgroup.relative = 1 LXC bases every cgroup on its monitor's own cgroup per hierarchy. So pre-start puts
///   the monitor (and only it) into a delegated unit: the one it already runs in when that is a delegated unit
///   directly in the slice (lxc@NAME.service with Interop's drop-in), else a new transient scope
///   lxc-NAME.scope (StartTransientUnit with PIDs=[monitor]). Then, in every hierarchy systemd does not manage,
///   the monitor moves to the same path below the slice, which Interop prepared (clone_children, cpuset).
/// - start-host registers the container with machined (RegisterMachine: the unit the init runs in; never
///   CreateMachine, which would move the init out of lxc.payload.NAME).
/// - libvirt registers its domains with machined itself (a scope per domain); started/reconnect only learn the
///   unit and the machine (GetUnitByPID, GetMachineByPID) and mirror the path.
/// - The mirrored dirs stay while the unit has processes (LXC's monitor sits in &lt;unit&gt;/lxc.pivot after
///   post-stop until it exits); they are removed when systemd drops the unit (UnitRemoved), or by the reaper once
///   systemd no longer knows the unit.
/// - Calls block the daemon's gate while they run (as cgroupfs writes do); each has a deadline.
/// </remarks>
public sealed class SystemdCoordinator
{
    private readonly ILogger _log;
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);

    private readonly ISystemdHost _systemd;
    private readonly ICgroupHost _host;

    /// <param name="systemd">systemd and machined.</param>
    /// <param name="host">cgroupfs; on a systemd host it writes only the hierarchies systemd does not manage.</param>
    /// <param name="slice">The shared slice ("machine.slice").</param>
    /// <param name="jobTimeout">How long a scope's start job may take.</param>
    /// <param name="log">Where it logs (nothing when null).</param>
    public SystemdCoordinator(ISystemdHost systemd, ICgroupHost host, string slice, TimeSpan? jobTimeout = null, ILogger<SystemdCoordinator>? log = null)
    {
        _log = log ?? NullLogger<SystemdCoordinator>.Instance;
        _systemd = systemd;
        _host = host;
        Slice = SystemdUnits.ValidateSlice(slice);
        JobTimeout = jobTimeout ?? TimeSpan.FromSeconds(10);
        _systemd.UnitRemoved += (_, unit) => OnUnitRemoved(unit);
    }

    /// <summary>machined forgot a machine (machinectl terminate, or the unit went): its name.</summary>
    /// <summary>systemd dropped a container's unit (after <see cref="OnUnitRemoved"/> cleaned its mirrors).</summary>
    public event EventHandler<string>? UnitGone;

    public event EventHandler<string>? MachineRemoved
    {
        add => _systemd.MachineRemoved += value;
        remove => _systemd.MachineRemoved -= value;
    }

    public string Slice { get; }

    public TimeSpan JobTimeout { get; }

    /// <summary>
    /// LXC pre-start: puts LXC's monitor into a delegated unit of its own in the slice and mirrors it.
    /// On failure nothing is left behind (a scope made here is stopped, dirs made here are removed).
    /// </summary>
    /// <returns>The unit's name.</returns>
    /// <exception cref="InvalidInputException">the hook sent no usable parent pid.</exception>
    /// <exception cref="ConflictException">no monitor found, or a unit of that name is still active.</exception>
    /// <exception cref="SystemdException">systemd refused.</exception>
    public string PrepareLxc(string name, IReadOnlyDictionary<string, string> facts)
    {
        var parentText = facts.GetValueOrDefault(FactKeys.ParentPid);
        if (parentText is null)
        {
            throw new InvalidInputException(FactKeys.ParentPid, $"LXC pre-start of {Printable.Of(name)} came without the hook's parent pid; on a systemd host interopctl sends it (use the interopctl that came with this interopd)");
        }

        var parent = Names.ParsePid(parentText, FactKeys.ParentPid);
        var monitor = LxcMonitor.Find(parent, name, _host.ReadCmdline, _host.ParentOf);
        if (monitor == 0)
        {
            throw new ConflictException($"cannot find LXC's monitor of {Printable.Of(name)} above pid {parent} (no '[lxc monitor] PATH {Printable.Of(name)}' or 'lxc-start -n {Printable.Of(name)}' ancestor); start it with lxc-start or systemctl start lxc@{Printable.Of(name)}", new ContainerId(Manager.Lxc, name).ToString());
        }

        // The unit the monitor runs in matters only when it could be lxc@NAME.service with Interop's drop-in: a
        // unit directly in the slice. Its path in /proc says so without a round trip (four, with its properties).
        var seen = _host.ReadProcCgroup(monitor) ?? throw new ConflictException($"LXC's monitor of {Printable.Of(name)} (pid {monitor}) is gone", new ContainerId(Manager.Lxc, name).ToString());
        if (MayBeOwnUnit(seen) && Call(t => _systemd.GetUnitByPidAsync(monitor, t)) is { } current && IsOwnDelegatedUnit(current))
        {
            _log.LogInformation("lxc {0}: monitor {1} runs in {2} ({3}); kept", name, monitor, current.Id, current.ControlGroup);
            Mirror(current, monitor, [monitor], created: false, seen: seen);
            return current.Id;
        }

        var scope = SystemdUnits.LxcScopeName(name);
        var request = new ScopeRequest(scope, Slice, monitor, $"LXC container {name}");
        (UnitInfo Unit, IReadOnlyDictionary<string, string>? Cgroups) started;
        try
        {
            started = StartScope(request);
        }
        catch (SystemdException e) when (e.DBusError == "org.freedesktop.systemd1.UnitExists")
        {
            // A unit of that name is still loaded (asked only now: a start with none costs no round trip for it).
            var leftover = Call(t => _systemd.GetUnitAsync(scope, t));
            if (leftover is { ActiveState: "active" or "activating" or "reloading" or "deactivating" })
            {
                throw new ConflictException($"{scope} is still {leftover.ActiveState}; lxc {Printable.Of(name)} cannot get its unit until it is gone (systemctl stop {scope})", new ContainerId(Manager.Lxc, name).ToString());
            }

            if (leftover is { ActiveState: "failed" })
            {
                Call(t => _systemd.ResetFailedUnitAsync(scope, t));
            }

            started = StartScope(request);
        }

        var unit = started.Unit;
        _log.LogInformation("lxc {0}: monitor {1} moved into new scope {2} ({3})", name, monitor, unit.Id, unit.ControlGroup);
        Mirror(unit, monitor, [monitor], created: true, seen: started.Cgroups);
        return unit.Id;
    }

    /// <summary>
    /// started/start-host/reconnect: the container's unit and machine, with its path mirrored where systemd does
    /// not manage the hierarchy. LXC containers are registered with machined here.
    /// </summary>
    /// <param name="mapping">The mapping as read from the leader's /proc/PID/cgroup.</param>
    /// <param name="facts">The hook's facts (rootfs_path for LXC).</param>
    /// <param name="redescribe">Reads the mapping again (after the leader's processes moved).</param>
    /// <exception cref="SystemdException">systemd or machined refused.</exception>
    /// <exception cref="NotInSharedRootException">the leader is in no unit in the slice.</exception>
    public Mapping Complete(Mapping mapping, IReadOnlyDictionary<string, string> facts, Func<Mapping> redescribe)
    {
        // The leader's unit is the unit dir right below the slice on its path in systemd's hierarchy (a delegated unit
        // owns everything below its cgroup): read from /proc, without GetUnitByPID and four properties. Anything else
        // (not below the slice, a name cgroupfs escaped) is systemd's to answer.
        var seen = _host.ReadProcCgroup(mapping.Leader);
        var unit = (seen is null ? null : UnitInSlice(seen)) ?? Call(t => _systemd.GetUnitByPidAsync(mapping.Leader, t));
        if (unit is null || !CgroupPath.Of(unit.ControlGroup).IsBelow(CgroupPath.Of(Slice)))
        {
            throw new NotInSharedRootException($"{mapping.Id} (pid {mapping.Leader}) runs in {unit?.Id ?? "no unit"}, not in a unit of its own in {Slice}; LXC: include /usr/share/interop/lxc.conf (lxc.cgroup.relative = 1); libvirt: use a partition under /{Slice}", mapping.Id.ToString());
        }

        // The container's own path is below the unit (lxc.payload.NAME, libvirt's "libvirt" child): mirror that.
        var pids = mapping.Manager == Manager.Libvirt ? DomainPids(mapping.Leader, unit.ControlGroup) : [mapping.Leader];
        if (Mirror(unit, mapping.Leader, pids, created: false, below: true, seen: seen))
        {
            mapping = redescribe();
        }

        string machine;
        if (mapping.Manager == Manager.Lxc)
        {
            machine = SystemdUnits.MachineName(mapping.Name);
            var known = Call(t => _systemd.GetMachineByPidAsync(mapping.Leader, t));
            if (known != machine)
            {
                Call(t => _systemd.RegisterMachineAsync(new MachineRequest(machine, "lxc", mapping.Leader, facts.GetValueOrDefault(FactKeys.RootfsPath, "")), t));
                _log.LogInformation("lxc {0}: registered with machined as {1} (unit {2})", mapping.Name, machine, unit.Id);
            }
        }
        else
        {
            machine = Call(t => _systemd.GetMachineByPidAsync(mapping.Leader, t)) ?? "";
        }

        return mapping with { Unit = unit.Id, Machine = machine };
    }

    /// <summary>post-stop/release: unregisters an LXC machine, resets a failed unit. Never throws (logged).</summary>
    public void Release(Mapping old)
    {
        try
        {
            if (old.Manager == Manager.Lxc && old.Machine.Length > 0 && Call(t => _systemd.UnregisterMachineAsync(old.Machine, t)))
            {
                _log.LogInformation("lxc {0}: unregistered machine {1}", old.Name, old.Machine);
            }

            if (old.Unit.Length > 0)
            {
                ResetIfFailed(old.Unit);
                if (Call(t => _systemd.GetUnitAsync(old.Unit, t)) is null)
                {
                    OnUnitRemoved(old.Unit);
                }
            }
        }
        catch (InteropException e)
        {
            _log.LogWarning("release {0}: {1}", old.Id, e.Message);
        }
    }

    /// <summary>Where a container's cgroups appear: LXC's below its unit in the slice; libvirt's in the slice of its partition (/machine is machine.slice).</summary>
    public string ParentDir(Manager manager, string sharedRootDir, IReadOnlyDictionary<string, string> facts) =>
        manager == Manager.Lxc ? sharedRootDir : SystemdEscape.SliceDir(SystemdEscape.SliceName(facts.GetValueOrDefault(FactKeys.Partition, "/machine")));

    /// <summary>A failed container unit is reset (systemd then forgets it), never rmdir'ed.</summary>
    public void ResetIfFailed(string unit)
    {
        if (Call(t => _systemd.GetUnitAsync(unit, t)) is { ActiveState: "failed" })
        {
            Call(t => _systemd.ResetFailedUnitAsync(unit, t));
            _log.LogInformation("reset failed unit {0}", unit);
        }
    }

    /// <summary><c>interopctl set</c> on a systemd host: SetUnitProperties(unit, runtime) for keys systemd has a property for.</summary>
    /// <exception cref="InvalidInputException">the key has no systemd property, or the value does not parse.</exception>
    /// <exception cref="SystemdException">systemd refused.</exception>
    public IReadOnlyList<UnitProperty> SetLimit(Mapping mapping, string key, string value)
    {
        var properties = SystemdLimits.Map(key, value, mapping.Unit);
        Call(t => _systemd.SetUnitPropertiesAsync(mapping.Unit, properties, t));
        return properties;
    }

    /// <summary>
    /// The reaper's extra rule: a dir named like a unit (*.scope, *.service, *.slice) is left alone while systemd
    /// knows the unit (and a failed one is reset). Interop prunes only hierarchies systemd does not manage.
    /// </summary>
    public Func<string, bool> Ownership(Func<string, bool> owned) => relPath =>
    {
        if (owned(relPath))
        {
            return true;
        }

        var parts = CgroupPath.Of(relPath).Relative.Split('/');
        var unitName = parts.LastOrDefault(SystemdUnits.IsUnitDir);
        if (unitName is null)
        {
            return false;
        }

        try
        {
            var unit = Call(t => _systemd.GetUnitAsync(unitName, t));
            if (unit is { ActiveState: "failed" })
            {
                Call(t => _systemd.ResetFailedUnitAsync(unitName, t));
                return false;
            }

            return unit is not null;
        }
        catch (SystemdException e)
        {
            _log.LogWarning("prune: {0}; leaving {1}", e.Message, relPath);
            return true;
        }
    };

    /// <summary>
    /// The service or scope directly in the slice that the process is in or below, where every hierarchy systemd tracks
    /// units in says the same; null when one says otherwise (systemd then answers), there is none, or its dir name may
    /// be escaped (cgroupfs prefixes '_' to some unit names). <see cref="UnitInfo.Delegate"/> is not known this way (false).
    /// </summary>
    private UnitInfo? UnitInSlice(IReadOnlyDictionary<string, string> cgroups)
    {
        var names = SystemdHierarchies.UnitPathsOf(cgroups).Select(UnitDirInSlice).Distinct(StringComparer.Ordinal).ToList();
        return names is [{ } name] && !name.StartsWith('_')
            ? new UnitInfo(name, "/" + Slice + "/" + name, Delegate: false, ActiveState: "active")
            : null;
    }

    /// <summary>
    /// True when the pid's path in a hierarchy systemd tracks units in is in (or below: lxc.pivot after a reboot) a service
    /// or scope directly in the slice, or unknown.
    /// </summary>
    private bool MayBeOwnUnit(IReadOnlyDictionary<string, string> cgroups) =>
        SystemdHierarchies.UnitPathsOf(cgroups) is var paths && (paths.Count == 0 || paths.Any(p => UnitDirInSlice(p) is not null));

    /// <summary>The dir name of the service or scope directly in the slice that <paramref name="path"/> is in or below; null when there is none.</summary>
    private string? UnitDirInSlice(string path)
    {
        var prefix = "/" + Slice + "/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var end = path.IndexOf('/', prefix.Length);
        var name = end < 0 ? path[prefix.Length..] : path[prefix.Length..end];
        return name.EndsWith(".scope", StringComparison.Ordinal) || name.EndsWith(".service", StringComparison.Ordinal) ? name : null;
    }

    /// <summary>
    /// Starts the scope and waits for its job; its cgroup is then where /proc/PID/cgroup puts the pid in systemd's
    /// hierarchy (the scope holds only that pid, and LXC waits for the hook), so systemd is not asked for it.
    /// </summary>
    /// <returns>The scope, and the pid's cgroups as read after the job (null when it is gone).</returns>
    private (UnitInfo Unit, IReadOnlyDictionary<string, string>? Cgroups) StartScope(ScopeRequest request)
    {
        Call(t => _systemd.StartScopeAsync(request, JobTimeout, t), JobTimeout + CallTimeout);
        var expected = "/" + Slice + "/" + request.Unit;
        var cgroups = _host.ReadProcCgroup(request.Pid);
        if (cgroups is not null && SystemdHierarchies.UnitPathsOf(cgroups) is { Count: > 0 } paths && paths.All(p => p == expected))
        {
            return (new UnitInfo(request.Unit, expected, true, "active"), cgroups);
        }

        // Not where systemd's own path would be (the pid gone, or a view of the hierarchy unlike systemd's): ask it.
        var unit = Call(t => _systemd.GetUnitAsync(request.Unit, t))
            ?? throw new SystemdException(request.Unit, "org.freedesktop.systemd1.NoSuchUnit", "the scope was gone right after it started");
        return (unit, cgroups);
    }

    /// <summary>True when the unit is a delegated service or scope directly in the slice (lxc@NAME.service with Interop's drop-in).</summary>
    internal bool IsOwnDelegatedUnit(UnitInfo unit) =>
        unit.Delegate
        && (unit.Id.EndsWith(".scope", StringComparison.Ordinal) || unit.Id.EndsWith(".service", StringComparison.Ordinal))
        && unit.ControlGroup == "/" + Slice + "/" + unit.Id;

    /// <summary>One call to systemd or machined, with its deadline, waited for (the caller holds the daemon's gate).</summary>
    /// <exception cref="SystemdException">systemd refused, or gave no answer before the deadline.</exception>
    private static T Call<T>(Func<CancellationToken, Task<T>> call, TimeSpan? timeout = null)
    {
        var limit = timeout ?? CallTimeout;
        using var deadline = new CancellationTokenSource(limit);
        try
        {
            return call(deadline.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException e)
        {
            throw new SystemdException("the call", "org.interop.Interop1.Error.Timeout", $"systemd or machined gave no answer in {limit.TotalSeconds:F0} s", e);
        }
    }

    private static void Call(Func<CancellationToken, Task> call, TimeSpan? timeout = null) => Call(async t =>
    {
        await call(t).ConfigureAwait(false);
        return true;
    }, timeout);

    /// <summary>The pids of a libvirt domain: every pid in the unit's cgroup (the controller and the container).</summary>
    private List<int> DomainPids(int leader, string unitPath)
    {
        var key = _host.Hierarchies.Select(h => h.Key).FirstOrDefault(k => k is "name=systemd") ?? _host.Hierarchies.Select(h => h.Key).FirstOrDefault(k => k is "unified");
        var pids = key is null ? [] : _host.Tasks(key, CgroupPath.Of(unitPath).Relative).Select(p => (int)p).ToList();
        if (!pids.Contains(leader))
        {
            pids.Insert(0, leader);
        }

        return pids;
    }

    /// <summary>
    /// Makes the unit's path (the process's own path when <paramref name="below"/>: libvirt's "libvirt" child)
    /// exist in every hierarchy systemd does not manage, and moves <paramref name="pids"/> there.
    /// <paramref name="seen"/>: <paramref name="probe"/>'s cgroups when just read (else they are read here).
    /// </summary>
    /// <returns>True when something moved.</returns>
    private bool Mirror(UnitInfo unit, int probe, IReadOnlyList<int> pids, bool created, bool below = false, IReadOnlyDictionary<string, string>? seen = null)
    {
        var cgroups = seen ?? _host.ReadProcCgroup(probe) ?? throw new InvalidInputException("pid", $"pid {probe} is gone");
        var target = unit.ControlGroup;
        if (below)
        {
            var own = cgroups.Where(c => c.Key is "name=systemd" or "unified").Select(c => c.Value).FirstOrDefault(v => CgroupPath.Of(v).IsBelow(CgroupPath.Of(unit.ControlGroup)));
            target = own ?? target;
        }

        var plan = SystemdHierarchies.Plan(cgroups, target);
        foreach (var key in plan.Unrealized)
        {
            // Seen with systemd 252 on a hybrid host: a delegated scope realized in cpu, memory, pids, blkio but
            // not in cpuacct (left at /) nor devices (left at the slice). LXC would then make its payload there,
            // outside every unit; systemd does not manage this unit there, so it is mirrored like an unmanaged one
            // (the missing dirs only, nothing written into systemd's).
            _log.LogWarning("{0}: systemd did not realize the unit in the {1} hierarchy (pid {2} is at {3} there); mirrored", unit.Id, key, probe, cgroups[key]);
        }

        var rel = CgroupPath.Of(target).Relative;
        var made = new List<string>();
        var keys = plan.Mirror.Concat(plan.Unrealized).ToList();
        try
        {
            foreach (var key in keys)
            {
                foreach (var action in _host.EnsureDirIn(key, rel))
                {
                    _log.LogInformation("{0}: {1}", unit.Id, action);
                }

                made.Add(key);
                foreach (var pid in pids)
                {
                    _host.MoveProcess(key, rel, pid);
                }
            }
        }
        catch (InteropException)
        {
            if (created)
            {
                Undo(unit.Id, made, rel);
            }

            throw;
        }

        if (keys.Count > 0)
        {
            _log.LogInformation("{0}: pid{1} {2} mirrored at {3} in {4}", unit.Id, pids.Count == 1 ? "" : "s", string.Join(",", pids.Select(p => p.ToString(CultureInfo.InvariantCulture))), target, string.Join(", ", keys));
        }

        return keys.Count > 0;
    }

    private void Undo(string unit, IReadOnlyList<string> keys, string rel)
    {
        try
        {
            Call(t => _systemd.StopUnitAsync(unit, t));
        }
        catch (SystemdException e)
        {
            _log.LogWarning("{0}", e.Message);
        }

        foreach (var key in keys)
        {
            try
            {
                _host.RemoveIfEmptyIn(key, rel);
            }
            catch (InteropException e)
            {
                _log.LogWarning("{0}: {1}", unit, e.Message);
            }
        }
    }

    /// <summary>
    /// systemd dropped a unit: remove what is left of its dir below the slice in the v1 hierarchies (the mirrors
    /// Interop made, LXC's lxc.pivot in them), when empty. Nothing is tracked in memory, so this also works for a
    /// unit started before interopd's last restart; systemd has removed its own dirs by now.
    /// </summary>
    private void OnUnitRemoved(string unit)
    {
        if (!SystemdUnits.IsUnitDir(unit) || unit.EndsWith(".slice", StringComparison.Ordinal) || unit.Contains('/', StringComparison.Ordinal))
        {
            return;
        }

        var rel = Slice + "/" + unit;
        foreach (var (key, _) in _host.Hierarchies)
        {
            if (key is "name=systemd" or "unified")
            {
                continue;
            }

            try
            {
                foreach (var gone in _host.RemoveIfEmptyIn(key, rel))
                {
                    _log.LogInformation("{0} is gone: removed {1}", unit, gone);
                }
            }
            catch (InteropException e)
            {
                _log.LogWarning("{0} is gone, its mirror stays: {1}", unit, e.Message);
            }
        }

        UnitGone?.Invoke(this, unit);
    }
}
