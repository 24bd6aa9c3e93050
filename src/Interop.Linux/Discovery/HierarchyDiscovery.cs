// Implementation notes
// - A v1 hierarchy is identified by its set of controllers plus its name= (the kernel refuses a
//   second hierarchy with the same set), so mounts are grouped by a key built from those options:
//   controllers in subsystem id order (the order /proc/<pid>/cgroup prints them: cpuset, cpu,
//   cpuacct, blkio, memory, devices, freezer, net_cls, perf_event, net_prio, hugetlb, pids, rdma,
//   misc, debug), then ",name=X". Mount option order is irrelevant ("cpuacct,cpu" -> "cpu,cpuacct").
//   There is only one v2 hierarchy: every cgroup2 mount belongs to "unified".
// - Options that are not controller names (rw, nosuid, relatime, xattr, clone_children, noprefix,
//   release_agent=..., nsdelegate, seclabel, ...) are ignored. A v1 mount with neither a known
//   controller nor name= cannot be identified and is skipped.
// - Which mount point represents a hierarchy mounted several times (bind mounts, container
//   subtree mounts, duplicate mounts): mounts hidden by a later mount on the same mount point
//   are avoided, then a mount of the hierarchy's root ("/") is preferred; among those mountinfo
//   takes the first, while the short /proc/mounts format takes the LAST (what libvirt does, see
//   the kubevirt fixture), since nothing else tells the mounts apart there. All mount points are
//   kept in Hierarchy.MountPoints.
using Interop.Linux.Cgroups;

namespace Interop.Linux.Discovery;

/// <summary>Builds the list of mounted cgroup hierarchies from a mount table.</summary>
public static class HierarchyDiscovery
{
    /// <summary>Known v1 controllers in the kernel's subsystem id order (v1 names: blkio, not io).</summary>
    public static IReadOnlyList<string> KnownControllers { get; } =
    [
        "cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls", "perf_event",
        "net_prio", "hugetlb", "pids", "rdma", "misc", "debug",
    ];

    public const string NamePrefix = "name=";

    /// <summary>Discovers the hierarchies of the live host, reading each v2 mount's cgroup.controllers.</summary>
    public static IReadOnlyList<Hierarchy> FromHost(string mountinfoPath = MountTable.DefaultMountInfoPath)
        => Discover(MountTable.Read(mountinfoPath), ReadControllersFile);

    /// <summary>
    /// Groups cgroup mounts into hierarchies, in order of first appearance.
    /// </summary>
    /// <param name="mounts">Mount entries (non-cgroup entries are ignored).</param>
    /// <param name="readV2Controllers">
    /// Given a v2 mount point, returns the content of its cgroup.controllers (or null when unknown).
    /// Null: v2 controllers stay empty (no file is read).
    /// </param>
    public static IReadOnlyList<Hierarchy> Discover(IEnumerable<MountEntry> mounts, Func<string, string?>? readV2Controllers = null)
    {
        ArgumentNullException.ThrowIfNull(mounts);
        var entries = new List<(MountEntry Entry, string Key, IReadOnlyList<string> Controllers, string? Name)>();
        foreach (var mount in mounts)
        {
            if (mount.IsCgroup2)
            {
                entries.Add((mount, Hierarchy.UnifiedKey, [], null));
            }
            else if (mount.IsCgroup1 && TryIdentifyV1(mount.SuperOptions, out var key, out var controllers, out var name))
            {
                entries.Add((mount, key, controllers, name));
            }
        }

        var result = new List<Hierarchy>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            var (first, key, controllers, name) = entries[i];
            if (!done.Add(key))
            {
                continue;
            }

            var mountPoints = new List<string>();
            MountEntry? chosen = null;
            var chosenRank = -1;
            for (var j = i; j < entries.Count; j++)
            {
                if (!string.Equals(entries[j].Key, key, StringComparison.Ordinal))
                {
                    continue;
                }

                var candidate = entries[j].Entry;
                if (!mountPoints.Contains(candidate.MountPoint, StringComparer.Ordinal))
                {
                    mountPoints.Add(candidate.MountPoint);
                }

                var rank = (IsShadowed(entries, j) ? 0 : 2) + (candidate.Root == "/" ? 1 : 0);
                var takeLast = candidate.Format == MountTableFormat.Mounts;
                if (rank > chosenRank || (rank == chosenRank && takeLast))
                {
                    chosen = candidate;
                    chosenRank = rank;
                }
            }

            chosen ??= first;
            if (key == Hierarchy.UnifiedKey)
            {
                controllers = SplitControllers(readV2Controllers?.Invoke(chosen.MountPoint));
                result.Add(new Hierarchy(key, CgroupVersion.V2, controllers, null, chosen.MountPoint, mountPoints, chosen.Root));
            }
            else
            {
                result.Add(new Hierarchy(key, CgroupVersion.V1, controllers, name, chosen.MountPoint, mountPoints, chosen.Root));
            }
        }

        return result;
    }

    /// <summary>
    /// Classifies the host: <see cref="CgroupMode.Hybrid"/> when a v1 hierarchy with a controller and a
    /// v2 mount coexist, <see cref="CgroupMode.Legacy"/> with v1 controllers only,
    /// <see cref="CgroupMode.Unified"/> with a v2 mount and no v1 controller (named v1 hierarchies such
    /// as name=systemd may exist), <see cref="CgroupMode.None"/> when no hierarchy carries a resource
    /// controller and there is no v2 mount (nothing mounted, or only named v1 hierarchies: nothing to manage).
    /// </summary>
    public static CgroupMode Classify(IReadOnlyList<Hierarchy> hierarchies)
    {
        ArgumentNullException.ThrowIfNull(hierarchies);
        var v2 = false;
        var v1Controllers = false;
        foreach (var hierarchy in hierarchies)
        {
            if (hierarchy.IsUnified)
            {
                v2 = true;
            }
            else if (hierarchy.Controllers.Count > 0)
            {
                v1Controllers = true;
            }
        }

        return (v1Controllers, v2) switch
        {
            (true, true) => CgroupMode.Hybrid,
            (true, false) => CgroupMode.Legacy,
            (false, true) => CgroupMode.Unified,
            _ => CgroupMode.None,
        };
    }

    /// <summary>
    /// Reads the controllers and name= of v1 options ("rw,nosuid,cpuacct,cpu" -> "cpu,cpuacct").
    /// False when the options name neither a known controller nor a name=.
    /// </summary>
    public static bool TryIdentifyV1(string options, out string key, out IReadOnlyList<string> controllers, out string? name)
    {
        ArgumentNullException.ThrowIfNull(options);
        name = null;
        var mask = 0;
        var span = options.AsSpan();
        foreach (var range in span.Split(','))
        {
            var option = span[range];
            if (option.StartsWith(NamePrefix, StringComparison.Ordinal))
            {
                if (option.Length > NamePrefix.Length)
                {
                    name = option[NamePrefix.Length..].ToString();
                }

                continue;
            }

            var index = IndexOfController(option);
            if (index >= 0)
            {
                mask |= 1 << index;
            }
        }

        if (mask == 0 && name is null)
        {
            key = string.Empty;
            controllers = [];
            return false;
        }

        var list = new List<string>();
        for (var i = 0; i < KnownControllers.Count; i++)
        {
            if ((mask & (1 << i)) != 0)
            {
                list.Add(KnownControllers[i]);
            }
        }

        controllers = list;
        key = name is null
            ? string.Join(',', list)
            : list.Count == 0 ? NamePrefix + name : string.Join(',', list) + "," + NamePrefix + name;
        return true;
    }

    /// <summary>The v1 hierarchy carrying <paramref name="controller"/>, else the v2 hierarchy if it lists it, else null.</summary>
    public static Hierarchy? FindByController(this IReadOnlyList<Hierarchy> hierarchies, string controller)
    {
        ArgumentNullException.ThrowIfNull(hierarchies);
        Hierarchy? v2 = null;
        foreach (var hierarchy in hierarchies)
        {
            if (hierarchy.Has(controller))
            {
                if (!hierarchy.IsUnified)
                {
                    return hierarchy;
                }

                v2 = hierarchy;
            }
        }

        return v2;
    }

    internal static int IndexOfController(ReadOnlySpan<char> option)
    {
        for (var i = 0; i < KnownControllers.Count; i++)
        {
            if (option.SequenceEqual(KnownControllers[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsShadowed(List<(MountEntry Entry, string Key, IReadOnlyList<string> Controllers, string? Name)> entries, int index)
    {
        var mountPoint = entries[index].Entry.MountPoint;
        for (var k = index + 1; k < entries.Count; k++)
        {
            if (string.Equals(entries[k].Entry.MountPoint, mountPoint, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static IReadOnlyList<string> SplitControllers(string? text)
        => string.IsNullOrWhiteSpace(text)
            ? []
            : text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string? ReadControllersFile(string mountPoint)
    {
        try
        {
            return File.ReadAllText(Path.Combine(mountPoint, "cgroup.controllers"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
