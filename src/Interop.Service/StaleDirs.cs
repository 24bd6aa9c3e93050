using Interop.Core.Adapters;
using Interop.Core.Adapters.Lxc;
using Interop.Core.Model;

namespace Interop.Service;

/// <summary>
/// Which dirs under a container's parent are really its own leftovers. A layout's name test alone is not enough:
/// LXC's retry dir "lxc.payload.web-7" reads as container "web" on its 7th retry and as a container really named
/// "web-7"; libvirt's filter maps "a_b" and "ab" to the same machine name. The registry and the live state decide:
/// </summary>
/// <remarks>
/// - a dir another registered container (any state: prepared, running, stopping) owns by path, by its literal
///   LXC name or by its libvirt leader pid is never a leftover;
/// - LXC: a retry-reading dir ("NAME-N" for NAME) whose payload or monitor holds a task belongs to a live container
///   and is left alone (LXC never starts a container twice, so it is not a conflict either); only the dirs with the
///   exact name are a conflict when they hold tasks;
/// - libvirt: a leaf whose controller pid is alive belongs to a running domain (a new start gets a new pid, so it
///   never collides with one), and is left alone.
/// </remarks>
internal static class StaleDirs
{
    /// <summary>One leftover of a container: its dir name, and whether it carries the container's exact name.</summary>
    internal readonly record struct Leftover(string Child, bool Exact);

    public static List<Leftover> Of(
        IContainerLayout layout,
        ContainerId id,
        string parent,
        IReadOnlyCollection<string> children,
        IReadOnlyCollection<Mapping> registry,
        Func<string, bool> hasTasks,
        Func<int, bool> isAlive)
    {
        var others = registry.Where(m => m.Id != id).ToList();
        var ownedPaths = new HashSet<string>(others.Where(m => m.CgroupPath.Length > 1).Select(m => m.CgroupPath), StringComparer.Ordinal);
        var otherNames = new HashSet<string>(others.Where(m => m.Manager == id.Manager).Select(m => m.Name), StringComparer.Ordinal);
        var otherLeaders = new HashSet<int>(others.Where(m => m.Manager == id.Manager && m.Leader > 1).Select(m => m.Leader));
        var result = new List<Leftover>();
        foreach (var child in children)
        {
            if (!layout.IsStaleDirOf(child, id.Name) || ownedPaths.Contains("/" + parent + "/" + child) || layout.Classify(child) is not { } match)
            {
                continue;
            }

            if (id.Manager == Manager.Lxc)
            {
                var exact = match.Name == id.Name;
                if (!exact && (otherNames.Contains(match.Name) || SiblingsHoldTasks(match.Name, children, parent, hasTasks)))
                {
                    continue;
                }

                result.Add(new Leftover(child, exact));
            }
            else if (match.Pid is not { } pid || (!otherLeaders.Contains(pid) && !isAlive(pid)))
            {
                result.Add(new Leftover(child, Exact: false));
            }
        }

        return result;
    }

    /// <summary>True when the payload or the monitor dir of the LXC container literally named <paramref name="literal"/> holds a task.</summary>
    private static bool SiblingsHoldTasks(string literal, IReadOnlyCollection<string> children, string parent, Func<string, bool> hasTasks) =>
        new[] { LxcLayout.PayloadPrefix + literal, LxcLayout.MonitorPrefix + literal }
            .Where(children.Contains)
            .Any(c => hasTasks(parent + "/" + c));
}
