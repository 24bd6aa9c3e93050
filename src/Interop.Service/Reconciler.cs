using System.Diagnostics;
using Interop.Core;
using Interop.Core.Adapters;
using Interop.Core.Model;
using Interop.Core.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Interop.Service;

/// <summary>What reconcile found at start-up.</summary>
public sealed record ReconcileReport(
    IReadOnlyList<Mapping> Kept,
    IReadOnlyList<Mapping> Dropped,
    IReadOnlyList<Mapping> Adopted,
    string? CorruptStateKeptAt);

/// <summary>
/// Rebuilds the registry when interopd starts: the state file says what was registered, cgroupfs and
/// /proc say what is true. A mapping survives when its leader is alive and still in its cgroup; a
/// container found under the shared root with tasks but no mapping is adopted by its layout, which says who its leader
/// is and what it is called (reading the host through <see cref="CgroupHostProbe"/>). A state file
/// that cannot be read is kept aside and everything comes from cgroupfs.
/// </summary>
internal sealed class Reconciler
{
    /// <summary>A container prepared longer ago than this never started: its mapping is stale.</summary>
    private static readonly TimeSpan PreparedTimeout = TimeSpan.FromMinutes(10);

    private readonly ILogger _log;

    private readonly ICgroupHost _host;
    private readonly StateStore _store;
    private readonly IReadOnlyDictionary<Manager, IContainerLayout> _layouts;
    private readonly string _rootDir;
    private readonly Func<DateTimeOffset> _clock;
    private readonly CgroupHostProbe _probe;
    private readonly bool _systemd;
    private readonly Func<ContainerId, int, string, MappingSource, Mapping> _describe;

    public Reconciler(
        ICgroupHost host,
        StateStore store,
        IReadOnlyDictionary<Manager, IContainerLayout> layouts,
        string rootDir,
        Func<DateTimeOffset> clock,
        Func<ContainerId, int, string, MappingSource, Mapping> describe,
        bool systemd = false,
        ILogger? log = null)
    {
        _log = log ?? NullLogger.Instance;
        _systemd = systemd;
        _host = host;
        _store = store;
        _layouts = layouts;
        _rootDir = rootDir;
        _clock = clock;
        _probe = new CgroupHostProbe(host);
        _describe = describe;
    }

    public ReconcileReport Run()
    {
        var started = Stopwatch.GetTimestamp();

        // What is under the shared root does not depend on the state file: on a big host (10,000 dirs in each
        // hierarchy) it is listed on another CPU while the state file is parsed on this one.
        var rootListing = Task.Run(() => _host.ListChildren(_rootDir));
        string? aside = null;
        IReadOnlyList<Mapping> saved;
        try
        {
            saved = _store.Load();
            if (_store.LoadWarning is { } warning)
            {
                _log.LogWarning("{0}", warning);
            }
        }
        catch (StateFileException e)
        {
            aside = _store.KeepAside();
            _log.LogError("state file unreadable ({0}); kept it at {1} and rebuilding from cgroupfs", e.Message, aside);
            saved = [];
        }

        var loaded = Stopwatch.GetTimestamp();
        var kept = new List<Mapping>();
        var dropped = new List<Mapping>();
        var now = _clock();

        // One /proc read per mapping, independent of each other: on a big registry they run on every CPU (each
        // read is a system call and a short parse), and the results are taken in the state file's order.
        var live = new bool[saved.Count];
        Parallel.For(0, saved.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            i => live[i] = IsLive(saved[i], now));
        for (var i = 0; i < saved.Count; i++)
        {
            var m = saved[i];
            if (live[i])
            {
                kept.Add(m);
            }
            else
            {
                dropped.Add(m);
                _log.LogInformation("reconcile: dropped {0} {1} (leader {2} gone)", m.Manager.ToWire(), m.Name, m.Leader);
            }
        }

        var checkedLive = Stopwatch.GetTimestamp();
        var adopted = Adopt(kept, rootListing.GetAwaiter().GetResult());
        foreach (var m in adopted)
        {
            _log.LogInformation("reconcile: adopted {0} {1} pid {2} at {3}", m.Manager.ToWire(), m.Name, m.Leader, m.CgroupPath);
        }

        _log.LogInformation("reconcile: kept {0}, dropped {1}, adopted {2} (state file {3:F0} ms, liveness {4:F0} ms, scan {5:F0} ms; interopd's CPU time so far {6:F0} ms)",
            kept.Count, dropped.Count, adopted.Count, Stopwatch.GetElapsedTime(started, loaded).TotalMilliseconds,
            Stopwatch.GetElapsedTime(loaded, checkedLive).TotalMilliseconds, Stopwatch.GetElapsedTime(checkedLive).TotalMilliseconds,
            Environment.CpuUsage.TotalTime.TotalMilliseconds);
        return new ReconcileReport(kept, dropped, adopted, aside);
    }

    private bool IsLive(Mapping m, DateTimeOffset now)
    {
        if (m.State == ContainerState.Prepared)
        {
            return now - DateTimeOffset.FromUnixTimeMilliseconds((long)(m.Since / 1000)) < PreparedTimeout;
        }

        // One read per mapping (this runs 10,000 times at start-up on a big host): a pid that is gone has no
        // cgroup file, and a reused pid is elsewhere. A zombie leader still shows its cgroup until it is
        // reaped; its container is being stopped and the manager's release drops it.
        if (m.Leader <= 1)
        {
            return false;
        }

        // A systemd guest moves its PID 1 into a child of its own cgroup (lxc.payload.NAME/init.scope): still its container.
        if (m.CgroupPath.Length <= 1)
        {
            return false;
        }

        // The real host answers without building the pid's map of paths (the same answer, cheaper).
        var own = CgroupPath.Of(m.CgroupPath);
        if (_host is LinuxCgroupHost linux)
        {
            return linux.IsAtOrBelow(m.Leader, own);
        }

        var cgroups = _host.ReadProcCgroup(m.Leader);
        return cgroups is not null && cgroups.Values.Any(path => CgroupPath.Of(path).IsAtOrBelow(own));
    }

    /// <param name="known">The mappings kept.</param>
    /// <param name="rootChildren">The shared root's child dirs, listed already.</param>
    private List<Mapping> Adopt(List<Mapping> known, IReadOnlySet<string> rootChildren)
    {
        var owned = new HashSet<string>(known.Where(m => m.CgroupPath.Length > 0).Select(m => m.CgroupPath), StringComparer.Ordinal);
        var names = new HashSet<ContainerId>(known.Select(m => m.Id));
        var adopted = new List<Mapping>();
        Visit(_rootDir, depth: 0);
        return adopted;

        void Visit(string parent, int depth)
        {
            foreach (var child in depth == 0 ? rootChildren : _host.ListChildren(parent))
            {
                var dir = parent + "/" + child;
                if (_systemd && SystemdUnits.IsUnitDir(child) && depth < 8)
                {
                    // systemd host: LXC at <slice>/<unit>/lxc.payload.NAME, libvirt at <slice>/machine-lxc\x2dPID\x2dNAME.scope.
                    var unit = _layouts.Values.Select(l => (Layout: l, Match: l.ClassifyUnit(child))).FirstOrDefault(u => u.Match is not null);
                    if (unit.Match is { } scope && _host.HasTasks(dir))
                    {
                        TryAdopt(unit.Layout, scope, dir);
                    }
                    else
                    {
                        Visit(dir, depth + 1);
                    }

                    continue;
                }

                foreach (var layout in _layouts.Values)
                {
                    if (layout.Classify(child) is not { } match)
                    {
                        continue;
                    }

                    if (match.Role == DirRole.Partition && depth < 8)
                    {
                        Visit(dir, depth + 1);
                    }
                    else if (match.Role == DirRole.Payload && !owned.Contains("/" + dir) && _host.HasTasks(dir))
                    {
                        TryAdopt(layout, match, dir);
                    }

                    break;
                }
            }
        }

        void TryAdopt(IContainerLayout layout, LayoutMatch match, string dir)
        {
            var leader = layout.LeaderOf(match, dir, _probe);
            var id = new ContainerId(layout.Manager, layout.NameOf(match, leader, _probe));
            if (leader <= 1 || names.Contains(id) || !_host.IsAlive(leader))
            {
                return;
            }

            try
            {
                // A unit's dir (a libvirt machine scope) holds the container below it (its `libvirt` child): the
                // container is where its leader is. Any other container dir is the container, whatever its init made below.
                var described = _describe(id, leader, "", MappingSource.Adopted);
                var m = SystemdUnits.IsUnitDir(dir[(dir.LastIndexOf('/') + 1)..])
                    ? (CgroupPath.IsAtOrBelow(described.CgroupPath, dir) ? described : null)
                    : ContainerDir.Rebase(described, "/" + dir, _host);
                if (m is not null)
                {
                    adopted.Add(m);
                    names.Add(id);
                    owned.Add(m.CgroupPath);
                }
            }
            catch (InteropException e)
            {
                _log.LogWarning("reconcile: cannot adopt /{0}: {1}", dir, e.Message);
            }
        }
    }
}
