using Interop.Core;
using Interop.Core.Model;
using Interop.Linux.Native;

namespace Interop.Linux.Cgroups;

/// <summary>Where <see cref="SharedRoot.Setup"/> may write, what it skips, and where it reads the CPU state.</summary>
public sealed record SharedRootOptions
{
    /// <summary>
    /// The highest dir that may be written (relative; "" or "/" = the hierarchy root, what production passes).
    /// Nothing above it is ever written; on v1 it is only read (its cpuset is the source of the first new level).
    /// </summary>
    public string Boundary { get; init; } = string.Empty;

    /// <summary>Hierarchy keys left alone entirely (e.g. "pids").</summary>
    public IReadOnlyCollection<string> SkipHierarchies { get; init; } = [];

    /// <summary>The sysfs cpu dir holding the "isolated" and "offline" lists.</summary>
    public string SysCpuDir { get; init; } = "/sys/devices/system/cpu";
}

/// <summary>The health of the shared root in one hierarchy, for <c>interopctl status</c>.</summary>
/// <param name="Key">The hierarchy key.</param>
/// <param name="Dir">The absolute dir of the shared root in that hierarchy.</param>
/// <param name="Exists">Whether the dir exists.</param>
/// <param name="CloneChildren">v1: the value of cgroup.clone_children; null on v2 or when missing.</param>
/// <param name="CpusEmpty">cpuset hierarchy: whether cpuset.cpus is empty; null elsewhere.</param>
/// <param name="MemsEmpty">cpuset hierarchy: whether cpuset.mems is empty; null elsewhere.</param>
/// <param name="Problems">What is wrong, one line each, empty when healthy.</param>
public sealed record HierarchyHealth(
    string Key,
    string Dir,
    bool Exists,
    int? CloneChildren,
    bool? CpusEmpty,
    bool? MemsEmpty,
    IReadOnlyList<string> Problems)
{
    public bool Healthy => Problems.Count == 0;
}

/// <summary>
/// Prepares the ONE subtree every container lives under, in every hierarchy (DESIGN.md section 4).
/// </summary>
/// <remarks>
/// Implementation notes. v1: a new cgroup copies its parent's cpuset only when the PARENT has
/// clone_children=1; the hierarchy root has 0 on most hosts, so each new level is created top-down and
/// filled from its parent (cpus minus isolated/offline CPUs, then mems) before clone_children=1 is set on
/// it: everything created below it later (by LXC or libvirt) then inherits a usable cpuset. An existing
/// ancestor with an empty cpuset would make every child unusable (ENOSPC on cgroup.procs), so it is reported
/// as the cause before anything is written. The shared root (and a dir made by EnsureDir) is repaired:
/// an empty cpus/mems is refilled from the parent, clone_children is set back to 1. memory.use_hierarchy is
/// set on new levels only (newer kernels fix it at 1 and refuse writes), so a second run stays silent.
/// v2: controllers are handed down through cgroup.subtree_control from the boundary to the shared root
/// itself; a cgroup's cgroup.controllers is what its parent enabled, so this must go top-down. No process
/// is ever placed in the shared root (no-internal-process rule).
/// </remarks>
public static class SharedRoot
{
    /// <summary>
    /// Creates and initializes the shared root in every hierarchy. Returns the actions taken, one line each,
    /// prefixed by the hierarchy key ("cpuset: created /machine"); empty when nothing needed changing.
    /// </summary>
    /// <exception cref="InvalidInputException">a path is malformed or the shared root is not below the boundary (nothing is created).</exception>
    /// <exception cref="CgroupException">the kernel refused, or an existing ancestor has an empty cpuset (the cause is named).</exception>
    public static IReadOnlyList<string> Setup(IReadOnlyList<Hierarchy> hierarchies, string sharedRoot, SharedRootOptions? options = null)
    {
        options ??= new SharedRootOptions();
        var boundary = CgroupFs.NormalizeRelative(options.Boundary, "boundary");
        var target = CgroupFs.NormalizeRelative(sharedRoot, "shared root");
        return EnsureTree(hierarchies, boundary, target, options, "shared root");
    }

    /// <summary>
    /// Creates a dir below the shared root (e.g. a libvirt partition "machine/web.partition") top-down with
    /// the same initialization as the shared root. Nothing at or above the shared root is written on v1; on v2
    /// the shared root's subtree_control may gain controllers. Returns the actions taken.
    /// </summary>
    public static IReadOnlyList<string> EnsureDir(IReadOnlyList<Hierarchy> hierarchies, string sharedRoot, string relPath, SharedRootOptions? options = null)
    {
        options ??= new SharedRootOptions();
        var root = CgroupFs.NormalizeRelative(sharedRoot, "shared root");
        var target = CgroupFs.NormalizeRelative(relPath, "cgroup path");
        if (root.Length == 0)
        {
            throw new InvalidInputException("shared root", "must not be the hierarchy root '/'");
        }

        return EnsureTree(hierarchies, root, target, options with { Boundary = root }, "cgroup path");
    }

    /// <summary>The shared root's health in each hierarchy: exists, clone_children, cpuset, v2 controllers.</summary>
    public static IReadOnlyList<HierarchyHealth> Check(IReadOnlyList<Hierarchy> hierarchies, string sharedRoot)
    {
        ArgumentNullException.ThrowIfNull(hierarchies);
        var root = CgroupFs.NormalizeRelative(sharedRoot, "shared root");
        var result = new List<HierarchyHealth>();
        foreach (var h in hierarchies)
        {
            var dir = CgroupFs.DirOf(h, root);
            var problems = new List<string>();
            if (!CgroupFs.Exists(h, root))
            {
                problems.Add($"{CgroupFs.Display(root)} does not exist (run interopctl setup)");
                result.Add(new HierarchyHealth(h.Key, dir, false, null, null, null, problems));
                continue;
            }

            int? clone = null;
            bool? cpusEmpty = null;
            bool? memsEmpty = null;
            if (h.IsUnified)
            {
                var available = Words(CgroupFs.TryRead(h, root, CgroupFs.Controllers));
                var enabled = Words(CgroupFs.TryRead(h, root, CgroupFs.SubtreeControl));
                var missing = available.Where(c => !enabled.Contains(c)).ToList();
                if (missing.Count > 0)
                {
                    problems.Add($"controllers not enabled for children: {string.Join(' ', missing)}");
                }
            }
            else
            {
                var text = CgroupFs.TryRead(h, root, CgroupFs.CloneChildren)?.Trim();
                clone = text is null ? null : text == "1" ? 1 : 0;
                if (clone != 1)
                {
                    problems.Add($"cgroup.clone_children is {text ?? "missing"}, expected 1");
                }

                if (h.Has("cpuset"))
                {
                    cpusEmpty = string.IsNullOrWhiteSpace(CgroupFs.TryRead(h, root, CgroupFs.CpusetCpus));
                    memsEmpty = string.IsNullOrWhiteSpace(CgroupFs.TryRead(h, root, CgroupFs.CpusetMems));
                    if (cpusEmpty == true)
                    {
                        problems.Add("cpuset.cpus is empty: containers cannot start (run interopctl setup to repair)");
                    }

                    if (memsEmpty == true)
                    {
                        problems.Add("cpuset.mems is empty: containers cannot start (run interopctl setup to repair)");
                    }
                }
            }

            result.Add(new HierarchyHealth(h.Key, dir, true, clone, cpusEmpty, memsEmpty, problems));
        }

        return result;
    }

    private static List<string> EnsureTree(IReadOnlyList<Hierarchy> hierarchies, string boundary, string target, SharedRootOptions options, string field)
    {
        ArgumentNullException.ThrowIfNull(hierarchies);
        if (!CgroupPath.Of(target).IsBelow(CgroupPath.Of(boundary)))
        {
            throw new InvalidInputException(field, $"'{Printable.Of(CgroupFs.Display(target))}' is not below '{Printable.Of(CgroupFs.Display(boundary))}'");
        }

        var levels = LevelsBelow(boundary, target);
        var selected = hierarchies.Where(h => !options.SkipHierarchies.Contains(h.Key)).ToList();

        // Nothing is written before every hierarchy passed the ancestor check.
        foreach (var h in selected.Where(h => !h.IsUnified && h.Has("cpuset")))
        {
            CheckAncestors(h, boundary, levels);
        }

        var unusable = selected.Any(h => !h.IsUnified && h.Has("cpuset")) ? UnusableCpus(options.SysCpuDir) : [];
        var actions = new List<string>();
        foreach (var h in selected)
        {
            if (h.IsUnified)
            {
                EnsureV2(h, boundary, levels, actions);
            }
            else
            {
                EnsureV1(h, boundary, levels, unusable, actions);
            }
        }

        return actions;
    }

    /// <summary>Every dir below <paramref name="boundary"/> down to <paramref name="target"/>, top-down (relative paths).</summary>
    internal static List<string> LevelsBelow(string boundary, string target)
    {
        var rest = boundary.Length == 0 ? target : target[(boundary.Length + 1)..];
        var levels = new List<string>();
        var current = boundary;
        foreach (var part in rest.Split('/'))
        {
            current = CgroupFs.Join(current, part);
            levels.Add(current);
        }

        return levels;
    }

    private static void CheckAncestors(Hierarchy h, string boundary, List<string> levels)
    {
        // The boundary and every existing level above the target are used as they are: an empty cpuset there is the cause.
        foreach (var dir in new[] { boundary }.Concat(levels.Take(levels.Count - 1)))
        {
            if (!CgroupFs.Exists(h, dir))
            {
                return;
            }

            foreach (var file in new[] { CgroupFs.CpusetCpus, CgroupFs.CpusetMems })
            {
                if (string.IsNullOrWhiteSpace(CgroupFs.Read(h, dir, file)))
                {
                    throw new CgroupException(
                        CgroupFs.DirOf(h, dir).TrimEnd('/') + "/" + file,
                        Libc.ENOSPC,
                        "check",
                        $"existing ancestor {CgroupFs.Display(dir)} of {CgroupFs.Display(levels[^1])} has an empty {file}, so no cgroup below it can hold a task; fill it from its parent (or remove it) and run setup again");
                }
            }
        }
    }

    private static void EnsureV1(Hierarchy h, string boundary, List<string> levels, SortedSet<int> unusable, List<string> actions)
    {
        var target = levels[^1];
        foreach (var level in levels)
        {
            var created = CgroupFs.CreateDir(h, level);
            if (created)
            {
                actions.Add($"{h.Key}: created {CgroupFs.Display(level)}");
            }
            else if (level != target)
            {
                continue; // an existing ancestor (checked above) is used as it is
            }

            var parent = level == levels[0] ? boundary : CgroupFs.ParentOf(level);
            if (h.Has("cpuset"))
            {
                FillCpuset(h, parent, level, CgroupFs.CpusetCpus, unusable, created, actions);
                FillCpuset(h, parent, level, CgroupFs.CpusetMems, null, created, actions);
            }

            var clone = CgroupFs.Read(h, level, CgroupFs.CloneChildren).Trim();
            if (clone != "1")
            {
                CgroupFs.Write(h, level, CgroupFs.CloneChildren, "1");
                actions.Add(created
                    ? $"{h.Key}: cgroup.clone_children set to 1 on {CgroupFs.Display(level)}"
                    : $"{h.Key}: repaired cgroup.clone_children of {CgroupFs.Display(level)}: was {clone}, set to 1");
            }

            if (created && h.Has("memory"))
            {
                SetUseHierarchy(h, level, actions);
            }
        }
    }

    private static void FillCpuset(Hierarchy h, string parent, string level, string file, SortedSet<int>? unusable, bool created, List<string> actions)
    {
        if (!string.IsNullOrWhiteSpace(CgroupFs.Read(h, level, file)))
        {
            return;
        }

        var fromParent = CgroupFs.Read(h, parent, file).Trim();
        var value = unusable is null ? fromParent : CpuList.Subtract(fromParent, unusable);
        if (value.Length == 0)
        {
            throw new CgroupException(
                CgroupFs.DirOf(h, parent).TrimEnd('/') + "/" + file,
                Libc.ENOSPC,
                "copy",
                $"{CgroupFs.Display(parent)} has no usable {file} to give {CgroupFs.Display(level)} ('{fromParent}'{(unusable is null ? string.Empty : " minus isolated/offline CPUs")}); fix the parent's cpuset first");
        }

        CgroupFs.Write(h, level, file, value);
        actions.Add(created
            ? $"{h.Key}: {file} {value} copied from parent into {CgroupFs.Display(level)}"
            : $"{h.Key}: repaired empty {file} of {CgroupFs.Display(level)}: {value} copied from parent");
    }

    private static void SetUseHierarchy(Hierarchy h, string level, List<string> actions)
    {
        var current = CgroupFs.TryRead(h, level, CgroupFs.MemoryUseHierarchy)?.Trim();
        if (current is null or "1")
        {
            return;
        }

        try
        {
            CgroupFs.Write(h, level, CgroupFs.MemoryUseHierarchy, "1");
            actions.Add($"{h.Key}: memory.use_hierarchy set to 1 on {CgroupFs.Display(level)}");
        }
        catch (CgroupException e) when (e.Errno is Libc.EINVAL or Libc.EBUSY)
        {
            actions.Add($"{h.Key}: memory.use_hierarchy left at {current} on {CgroupFs.Display(level)}: kernel refused ({Libc.ErrnoName(e.Errno)})");
        }
    }

    private static void EnsureV2(Hierarchy h, string boundary, List<string> levels, List<string> actions)
    {
        foreach (var dir in new[] { boundary }.Concat(levels))
        {
            if (dir != boundary && CgroupFs.CreateDir(h, dir))
            {
                actions.Add($"{h.Key}: created {CgroupFs.Display(dir)}");
            }

            var available = Words(CgroupFs.Read(h, dir, CgroupFs.Controllers));
            var enabled = Words(CgroupFs.Read(h, dir, CgroupFs.SubtreeControl));
            var missing = available.Where(c => !enabled.Contains(c)).ToList();
            if (missing.Count == 0)
            {
                continue;
            }

            var change = string.Join(' ', missing.Select(c => "+" + c));
            CgroupFs.Write(h, dir, CgroupFs.SubtreeControl, change);
            actions.Add($"{h.Key}: enabled {change} in {CgroupFs.Display(dir)} cgroup.subtree_control");
        }
    }

    private static List<string> Words(string? text) =>
        (text ?? string.Empty).Split([' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries).ToList();

    private static SortedSet<int> UnusableCpus(string sysCpuDir)
    {
        var set = new SortedSet<int>();
        foreach (var name in new[] { "isolated", "offline" })
        {
            var path = Path.Combine(sysCpuDir, name);
            if (File.Exists(path))
            {
                set.UnionWith(CpuList.Parse(File.ReadAllText(path)));
            }
        }

        return set;
    }
}
