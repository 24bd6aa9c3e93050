namespace Interop.Core;

/// <summary>
/// The keys SetValue writes: resource settings of cgroup v1 and v2 controllers, and nothing else. Control files
/// that act rather than limit (cgroup.kill, cgroup.freeze, freezer.state), move tasks (cgroup.procs, tasks),
/// grant access (devices.*), run programs (release_agent, notify_on_release), change the tree (cgroup.*), and
/// every key not listed here are refused, whatever a future kernel adds. GetValue reads any key
/// <see cref="Names.ValidateKey"/> takes.
/// </summary>
public static class ResourceKeys
{
    private static readonly HashSet<string> Writable = new(StringComparer.Ordinal)
    {
        // cpu (v1 and v2)
        "cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.cfs_burst_us", "cpu.rt_runtime_us", "cpu.rt_period_us",
        "cpu.weight", "cpu.weight.nice", "cpu.max", "cpu.max.burst", "cpu.uclamp.min", "cpu.uclamp.max", "cpu.idle",

        // cpuset
        "cpuset.cpus", "cpuset.mems", "cpuset.memory_migrate", "cpuset.memory_spread_page", "cpuset.memory_spread_slab",

        // memory (v1 and v2)
        "memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.swappiness",
        "memory.kmem.limit_in_bytes", "memory.kmem.tcp.limit_in_bytes",
        "memory.max", "memory.high", "memory.low", "memory.min", "memory.swap.max", "memory.swap.high", "memory.zswap.max",
        "memory.zswap.writeback", "memory.oom.group",

        // pids, block I/O, network classes, RDMA, misc
        "pids.max",
        "blkio.weight", "blkio.weight_device", "blkio.bfq.weight", "blkio.bfq.weight_device", "blkio.throttle.read_bps_device",
        "blkio.throttle.write_bps_device", "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
        "io.weight", "io.bfq.weight", "io.max", "io.latency",
        "net_cls.classid", "net_prio.ifpriomap",
        "rdma.max", "misc.max",
    };

    /// <summary>Checks <paramref name="key"/> for SetValue: valid as a key, and a resource setting this list knows.</summary>
    /// <exception cref="InvalidInputException">naming the key and why.</exception>
    public static string ValidateWritable(string? key)
    {
        var k = Names.ValidateKey(key);
        if (Writable.Contains(k))
        {
            return k;
        }

        throw new InvalidInputException("key", $"'{k}' is not a resource setting Interop writes (allowed: limits and weights such as memory.max, cpu.max, pids.max, cpuset.cpus; never cgroup.*, devices.*, freezer.state, tasks, release_agent or notify_on_release)");
    }
}
