using Interop.Core.Adapters;
using Interop.Core.Model;

namespace Interop.Service;

/// <summary>
/// Which dirs under a container's parent are really its own leftovers. A layout's name test alone is not enough:
/// LXC's retry dir "lxc.payload.web-7" reads as container "web" on its 7th retry and as a container really named
/// "web-7"; libvirt's filter maps "a_b" and "ab" to the same machine name. The registry and the live state decide:
/// a dir another registered container (any state: prepared, running, stopping) owns by path is never a leftover, and
/// the layout says which other readings belong to a live container (<see cref="IContainerLayout.MayBelongToAnother"/>)
/// and which dirs carry the container's exact name (<see cref="IContainerLayout.IsExactDirOf"/>).
/// </summary>
internal static class StaleDirs
{
    /// <summary>One leftover of a container: its dir name, and whether it carries the container's exact name.</summary>
    internal readonly record struct Leftover(string Child, bool Exact);

    public static List<Leftover> Of(
        IContainerLayout layout,
        ContainerId id,
        string parent,
        Func<Func<string, bool>, IReadOnlyCollection<string>> children,
        Func<IReadOnlyCollection<Mapping>> registry,
        Func<string, bool> hasTasks,
        Func<int, bool> isAlive)
    {
        // The layout's name test first: on a host with thousands of containers nearly every sibling fails it, and the
        // registry is copied (and its sets built) only when some dir is left to decide.
        var candidates = children(child => layout.IsStaleDirOf(child, id.Name));
        if (candidates.Count == 0)
        {
            return [];
        }

        var others = registry().Where(m => m.Id != id).ToList();
        var ownedPaths = new HashSet<string>(others.Where(m => m.CgroupPath.Length > 1).Select(m => m.CgroupPath), StringComparer.Ordinal);
        var sameManager = others.Where(m => m.Manager == id.Manager).ToList();
        var live = new OtherContainers(
            sameManager.Select(m => m.Name).ToHashSet(StringComparer.Ordinal),
            sameManager.Where(m => m.Leader > 1).Select(m => m.Leader).ToHashSet(),
            candidates,
            child => hasTasks(parent + "/" + child),
            isAlive);
        var result = new List<Leftover>();
        foreach (var child in candidates)
        {
            if (ownedPaths.Contains("/" + parent + "/" + child) || layout.Classify(child) is not { } match
                || layout.MayBelongToAnother(match, id.Name, live))
            {
                continue;
            }

            result.Add(new Leftover(child, layout.IsExactDirOf(match, id.Name)));
        }

        return result;
    }
}
