using Interop.Core;
using Interop.Core.Model;
using Interop.Linux.Native;

namespace Interop.Linux.Cgroups;

/// <summary>A cgroup dir removed (or that a dry run would remove) in one hierarchy.</summary>
/// <param name="Hierarchy">The hierarchy key ("cpuset", "name=systemd", "unified").</param>
/// <param name="Path">The dir relative to the hierarchy root, without a leading '/'.</param>
public sealed record RemovedDir(string Hierarchy, string Path)
{
    public override string ToString() => $"{Hierarchy}: {CgroupFs.Display(Path)}";
}

/// <summary>
/// Removes empty leftovers below the shared root (DESIGN.md sections 1 and 7): never the shared root,
/// never above it, never a dir with a task anywhere below it, never a dir its owner still claims.
/// </summary>
/// <remarks>
/// Implementation notes: the task check reads cgroup.procs, but a task can be moved in (or a zombie can
/// linger) between that read and rmdir; the kernel then refuses with EBUSY, which is taken as "in use":
/// the dir and its ancestors are kept and not reported. Dirs go deepest first because v1 and v2 both
/// refuse to remove a cgroup that still has children.
/// </remarks>
public static class Pruner
{
    /// <summary>
    /// Removes every empty dir below <paramref name="sharedRoot"/> that <paramref name="isOwned"/> does not
    /// claim, deepest first. <paramref name="isOwned"/> gets a path relative to the hierarchy root
    /// ("machine/lxc.payload.web"); a claimed dir is kept with its whole subtree (and so are its ancestors).
    /// With <paramref name="dryRun"/> nothing is removed and the same list is returned.
    /// </summary>
    public static IReadOnlyList<RemovedDir> Prune(IReadOnlyList<Hierarchy> hierarchies, string sharedRoot, bool dryRun, Func<string, bool>? isOwned = null)
    {
        ArgumentNullException.ThrowIfNull(hierarchies);
        var root = SharedRootPath(sharedRoot);
        var owned = isOwned ?? (_ => false);
        var result = new List<RemovedDir>();
        foreach (var h in hierarchies)
        {
            if (!CgroupFs.Exists(h, root))
            {
                continue;
            }

            var candidates = new List<string>();
            foreach (var child in CgroupFs.ListChildren(h, root))
            {
                Plan(h, CgroupFs.Join(root, child), owned, candidates, 1);
            }

            var ordered = DeepestFirst(candidates);
            if (dryRun)
            {
                result.AddRange(ordered.Select(p => new RemovedDir(h.Key, p)));
            }
            else
            {
                result.AddRange(RemoveAll(h, ordered).Select(p => new RemovedDir(h.Key, p)));
            }
        }

        return result;
    }

    /// <summary>
    /// Removes one container's dir (and the empty dirs below it) in every hierarchy where it holds no task.
    /// A missing dir is fine; a dir with tasks is kept. Returns what was removed.
    /// </summary>
    /// <exception cref="InvalidInputException"><paramref name="relPath"/> is malformed or not strictly below the shared root.</exception>
    public static IReadOnlyList<RemovedDir> RemoveIfEmpty(IReadOnlyList<Hierarchy> hierarchies, string sharedRoot, string relPath)
    {
        ArgumentNullException.ThrowIfNull(hierarchies);
        var root = SharedRootPath(sharedRoot);
        var rel = CgroupFs.NormalizeRelative(relPath, "cgroup path");
        if (!CgroupPath.Of(rel).IsBelow(CgroupPath.Of(root)))
        {
            throw new InvalidInputException("cgroup path", $"'{Printable.Of(CgroupFs.Display(rel))}' is not below the shared root {CgroupFs.Display(root)}; nothing there is removed");
        }

        var result = new List<RemovedDir>();
        foreach (var h in hierarchies)
        {
            if (!CgroupFs.Exists(h, rel) || CgroupFs.HasTasks(h, rel))
            {
                continue;
            }

            var ordered = CgroupFs.ListDescendantsDeepestFirst(h, rel).Append(rel).ToList();
            result.AddRange(RemoveAll(h, ordered).Select(p => new RemovedDir(h.Key, p)));
        }

        return result;
    }

    private static string SharedRootPath(string sharedRoot)
    {
        var root = CgroupFs.NormalizeRelative(sharedRoot, "shared root");
        if (root.Length == 0)
        {
            throw new InvalidInputException("shared root", "must not be the hierarchy root '/'");
        }

        return root;
    }

    /// <summary>
    /// Adds <paramref name="rel"/> and its removable descendants; true when <paramref name="rel"/> itself is removable.
    /// A dir past the walk's bounds, with a child Interop does not address, or that cannot be read is kept.
    /// </summary>
    private static bool Plan(Hierarchy h, string rel, Func<string, bool> isOwned, List<string> candidates, int depth)
    {
        if (isOwned(rel) || !CgroupTree.WithinBounds(h.DirOf(rel), depth, CgroupFs.Display(rel)))
        {
            return false;
        }

        try
        {
            var allChildrenGo = true;
            var children = CgroupFs.ListChildren(h, rel, out var skipped);
            foreach (var child in children)
            {
                allChildrenGo &= Plan(h, CgroupFs.Join(rel, child), isOwned, candidates, depth + 1);
            }

            if (skipped > 0 || !allChildrenGo || CgroupFs.ReadProcs(h, rel).Count > 0)
            {
                return false;
            }
        }
        catch (CgroupException e)
        {
            CgroupTree.Report(CgroupFs.Display(rel), "it cannot be read (" + e.Message + ")");
            return false;
        }

        candidates.Add(rel);
        return true;
    }

    private static List<string> DeepestFirst(IEnumerable<string> paths) =>
        paths.OrderByDescending(p => p.Count(c => c == '/')).ThenBy(p => p, StringComparer.Ordinal).ToList();

    private static List<string> RemoveAll(Hierarchy h, List<string> deepestFirst)
    {
        var removed = new List<string>();
        var busy = new List<string>();
        foreach (var rel in deepestFirst)
        {
            if (busy.Any(b => CgroupPath.IsAtOrBelow(b, rel)))
            {
                continue; // a child stayed, so this dir cannot go
            }

            try
            {
                if (CgroupFs.RemoveDir(h, rel))
                {
                    removed.Add(rel);
                }
            }
            catch (CgroupException e) when (e.Errno is Libc.EBUSY or Libc.ENOTEMPTY)
            {
                busy.Add(rel);
            }
        }

        return removed;
    }
}
