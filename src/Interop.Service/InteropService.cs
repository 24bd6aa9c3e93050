using System.Diagnostics;
using Interop.Core;
using Interop.Core.Adapters;
using Interop.Core.Config;
using Interop.Core.Model;
using Interop.Core.Service;
using Interop.Service.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Interop.Service;

/// <summary>
/// interopd's logic: the lifecycle of DESIGN.md section 7 over the registry, cgroupfs and /proc.
/// </summary>
/// <remarks>
/// Implementation notes.
/// - Mutations are serialized by one async gate, so concurrent hooks of one container (or two containers
///   competing for one dir) cannot interleave. Readers never wait for the gate: the registry itself is
///   guarded by a short lock held only while it is read or changed, never across I/O.
/// - Every change is in the state files (a journal record, now and then a new snapshot: <see cref="StateStore"/>)
///   before the caller gets its answer, so a crash (kill -9) right after a reply loses nothing the caller was told.
/// - Prepare removes only EMPTY dirs that would make the container lose its canonical name; a dir with
///   tasks is a conflict. Release never fails: a manager ignores post-stop/release errors anyway, so
///   problems are logged and the mapping is dropped.
/// - Nothing is created or removed outside the shared root; a container the policy lets live outside it
///   is only recorded.
/// </remarks>
public sealed partial class InteropService : IInteropService, IStateHealth, IDisposable
{
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;

    private readonly ICgroupHost _host;
    private readonly InteropConfig _config;
    private readonly StateStore _store;
    private readonly IReadOnlyDictionary<Manager, IContainerLayout> _layouts;
    private readonly Func<DateTimeOffset> _clock;
    private readonly SystemdCoordinator? _systemd;
    private readonly IServiceMetrics _metrics;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Registry _registry = new();
    private readonly Lock _sync = new();

    public InteropService(
        ICgroupHost host,
        InteropConfig config,
        StateStore store,
        IReadOnlyDictionary<Manager, IContainerLayout> layouts,
        Func<DateTimeOffset>? clock = null,
        SystemdCoordinator? systemd = null,
        IServiceMetrics? metrics = null,
        ILoggerFactory? loggers = null)
    {
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _log = _loggers.CreateLogger<InteropService>();
        _host = host;
        _config = config;
        _store = store;
        _layouts = layouts;
        _clock = clock ?? (() => DateTimeOffset.UtcNow);
        _systemd = systemd;
        if (systemd is not null)
        {
            systemd.MachineRemoved += (_, machine) => _ = ForgetMachineAsync(machine);
            systemd.UnitGone += (_, unit) => _ = ForgetUnitAsync(unit);
        }
        _metrics = metrics ?? NoMetrics.Instance;
    }

    public event EventHandler<ContainerEventArgs>? ContainerAdded;

    public event EventHandler<ContainerEventArgs>? ContainerRemoved;

    public event EventHandler<ContainerEventArgs>? ContainerChanged;

    public event EventHandler? StateWritableChanged;

    /// <summary>False from a failed state write until one succeeds again (IStateHealth): status shows the daemon degraded.</summary>
    public bool StateWritable { get; private set; } = true;

    public string Version { get; } = typeof(InteropService).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public string CgroupMode => _host.Mode;

    public string SharedRoot => _config.SharedRoot;

    private string RootDir => _config.SharedRootDir;

    private CgroupPath SharedRootPath => _config.SharedRootPath;

    public IReadOnlyList<HierarchyInfo> Hierarchies =>
        [.. _host.Hierarchies.Select(h => new HierarchyInfo(h.Key, h.MountPoint, _host.AbsoluteDir(h.Key, RootDir)))];

    public uint ContainerCount
    {
        get
        {
            lock (_sync)
            {
                return (uint)_registry.Count;
            }
        }
    }

    /// <summary>Loads the state file, keeps what is still alive, adopts what lives under the shared root.</summary>
    public Task<ReconcileReport> ReconcileAsync() =>
        WithGate(CancellationToken.None, () =>
        {
            var started = Stopwatch.GetTimestamp();
            var report = new Reconciler(_host, _store, _layouts, RootDir, _clock, DescribeForReconcile, _systemd is not null, _loggers.CreateLogger<Reconciler>()).Run();
            lock (_sync)
            {
                foreach (var m in report.Kept.Concat(report.Adopted))
                {
                    _registry.Put(m);
                }
            }

            if (report.Dropped.Count > 0 || report.Adopted.Count > 0 || report.CorruptStateKeptAt is not null)
            {
                Persist(null);
            }

            _metrics.Reconciled(Stopwatch.GetElapsedTime(started));
            return report;
        });

    public IReadOnlyList<Mapping> ListContainers()
    {
        lock (_sync)
        {
            return [.. _registry.All];
        }
    }

    public Mapping GetContainer(Manager manager, string name)
    {
        Names.ValidateComponent(name, "name");
        lock (_sync)
        {
            return _registry.TryGet(new ContainerId(manager, name), out var m)
                ? m
                : throw new NoSuchContainerException($"{manager.ToWire()}/{Printable.Of(name)} is not registered");
        }
    }

    public Mapping GetContainerByPid(uint pid)
    {
        var p = Names.ValidatePid(pid);
        Mapping? found = null;
        var any = _host.AnyCgroupPath(p, path =>
        {
            lock (_sync)
            {
                return (found = _registry.FindByPath(path)) is not null;
            }
        });
        return any switch
        {
            null => throw new NoSuchContainerException($"pid {pid} does not exist"),
            true => found!,
            false => throw new NoSuchContainerException($"pid {pid} is in no registered container"),
        };
    }

    public Mapping GetContainerByCgroup(string path)
    {
        var rel = Names.ValidateRelativePath(path, "path");
        lock (_sync)
        {
            return _registry.FindByPath("/" + rel) ?? throw new NoSuchContainerException($"no registered container owns {Printable.Of(path)}");
        }
    }

    public Task PrepareContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default) =>
        Counted("prepare", () => PrepareCore(manager, name, facts, cancellationToken));

    public async Task<Mapping> RegisterContainerAsync(Manager manager, string name, uint leader, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default) =>
        (await Counted("started", () => RegisterCore(manager, name, leader, facts, cancellationToken), r => r.Started).ConfigureAwait(false)).Mapping;

    public Task StopContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default) =>
        Counted("stopped", () => StopCore(manager, name, cancellationToken));

    public Task<bool> ReleaseContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default) =>
        Counted("released", () => ReleaseCore(manager, name, facts, cancellationToken));

    private Task PrepareCore(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken)
    {
        Names.ValidateComponent(name, "name");
        var parent = ParentDir(manager, facts);
        return WithGate(cancellationToken, () =>
        {
            var id = new ContainerId(manager, name);
            Mapping? old;
            lock (_sync)
            {
                _registry.TryGet(id, out old);
            }

            if (old is { State: not ContainerState.Prepared } && old.Leader > 1 && _host.IsAlive(old.Leader))
            {
                throw new ConflictException($"{id} is already running (leader {old.Leader}, {old.CgroupPath}); stop it first", id.ToString());
            }

            if (parent is null)
            {
                // Outside the shared root and the policy is permissive: record, touch nothing.
                _log.LogWarning("prepare {0}: its cgroup parent lies outside the shared root {1}; recorded only", id, SharedRoot);
            }
            else
            {
                foreach (var action in _host.EnsureReady(parent))
                {
                    _log.LogInformation("setup: {0}", action);
                }

                RemoveStaleDirs(id, parent);
            }

            // systemd host: LXC's monitor gets its unit now, before LXC makes any cgroup (SystemdCoordinator).
            var unit = _systemd is not null && manager == Manager.Lxc ? _systemd.PrepareLxc(name, facts) : "";
            var mapping = new Mapping(manager, name, facts.GetValueOrDefault(FactKeys.Uuid, old?.Uuid ?? ""), ContainerState.Prepared, 0, "",
                new Dictionary<string, string>(), Now(), CgroupNamespaceKind.Host, MappingSource.Hook, unit);
            lock (_sync)
            {
                _registry.Put(mapping);
            }

            Persist(new StateChange.Put(mapping));
            ExpectLeader(id, parent, unit, facts);
            _log.LogInformation("prepared {0} {1} under /{2}", manager.ToWire(), name, parent ?? "(outside the shared root)");
            ContainerChanged?.Invoke(this, new ContainerEventArgs(mapping));
        });
    }

    /// <param name="fromWatch">The leader watch saw the init arrive (no hook): only a still-prepared container is registered.</param>
    private Task<Registration> RegisterCore(Manager manager, string name, uint leader, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken, bool fromWatch = false)
    {
        Names.ValidateComponent(name, "name");
        var pid = Names.ValidatePid(leader, "leader");
        return WithGate(cancellationToken, () =>
        {
            var id = new ContainerId(manager, name);
            if (fromWatch)
            {
                lock (_sync)
                {
                    if (!_registry.TryGet(id, out var now) || now.State != ContainerState.Prepared)
                    {
                        // Registered by a hook, or stopped or released, while the watch's call waited for the gate.
                        return new Registration(now ?? throw new NoSuchContainerException($"{id} was released before its init was registered"), Started: false);
                    }
                }
            }

            var uuid = facts.GetValueOrDefault(FactKeys.Uuid, "");
            var mapping = Describe(id, pid, uuid, MappingSource.Hook);
            if (_systemd is not null)
            {
                mapping = _systemd.Complete(mapping, facts, () => Describe(id, pid, uuid, MappingSource.Hook));
            }

            Mapping? old;
            lock (_sync)
            {
                _registry.TryGet(id, out old);
                if (old is { State: ContainerState.Running } && old.Leader != pid && _host.IsAlive(old.Leader) && !_registeredByWatch.Contains(id))
                {
                    throw new ConflictException($"{id} is already running with leader {old.Leader}; refusing a second leader {pid}", id.ToString());
                }

                if (_registry.FindByPath(mapping.CgroupPath) is { } owner && owner.Id != id)
                {
                    throw new ConflictException($"{mapping.CgroupPath} already belongs to {owner.Id}", id.ToString());
                }

                _registry.Put(mapping);
                if (fromWatch)
                {
                    _registeredByWatch.Add(id);
                }
                else
                {
                    _registeredByWatch.Remove(id);
                }
            }

            Persist(new StateChange.Put(mapping));
            _log.LogInformation("started {0} {1} pid {2} at {3}{4}", manager.ToWire(), name, pid, mapping.CgroupPath, fromWatch ? " (its init entered its cgroup)" : "");
            if (old is not { State: ContainerState.Running })
            {
                ContainerAdded?.Invoke(this, new ContainerEventArgs(mapping));
            }

            ContainerChanged?.Invoke(this, new ContainerEventArgs(mapping));
            return new Registration(mapping, Started: old is not { State: ContainerState.Running } || old.Leader != pid);
        });
    }

    /// <summary>
    /// What a registration did: the mapping, and whether it started the container. One that found it running with the
    /// same leader (a start-host hook after the leader watch registered it, or the watch after the hook) did not, and
    /// interop_hook_calls_total counts one "started" per start.
    /// </summary>
    private readonly record struct Registration(Mapping Mapping, bool Started);

    private Task StopCore(Manager manager, string name, CancellationToken cancellationToken)
    {
        Names.ValidateComponent(name, "name");
        return WithGate(cancellationToken, () =>
        {
            ForgetLeader(new ContainerId(manager, name));
            Mapping? changed = null;
            lock (_sync)
            {
                if (_registry.TryGet(new ContainerId(manager, name), out var m))
                {
                    changed = m with { State = ContainerState.Stopping, Since = Now() };
                    _registry.Put(changed);
                }
            }

            if (changed is not null)
            {
                Persist(new StateChange.Put(changed));
                _log.LogInformation("stopping {0} {1} pid {2} at {3}", manager.ToWire(), name, changed.Leader, changed.CgroupPath);
                ContainerChanged?.Invoke(this, new ContainerEventArgs(changed));
            }
        });
    }

    private Task<bool> ReleaseCore(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken)
    {
        Names.ValidateComponent(name, "name");
        var parent = ParentDirOrNull(manager, facts);
        return WithGate(cancellationToken, () =>
        {
            var id = new ContainerId(manager, name);
            ForgetLeader(id);
            Mapping? old;
            lock (_sync)
            {
                _registry.TryGet(id, out old);
                _registeredByWatch.Remove(id);
            }

            var removed = new List<string>();
            if (old is not null && _systemd is not null)
            {
                _systemd.Release(old);
            }

            try
            {
                if (old is not null && old.CgroupPath.Length > 0 && CgroupPath.Of(old.CgroupPath) is var oldPath && oldPath.IsAtOrBelow(SharedRootPath) && !_host.HasTasks(oldPath.Relative))
                {
                    removed.AddRange(_host.RemoveIfEmpty(oldPath.Relative));
                }

                if (parent is not null)
                {
                    removed.AddRange(RemoveLeftovers(id, parent));
                }
            }
            catch (InteropException e)
            {
                _log.LogWarning("release {0}: leftovers stay: {1}", id, e.Message);
            }

            bool existed;
            lock (_sync)
            {
                existed = _registry.Remove(id);
            }

            if (existed)
            {
                Persist(new StateChange.Removed(id));
            }

            _log.LogInformation("released {0} {1} pid {2} at {3}{4}", manager.ToWire(), name, old?.Leader ?? 0, old?.CgroupPath ?? "-",
                removed.Count > 0 ? "; removed " + string.Join(", ", removed) : "");
            if (existed && old is not null)
            {
                ContainerRemoved?.Invoke(this, new ContainerEventArgs(old));
            }

            return existed;
        });
    }

    public Task<IReadOnlyList<string>> SetupAsync(CancellationToken cancellationToken = default) =>
        WithGate(cancellationToken, () =>
        {
            var actions = _host.Setup(RootDir);
            foreach (var a in actions)
            {
                _log.LogInformation("setup: {0}", a);
            }

            return actions;
        });

    public Task<IReadOnlyList<string>> PruneAsync(bool dryRun, CancellationToken cancellationToken = default) =>
        WithGate(cancellationToken, () =>
        {
            var owned = OwnershipSnapshot();
            var removed = _host.Prune(RootDir, dryRun, _systemd is null ? owned : _systemd.Ownership(owned));
            foreach (var r in removed)
            {
                if (dryRun)
                {
                    _log.LogInformation("prune (dry run): would remove {0}", r);
                }
                else
                {
                    _log.LogInformation("prune: removed {0}", r);
                }
            }

            return removed;
        });

    public string GetValue(Manager manager, string name, string key)
    {
        var (hierarchy, dir) = Locate(manager, name, key);
        return _host.ReadValue(hierarchy, dir, key).TrimEnd('\n');
    }

    public Task SetValueAsync(Manager manager, string name, string key, string value, CancellationToken cancellationToken = default)
    {
        ResourceKeys.ValidateWritable(key);
        if (_systemd is not null && GetContainer(manager, name) is { Unit.Length: > 0 } inUnit)
        {
            // systemd owns the unit's attributes: a limit goes through SetUnitProperties (runtime), never cgroupfs.
            var text = Names.ValidateValue(value);
            return WithGate(cancellationToken, () =>
            {
                var set = _systemd.SetLimit(inUnit, key, text);
                _log.LogInformation("set {0} {1} {2}={3} through systemd: {4} {5}", manager.ToWire(), name, key, text, inUnit.Unit, string.Join(" ", set));
            });
        }

        var (hierarchy, dir) = Locate(manager, name, key);
        var body = Names.ValidateValue(value);
        return WithGate(cancellationToken, () =>
        {
            _host.WriteValue(hierarchy, dir, key, body);
            _log.LogInformation("set {0} {1} {2}={3}", manager.ToWire(), name, key, body);
        });
    }

    public IReadOnlyList<uint> GetTasks(Manager manager, string name)
    {
        var m = GetContainer(manager, name);
        if (m.CgroupPath.Length == 0)
        {
            return [];
        }

        var key = PrimaryHierarchy.Of(m.Paths.Keys)!;
        return _host.Tasks(key, CgroupPath.Of(m.CgroupPath).Relative);
    }

    /// <summary>The reaper's pass: prune, logging what went.</summary>
    public async Task ReapAsync()
    {
        try
        {
            var removed = await PruneAsync(dryRun: false).ConfigureAwait(false);
            _metrics.ReaperRemoved(removed.Count);
        }
        catch (InteropException e)
        {
            _log.LogWarning("reaper: {0}", e.Message);
        }
    }

    /// <summary>machined forgot <paramref name="machine"/> (machinectl terminate: LXC's post-stop may never run): drop its LXC mapping.</summary>
    public Task ForgetMachineAsync(string machine) =>
        WithGate(CancellationToken.None, () =>
        {
            Mapping? gone;
            lock (_sync)
            {
                gone = _registry.All.FirstOrDefault(m => m.Manager == Manager.Lxc && m.Machine == machine);
                if (gone is not null)
                {
                    _registry.Remove(gone.Id);
                }
            }

            if (gone is null)
            {
                return;
            }

            Persist(new StateChange.Removed(gone.Id));
            _log.LogInformation("machine {0} is gone: unregistered {1} (unit {2})", machine, gone.Id, gone.Unit);
            ContainerRemoved?.Invoke(this, new ContainerEventArgs(gone));
        });

    public void Dispose()
    {
        _leaderWatch?.Dispose();
        _gate.Dispose();
    }

    /// <summary>Reconcile's view of a leader: on a systemd host with its unit and machine (an LXC one registered again if machined forgot it).</summary>
    private Mapping DescribeForReconcile(ContainerId id, int pid, string uuid, MappingSource source)
    {
        var m = Describe(id, pid, uuid, source);
        return _systemd is null ? m : _systemd.Complete(m, new Dictionary<string, string>(), () => Describe(id, pid, uuid, source));
    }

    /// <summary>A mapping for a running leader: reads /proc/pid/cgroup and checks it against the shared root.</summary>
    private Mapping Describe(ContainerId id, int pid, string uuid, MappingSource source)
    {
        if (!_host.IsAlive(pid))
        {
            throw new InvalidInputException("leader", $"pid {pid} is not running");
        }

        var cgroups = _host.ReadProcCgroup(pid) ?? throw new InvalidInputException("leader", $"pid {pid} is not running");
        var inside = cgroups.Where(c => CgroupPath.Of(c.Value).IsBelow(SharedRootPath))
            .ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);
        string cgroupPath;
        Dictionary<string, string> paths;
        if (inside.Count > 0)
        {
            cgroupPath = inside.OrderBy(c => PrimaryHierarchy.Rank(c.Key)).First().Value;
            paths = inside.ToDictionary(c => c.Key, c => _host.AbsoluteDir(c.Key, CgroupPath.Of(c.Value).Relative), StringComparer.Ordinal);
        }
        else if (_config.Policy == ContainerPolicy.Strict)
        {
            var where = cgroups.OrderBy(c => PrimaryHierarchy.Rank(c.Key)).Select(c => c.Value).FirstOrDefault() ?? "/";
            throw new NotInSharedRootException($"{id} (pid {pid}) lives at {where}, outside the shared root {SharedRoot}; include /usr/share/interop/lxc.conf (LXC) or use a partition under {SharedRoot} (libvirt)", id.ToString());
        }
        else
        {
            var own = cgroups.Where(c => c.Value != "/").OrderBy(c => PrimaryHierarchy.Rank(c.Key)).ToList();
            cgroupPath = own.Count > 0 ? own[0].Value : "/";
            paths = own.ToDictionary(c => c.Key, c => _host.AbsoluteDir(c.Key, CgroupPath.Of(c.Value).Relative), StringComparer.Ordinal);
            _log.LogWarning("{0} (pid {1}) lives at {2}, outside the shared root; registered anyway (policy permissive)", id, pid, cgroupPath);
        }

        var ns = HasPrivateNamespace(pid, cgroupPath, paths) ? CgroupNamespaceKind.Private : CgroupNamespaceKind.Host;
        return new Mapping(id.Manager, id.Name, uuid, ContainerState.Running, pid, cgroupPath, paths, Now(), ns, source);
    }

    private bool HasPrivateNamespace(int leader, string cgroupPath, Dictionary<string, string> paths)
    {
        if (_host.HasPrivateCgroupNamespace(leader))
        {
            return true;
        }

        // libvirt's leader is the controller; the container's init (its child) is the one that unshares.
        if (paths.Count == 0)
        {
            return false;
        }

        var key = PrimaryHierarchy.Of(paths.Keys)!;
        return _host.Tasks(key, CgroupPath.Of(cgroupPath).Relative).Any(t => t != leader && _host.HasPrivateCgroupNamespace((int)t));
    }

    /// <summary>Removes the empty dirs that would make <paramref name="id"/> lose its canonical name; a populated one is a conflict.</summary>
    private void RemoveStaleDirs(ContainerId id, string parent)
    {
        var stale = LeftoversOf(id, parent);
        foreach (var (child, exact) in stale)
        {
            var dir = parent + "/" + child;
            if (exact && _host.HasTasks(dir))
            {
                throw new ConflictException($"/{dir} still holds tasks; {id} cannot start under its own name until they are gone", id.ToString());
            }
        }

        foreach (var (child, _) in stale)
        {
            foreach (var gone in _host.RemoveIfEmpty(parent + "/" + child))
            {
                _log.LogInformation("prepare {0}: removed stale {1}", id, gone);
            }
        }
    }

    /// <summary>After a stop: the container's own leftovers, and LXC's shared lxc.pivot once no LXC container needs it.</summary>
    private List<string> RemoveLeftovers(ContainerId id, string parent)
    {
        var layout = _layouts[id.Manager];
        var removed = new List<string>();
        var leftovers = LeftoversOf(id, parent).Select(l => l.Child).ToHashSet(StringComparer.Ordinal);
        var pivotUnneeded = !AnyOtherLive(id);
        foreach (var child in _host.ListChildren(parent, c => leftovers.Contains(c) || (pivotUnneeded && layout.Classify(c) is { Role: DirRole.Pivot })))
        {
            var dir = parent + "/" + child;
            if (!_host.HasTasks(dir))
            {
                removed.AddRange(_host.RemoveIfEmpty(dir));
            }
        }

        return removed;
    }

    /// <summary>The dirs under <paramref name="parent"/> that are <paramref name="id"/>'s own leftovers, not another container's (<see cref="StaleDirs"/>).</summary>
    private List<StaleDirs.Leftover> LeftoversOf(ContainerId id, string parent) =>
        StaleDirs.Of(_layouts[id.Manager], id, parent, where => _host.ListChildren(parent, where), Snapshot, _host.HasTasks, _host.IsAlive);

    private bool AnyOtherLive(ContainerId id)
    {
        lock (_sync)
        {
            return _registry.All.Any(m => m.Manager == id.Manager && m.Id != id);
        }
    }

    /// <summary>
    /// What the reaper must leave alone: a registered container's cgroup, its ancestors and what lies below it,
    /// LXC's pivot while LXC runs anything, and the dirs a prepared container's manager is about to fill.
    /// Taken once per prune (which runs under the gate, so the registry cannot change meanwhile): each check is
    /// then O(depth of the path), not a scan of every mapping for every dir.
    /// </summary>
    private Func<string, bool> OwnershipSnapshot()
    {
        var mine = new HashSet<string>(StringComparer.Ordinal);
        var ancestors = new HashSet<string>(StringComparer.Ordinal);
        var managers = new HashSet<Manager>();
        var prepared = new List<Mapping>();
        lock (_sync)
        {
            foreach (var m in _registry.All)
            {
                managers.Add(m.Manager);
                if (m.State == ContainerState.Prepared)
                {
                    prepared.Add(m);
                }

                if (m.CgroupPath.Length > 1)
                {
                    mine.Add(m.CgroupPath);
                    for (var cut = m.CgroupPath.LastIndexOf('/'); cut > 0; cut = m.CgroupPath.LastIndexOf('/', cut - 1))
                    {
                        ancestors.Add(m.CgroupPath[..cut]);
                    }
                }
            }
        }

        return relPath =>
        {
            var path = CgroupPath.Of(relPath);
            if (ancestors.Contains(path.Value))
            {
                return true;
            }

            for (var p = path; !p.IsRoot; p = p.Parent)
            {
                if (mine.Contains(p.Value))
                {
                    return true;
                }
            }

            var name = path.Name;
            foreach (var layout in _layouts.Values)
            {
                if (managers.Contains(layout.Manager) && layout.Classify(name) is { Role: DirRole.Pivot })
                {
                    return true;
                }
            }

            return prepared.Any(m => _layouts[m.Manager].IsStaleDirOf(name, m.Name));
        };
    }

    private (string Hierarchy, string Dir) Locate(Manager manager, string name, string key)
    {
        Names.ValidateKey(key);
        var m = GetContainer(manager, name);
        if (m.CgroupPath.Length == 0)
        {
            throw new ConflictException($"{m.Id} has no cgroup yet (state {m.State.ToWire()})", m.Id.ToString());
        }

        var controller = key[..key.IndexOf('.', StringComparison.Ordinal)];
        var hierarchy = _host.HierarchyOf(controller) ?? throw new InvalidInputException("key", $"no mounted hierarchy has the '{controller}' controller");
        if (!m.Paths.TryGetValue(hierarchy, out var abs))
        {
            throw new InvalidInputException("key", $"{m.Id} has no cgroup in the {hierarchy} hierarchy");
        }

        // The dir is recorded as an absolute file system path: its cgroup path is the part below the mount point.
        var dir = CgroupPath.Of(abs);
        var mount = CgroupPath.Of(_host.AbsoluteDir(hierarchy, ""));
        var at = dir.IsAtOrBelow(mount) ? CgroupPath.Of(dir.RelativeTo(mount)) : CgroupPath.Root;
        if (!at.IsAtOrBelow(SharedRootPath))
        {
            throw new NotInSharedRootException($"{m.Id} lives outside the shared root {SharedRoot}; Interop writes nothing there", m.Id.ToString());
        }

        return (hierarchy, at.Relative);
    }

    /// <summary>The dir the container's cgroups appear in; null (permissive) or NotInSharedRoot (strict) when outside the shared root.</summary>
    private string? ParentDir(Manager manager, IReadOnlyDictionary<string, string> facts)
    {
        var parent = ParentDirOrNull(manager, facts);
        if (parent is not null)
        {
            return parent;
        }

        if (_config.Policy == ContainerPolicy.Strict)
        {
            var raw = _systemd is null ? _layouts[manager].ParentDir(RootDir, facts) : _systemd.ParentDir(manager, RootDir, facts);
            throw new NotInSharedRootException($"{manager.ToWire()} would place the container under /{raw}, outside the shared root {SharedRoot}; use a partition under {SharedRoot}");
        }

        return null;
    }

    private string? ParentDirOrNull(Manager manager, IReadOnlyDictionary<string, string> facts)
    {
        var raw = _systemd is null ? _layouts[manager].ParentDir(RootDir, facts) : _systemd.ParentDir(manager, RootDir, facts);
        var parent = Names.ValidateRelativePath(raw, "partition");
        return CgroupPath.Of(parent).IsAtOrBelow(SharedRootPath) ? parent : null;
    }

    private ulong Now() => (ulong)(_clock().ToUnixTimeMilliseconds() * 1000);

    /// <summary>Writes one change (a journal record), or the whole registry when <paramref name="change"/> is null.</summary>
    private void Persist(StateChange? change)
    {
        var sw = Stopwatch.StartNew();
        try
        {
            if (change is null)
            {
                _store.Save(Snapshot());
            }
            else
            {
                _store.Apply(change, Snapshot);
            }

            SetStateWritable(true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The registry in memory stays right and keeps answering; the next change writes all of it. The call
            // is still answered as done (a container start must not fail on a full /var); the caller and the admin
            // are told by StateWritable (a property with PropertiesChanged) and `interopctl status` until then.
            _log.LogError("cannot write {0}: {1}; degraded: changes are kept in memory only until a write succeeds", _store.Path, e.Message);
            SetStateWritable(false);
            _metrics.StateWriteFailed();
        }

        if (sw.ElapsedMilliseconds > 100)
        {
            _log.LogDebug("state written in {0} ms ({1} containers)", sw.ElapsedMilliseconds, ContainerCount);
        }
    }

    private void SetStateWritable(bool writable)
    {
        if (StateWritable != writable)
        {
            StateWritable = writable;
            if (writable)
            {
                _log.LogInformation("state file {0} written again; no longer degraded", _store.Path);
            }

            StateWritableChanged?.Invoke(this, EventArgs.Empty);
        }
    }

    private List<Mapping> Snapshot()
    {
        lock (_sync)
        {
            return [.. _registry.All];
        }
    }

    /// <summary>Times one lifecycle call, validation and the wait for the gate included, into the metrics.</summary>
    private async Task Counted(string lifecycleEvent, Func<Task> call) =>
        await Counted(lifecycleEvent, async () =>
        {
            await call().ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);

    /// <summary>Times one lifecycle call into the metrics, unless <paramref name="counts"/> says its value did nothing new.</summary>
    private async Task<T> Counted<T>(string lifecycleEvent, Func<Task<T>> call, Func<T, bool>? counts = null)
    {
        var started = Stopwatch.GetTimestamp();
        string? result = "error";
        try
        {
            var value = await call().ConfigureAwait(false);
            result = counts is null || counts(value) ? "ok" : null;
            return value;
        }
        catch (InteropException)
        {
            result = "refused";
            throw;
        }
        finally
        {
            if (result is not null)
            {
                _metrics.HookCall(lifecycleEvent, result, Stopwatch.GetElapsedTime(started));
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> alone (one change at a time). A call still waiting for its turn when
    /// <paramref name="cancellationToken"/> is cancelled (interopd shutting down, the caller gone) never starts:
    /// it ends with <see cref="OperationCanceledException"/>. A call that has started runs to its end.
    /// </summary>
    private Task WithGate(CancellationToken cancellationToken, Action action) => WithGate(cancellationToken, () =>
    {
        action();
        return true;
    });

    /// <summary>Runs <paramref name="action"/> alone, and where blocking is allowed (<see cref="Blocking"/>): the gated work
    /// blocks (cgroupfs; systemd's and machined's answers awaited synchronously).</summary>
    private async Task<T> WithGate<T>(CancellationToken cancellationToken, Func<T> action)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Blocking.RunAsync(action).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }
}
