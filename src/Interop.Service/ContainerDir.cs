using Interop.Core.Model;

namespace Interop.Service;

/// <summary>
/// A container's own cgroup dir, against where its init really is: a systemd guest moves its PID 1 into a child
/// of its own cgroup (lxc.payload.NAME/init.scope), in v1 hierarchies and v2 alike. The container is the dir its
/// manager made; the child is its content.
/// </summary>
internal static class ContainerDir
{
    /// <summary>
    /// <paramref name="m"/> (described from its leader's /proc/PID/cgroup) placed at <paramref name="dir"/> when the
    /// leader sits in <paramref name="dir"/> or below it: CgroupPath is the dir, and every hierarchy's path below the
    /// dir is cut back to it. Null when the leader lives elsewhere.
    /// </summary>
    public static Mapping? Rebase(Mapping m, string dir, ICgroupHost host)
    {
        var at = CgroupPath.Of(dir);
        if (at.IsRoot || m.CgroupPath.Length == 0 || !CgroupPath.Of(m.CgroupPath).IsAtOrBelow(at))
        {
            return null;
        }

        if (m.CgroupPath == at.Value)
        {
            return m;
        }

        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, abs) in m.Paths)
        {
            // The hierarchy dirs are paths too: one below the container's own dir is cut back to it.
            var own = host.AbsoluteDir(key, at.Relative);
            paths[key] = CgroupPath.IsAtOrBelow(abs, own) ? own : abs;
        }

        return m with { CgroupPath = at.Value, Paths = paths };
    }
}
