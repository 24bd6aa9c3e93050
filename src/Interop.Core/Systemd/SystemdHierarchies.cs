using Interop.Core.Model;

namespace Interop.Core.Systemd;

/// <summary>
/// Which mounted hierarchies systemd manages on a systemd host, and where a unit must be mirrored by Interop.
/// </summary>
/// <remarks>
/// systemd manages name=systemd, the cgroup2 mount, and (hybrid/legacy) the v1 controllers it has unit
/// settings for: cpu, cpuacct, blkio, memory, devices, pids (systemd src/basic/cgroup-util.h CGroupController).
/// Every other v1 hierarchy (cpuset, freezer, net_cls, net_prio, perf_event, hugetlb, rdma, misc) is no unit's:
/// there Interop prepares the shared root itself, as on a host without systemd, and mirrors each container's
/// unit path so that its cgroup is the same path in every hierarchy.
/// </remarks>
public static class SystemdHierarchies
{
    private static readonly HashSet<string> ManagedControllers = new(StringComparer.Ordinal) { "cpu", "cpuacct", "blkio", "io", "memory", "devices", "pids" };

    /// <summary>True when systemd manages the hierarchy with key <paramref name="key"/> ("cpu,cpuacct", "name=systemd", "unified").</summary>
    public static bool IsManaged(string key) =>
        key is "unified" or "name=systemd"
        || key.Split(',').All(ManagedControllers.Contains);

    /// <summary>
    /// A process's paths in the hierarchies systemd tracks its units in, from its /proc/PID/cgroup: name=systemd and the
    /// cgroup2 mount on hybrid hosts (which need not agree: libvirt 9.0's controller stays in libvirtd's service in
    /// name=systemd while systemd, tracking in cgroup2, has it in the domain's scope), the cgroup2 mount alone on pure v2;
    /// empty when neither is there.
    /// </summary>
    public static IReadOnlyList<string> UnitPathsOf(IReadOnlyDictionary<string, string> cgroups)
    {
        ArgumentNullException.ThrowIfNull(cgroups);
        return [.. new[] { "name=systemd", "unified" }.Where(cgroups.ContainsKey).Select(k => cgroups[k])];
    }

    /// <summary>
    /// What to do for a unit whose cgroup is <paramref name="unitPath"/>, given where one of its processes is
    /// (<paramref name="cgroups"/>: hierarchy key to path, as in /proc/PID/cgroup).
    /// </summary>
    public static MirrorPlan Plan(IReadOnlyDictionary<string, string> cgroups, string unitPath)
    {
        var mirror = new List<string>();
        var unrealized = new List<string>();
        foreach (var (key, path) in cgroups.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            // At the unit's path or below it (LXC's monitor sits in <unit>/lxc.pivot after a container reboot).
            if (CgroupPath.IsAtOrBelow(path, unitPath))
            {
                continue;
            }

            (IsManaged(key) ? unrealized : mirror).Add(key);
        }

        return new MirrorPlan(mirror, unrealized);
    }
}

/// <param name="Mirror">Hierarchies systemd does not manage where the process is not at (or below) the unit's path: Interop creates the path there and moves it.</param>
/// <param name="Unrealized">
/// Hierarchies systemd manages where the process is not at (or below) the unit's path: systemd did not realize the unit there
/// (seen with systemd 252 on hybrid: cpuacct, devices); Interop mirrors them too, creating only the missing dirs.
/// </param>
public sealed record MirrorPlan(IReadOnlyList<string> Mirror, IReadOnlyList<string> Unrealized);
