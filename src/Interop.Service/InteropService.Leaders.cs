using Interop.Core;
using Interop.Core.Adapters;
using Interop.Core.Adapters.Lxc;
using Interop.Core.Model;
using Interop.Core.Service;
using Interop.Linux.Cgroups;
using Microsoft.Extensions.Logging;

namespace Interop.Service;

/// <summary>
/// The started step of an LXC container without a start-host hook process (issue 15: the hook path costs no
/// more than a trivial hook). At prepare interopd knows where LXC will make the container's cgroup
/// (<c>PARENT/lxc.payload.NAME</c>, PARENT the shared root or, on a systemd host, the container's unit); a
/// <see cref="PopulatedWatch"/> on that dir in the cgroup2 hierarchy says when LXC has put the init there, and
/// interopd registers it as a start-host call would have (same checks, same state, same signals).
/// </summary>
/// <remarks>
/// Hosts without a cgroup2 hierarchy have nothing to watch: their include file keeps the start-host hook
/// (<c>interopctl lxc-config</c> decides). A start-host call still works everywhere: it registers the same
/// leader (idempotent), and where the watch chose another task first (only a test can make that happen: LXC
/// attaches its init alone, before it runs), the hook's leader wins.
/// </remarks>
public sealed partial class InteropService
{
    private const string Cgroup2 = "unified";

    private readonly Dictionary<string, (ContainerId Id, IReadOnlyDictionary<string, string> Facts)> _expected = new(StringComparer.Ordinal);
    private readonly HashSet<ContainerId> _registeredByWatch = [];
    private PopulatedWatch? _leaderWatch;

    /// <summary>True once <see cref="WatchLeaders"/> runs a watch: LXC containers then register without start-host.</summary>
    public bool WatchesLeaders => _leaderWatch is not null;

    /// <summary>
    /// Starts learning LXC leaders from cgroupfs (interopd calls this once, after reconcile). Returns false when
    /// the host has no cgroup2 hierarchy or no inotify; the start-host hook then does the work.
    /// </summary>
    public bool WatchLeaders()
    {
        if (_leaderWatch is not null || !_host.Hierarchies.Any(h => h.Key == Cgroup2))
        {
            return _leaderWatch is not null;
        }

        var watch = PopulatedWatch.Start(OnPopulated, message => _log.LogWarning("leader watch: {0}", message));
        if (watch is null)
        {
            return false;
        }

        List<Mapping> prepared;
        lock (_sync)
        {
            _leaderWatch = watch;
            prepared = [.. _registry.All.Where(m => m.Manager == Manager.Lxc && m.State == ContainerState.Prepared)];
        }

        // Prepared before a restart of interopd: their containers may be starting now (facts other than the unit are lost).
        foreach (var m in prepared)
        {
            Expect(m.Id, PayloadDirOf(m.Name, m.Unit), new Dictionary<string, string>(StringComparer.Ordinal));
        }

        _log.LogInformation("leader watch: LXC containers register when their init enters {0} (no start-host hook needed)", Cgroup2);
        return true;
    }

    /// <summary>Where LXC makes the container's cgroup: PARENT/lxc.payload.NAME (relative to the hierarchy root).</summary>
    private string PayloadDirOf(string name, string unit) =>
        (unit.Length > 0 ? RootDir + "/" + unit : RootDir) + "/" + LxcLayout.PayloadPrefix + name;

    /// <summary>Prepare of an LXC container: watch for its init. Under the gate.</summary>
    private void ExpectLeader(ContainerId id, string? parent, string unit, IReadOnlyDictionary<string, string> facts)
    {
        if (_leaderWatch is null || id.Manager != Manager.Lxc || parent is null)
        {
            return;
        }

        Expect(id, PayloadDirOf(id.Name, unit), facts);
    }

    private void Expect(ContainerId id, string relDir, IReadOnlyDictionary<string, string> facts)
    {
        var dir = _host.AbsoluteDir(Cgroup2, relDir);
        ForgetLeader(id);
        lock (_sync)
        {
            _expected[dir] = (id, facts);
            _registeredByWatch.Remove(id);
        }

        if (_leaderWatch?.Arm(dir) != true)
        {
            lock (_sync)
            {
                _expected.Remove(dir);
            }

            _log.LogWarning("{0}: cannot watch {1}; it registers only through a start-host hook", id, dir);
        }
    }

    /// <summary>Stop or release: no registration may follow any more.</summary>
    private void ForgetLeader(ContainerId id)
    {
        string? dir = null;
        lock (_sync)
        {
            foreach (var (d, e) in _expected)
            {
                if (e.Id == id)
                {
                    dir = d;
                    break;
                }
            }

            if (dir is not null)
            {
                _expected.Remove(dir);
            }
        }

        if (dir is not null)
        {
            _leaderWatch?.Disarm(dir);
        }
    }

    /// <summary>The watch thread: the payload holds its first task. Registering waits for the gate, so it runs apart.</summary>
    private void OnPopulated(string dir)
    {
        (ContainerId Id, IReadOnlyDictionary<string, string> Facts) expected;
        lock (_sync)
        {
            if (!_expected.Remove(dir, out expected))
            {
                return;
            }
        }

        _ = Task.Run(() => RegisterWatchedAsync(expected.Id, dir, expected.Facts));
    }

    private async Task RegisterWatchedAsync(ContainerId id, string dir, IReadOnlyDictionary<string, string> facts)
    {
        var rel = dir[(_host.AbsoluteDir(Cgroup2, "").TrimEnd('/').Length + 1)..];
        var leader = InitOf(id, rel);
        if (leader <= 1)
        {
            _log.LogWarning("{0}: /{1} was populated but holds no task any more; not registered", id, rel);
            return;
        }

        // LXC attaches its init to every hierarchy before start-host, cgroup2 last (cgfsng.c payload_enter walks the
        // hierarchies in /proc/self/cgroup order, "0::" at the end); a short grace covers any other order.
        for (var attempt = 0; attempt < 25 && !EnteredEverywhere(leader, rel); attempt++)
        {
            await Task.Delay(2).ConfigureAwait(false);
        }

        try
        {
            await Counted("started", () => RegisterCore(id.Manager, id.Name, (uint)leader, facts, CancellationToken.None, fromWatch: true), r => r.Started).ConfigureAwait(false);
        }
        catch (NoSuchContainerException)
        {
            _log.LogInformation("{0}: released before its init {1} was registered", id, leader);
        }
        catch (InteropException e)
        {
            // No hook is waiting to abort the start: the admin learns it from the log and from `interopctl show` (still prepared).
            _log.LogError("{0}: init {1} entered /{2} but was not registered: {3}", id, leader, rel, e.Message);
        }
    }

    /// <summary>True when <paramref name="pid"/> sits at or below <paramref name="relDir"/> in every hierarchy (or is gone).</summary>
    private bool EnteredEverywhere(int pid, string relDir)
    {
        var cgroups = _host.ReadProcCgroup(pid);
        return cgroups is null || cgroups.Values.All(path => CgroupPath.IsAtOrBelow(path, relDir));
    }

    /// <summary>
    /// systemd dropped <paramref name="unit"/>: an LXC container prepared in it can no longer start there (its monitor
    /// was in that unit). Without a start-host hook nothing else would drop it: no hook failed, and its post-stop died
    /// with the unit (machinectl terminate of a container that was rebooting, a start whose machine could not be
    /// registered). Registered ones are left to MachineRemoved and post-stop.
    /// </summary>
    public Task ForgetUnitAsync(string unit) =>
        WithGate(CancellationToken.None, () =>
        {
            List<Mapping> gone;
            lock (_sync)
            {
                gone = [.. _registry.All.Where(m => m.Manager == Manager.Lxc && m.State == ContainerState.Prepared && m.Unit == unit)];
                foreach (var m in gone)
                {
                    _registry.Remove(m.Id);
                }
            }

            foreach (var m in gone)
            {
                ForgetLeader(m.Id);
                Persist(new StateChange.Removed(m.Id));
                _log.LogInformation("{0} is gone before {1} ran in it: unregistered", unit, m.Id);
                ContainerRemoved?.Invoke(this, new ContainerEventArgs(m));
            }
        });

    /// <summary>LXC's init in its payload, by the LXC layout's own rule (<see cref="IContainerLayout.LeaderOf"/>), read in cgroup2.</summary>
    private int InitOf(ContainerId id, string relDir) =>
        _layouts[id.Manager].LeaderOf(new LayoutMatch(id.Manager, DirRole.Payload, id.Name), relDir, new CgroupHostProbe(_host, Cgroup2));
}
