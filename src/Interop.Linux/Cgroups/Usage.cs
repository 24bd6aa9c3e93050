// Implementation notes
// - Each figure comes from the first hierarchy that has its controller: a v1 hierarchy listing it (the key names its
//   controllers, "cpu,cpuacct", "memory", ...), else the v2 ("unified") dir. On hybrid hosts the cgroup2 mount has no
//   memory/pids/io controller, so its files are simply absent and the v1 figure stands; on v2 every figure comes from
//   the unified dir. A figure that no hierarchy has is null ("-" for people, absent from the metrics).
// - Memory is what the kernel charges the cgroup, page cache included (v1 memory.usage_in_bytes, v2 memory.current),
//   minus nothing: the same figure cAdvisor calls container_memory_usage_bytes.
// - A limit of "max" (v2) or at least 2^62 (v1's unlimited is PAGE_COUNTER_MAX pages, 0x7FFFFFFFFFFFF000 on 4 KiB
//   pages) is no limit: null.
// - Block I/O: v1 blkio.throttle.io_service_bytes_recursive (accounted whatever the I/O scheduler), falling back to
//   blkio.io_service_bytes_recursive; v2 io.stat rbytes/wbytes. Both summed over devices.
// - Reads go through open/read/close on a reused buffer, no exceptions for a missing file: a scrape of 1,000
//   containers reads some 6,000 files, and a FileNotFoundException per absent figure would cost more than the reads.
using System.Globalization;
using Interop.Core.Model;
using Interop.Linux.Native;

namespace Interop.Linux.Cgroups;

/// <summary>What one container's cgroups use right now; null where no hierarchy has the figure.</summary>
/// <param name="CpuSeconds">CPU time used since the cgroup was made, in seconds.</param>
/// <param name="MemoryBytes">Memory charged to the cgroup (page cache included), in bytes.</param>
/// <param name="MemoryLimitBytes">The memory limit in bytes; null when there is none.</param>
/// <param name="Pids">Tasks in the cgroup subtree.</param>
/// <param name="IoReadBytes">Bytes read from block devices.</param>
/// <param name="IoWriteBytes">Bytes written to block devices.</param>
public sealed record ContainerUsage(
    double? CpuSeconds,
    ulong? MemoryBytes,
    ulong? MemoryLimitBytes,
    ulong? Pids,
    ulong? IoReadBytes,
    ulong? IoWriteBytes)
{
    public static readonly ContainerUsage None = new(null, null, null, null, null, null);
}

/// <summary>Reads <see cref="ContainerUsage"/> from a container's dirs in every hierarchy (v1, hybrid and v2).</summary>
public static class CgroupUsage
{
    /// <summary>A v1 memory limit at or above this is "unlimited".</summary>
    public const ulong UnlimitedFloor = 1UL << 62;

    /// <summary>
    /// The dir of a container in every hierarchy: its registered <paramref name="paths"/> (hierarchy key to absolute
    /// dir), and for a hierarchy they do not list, <paramref name="cgroupPath"/> below that hierarchy's mount point
    /// (Interop gives a container the same path in every hierarchy).
    /// </summary>
    public static Dictionary<string, string> Dirs(
        IReadOnlyDictionary<string, string> paths,
        IEnumerable<(string Key, string MountPoint)> hierarchies,
        string cgroupPath)
    {
        var dirs = new Dictionary<string, string>(paths, StringComparer.Ordinal);
        var rel = CgroupPath.Of(cgroupPath).Relative;
        if (rel.Length == 0)
        {
            return dirs;
        }

        foreach (var (key, mount) in hierarchies)
        {
            dirs.TryAdd(key, mount.TrimEnd('/') + "/" + rel);
        }

        return dirs;
    }

    /// <summary>Reads every figure from <paramref name="dirs"/> (hierarchy key to absolute dir).</summary>
    public static ContainerUsage Read(IReadOnlyDictionary<string, string> dirs) => Read(dirs, static path => SmallFile.TryRead(path, 0, out _, singleShow: true));

    /// <summary>Reads every figure from <paramref name="dirs"/> with <paramref name="readFile"/> (path to text, null when absent).</summary>
    public static ContainerUsage Read(IReadOnlyDictionary<string, string> dirs, Func<string, string?> readFile)
    {
        ulong? ReadUInt(string path) => readFile(path) is { } text ? ParseUInt(text) : null;
        string? ReadText(string path) => readFile(path);

        string? unified = null;
        string? cpuacct = null, memory = null, pids = null, blkio = null;
        foreach (var (key, dir) in dirs)
        {
            if (key == Hierarchy.UnifiedKey)
            {
                unified = dir;
                continue;
            }

            foreach (var controller in key.Split(','))
            {
                switch (controller)
                {
                    case "cpuacct":
                        cpuacct ??= dir;
                        break;
                    case "memory":
                        memory ??= dir;
                        break;
                    case "pids":
                        pids ??= dir;
                        break;
                    case "blkio":
                        blkio ??= dir;
                        break;
                }
            }
        }

        var cpu = cpuacct is not null && ReadUInt(cpuacct + "/cpuacct.usage") is { } ns ? ns / 1e9
            : unified is not null && KeyedValue(ReadText(unified + "/cpu.stat"), "usage_usec") is { } us ? us / 1e6
            : (double?)null;
        var mem = memory is not null ? ReadUInt(memory + "/memory.usage_in_bytes") : null;
        mem ??= unified is not null ? ReadUInt(unified + "/memory.current") : null;
        ulong? limit = null;
        if (memory is not null && ReadUInt(memory + "/memory.limit_in_bytes") is { } l1)
        {
            limit = l1 >= UnlimitedFloor ? null : l1;
        }
        else if (unified is not null && ReadText(unified + "/memory.max") is { } max)
        {
            limit = max.Trim() == "max" ? null : ParseUInt(max);
        }

        var tasks = pids is not null ? ReadUInt(pids + "/pids.current") : null;
        tasks ??= unified is not null ? ReadUInt(unified + "/pids.current") : null;

        (ulong Read, ulong Write)? io = null;
        if (blkio is not null)
        {
            io = BlkioBytes(ReadText(blkio + "/blkio.throttle.io_service_bytes_recursive") ?? ReadText(blkio + "/blkio.io_service_bytes_recursive"));
        }

        if (io is null && unified is not null)
        {
            io = IoStatBytes(ReadText(unified + "/io.stat"));
        }

        return new ContainerUsage(cpu, mem, limit, tasks, io?.Read, io?.Write);
    }

    /// <summary>Sums "MAJ:MIN Read N" and "MAJ:MIN Write N" lines (v1 blkio); null when the text is null.</summary>
    public static (ulong Read, ulong Write)? BlkioBytes(string? text)
    {
        if (text is null)
        {
            return null;
        }

        ulong read = 0, write = 0;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != 3 || !ulong.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                continue;
            }

            if (f[1] == "Read")
            {
                read += n;
            }
            else if (f[1] == "Write")
            {
                write += n;
            }
        }

        return (read, write);
    }

    /// <summary>Sums rbytes= and wbytes= over the devices of a v2 io.stat; null when the text is null.</summary>
    public static (ulong Read, ulong Write)? IoStatBytes(string? text)
    {
        if (text is null)
        {
            return null;
        }

        ulong read = 0, write = 0;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var field in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (field.StartsWith("rbytes=", StringComparison.Ordinal) && ParseUInt(field[7..]) is { } r)
                {
                    read += r;
                }
                else if (field.StartsWith("wbytes=", StringComparison.Ordinal) && ParseUInt(field[7..]) is { } w)
                {
                    write += w;
                }
            }
        }

        return (read, write);
    }

    /// <summary>The value of "KEY N" in a flat-keyed file such as cpu.stat.</summary>
    public static ulong? KeyedValue(string? text, string key)
    {
        if (text is null)
        {
            return null;
        }

        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && line.AsSpan(0, space).SequenceEqual(key))
            {
                return ParseUInt(line[(space + 1)..]);
            }
        }

        return null;
    }

    private static ulong? ParseUInt(string text) =>
        ulong.TryParse(text.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
}
