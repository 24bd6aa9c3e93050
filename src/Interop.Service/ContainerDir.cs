using Interop.Core.Model;

namespace Interop.Service;

/// <summary>
/// A container's own cgroup dir, against where its init really is: a systemd guest moves its PID 1 into a child
/// of its own cgroup (lxc.payload.NAME/init.scope), in v1 hierarchies and v2 alike. The container is the dir its
/// manager made; the child is its content.
/// </summary>
internal static class ContainerDir
{
    /// <summary>True when <paramref name="path"/> is <paramref name="dir"/> or lies below it ("/a/b" is below "/a", "/ab" is not).</summary>
    public static bool IsAtOrBelow(string path, string dir) =>
        dir.Length > 1 && (path == dir || (path.Length > dir.Length && path.StartsWith(dir, StringComparison.Ordinal) && path[dir.Length] == '/'));

    /// <summary>
    /// <paramref name="m"/> (described from its leader's /proc/PID/cgroup) placed at <paramref name="dir"/> when the
    /// leader sits in <paramref name="dir"/> or below it: CgroupPath is the dir, and every hierarchy's path below the
    /// dir is cut back to it. Null when the leader lives elsewhere.
    /// </summary>
    public static Mapping? Rebase(Mapping m, string dir, ICgroupHost host)
    {
        if (!IsAtOrBelow(m.CgroupPath, dir))
        {
            return null;
        }

        if (m.CgroupPath == dir)
        {
            return m;
        }

        var rel = dir.TrimStart('/');
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, abs) in m.Paths)
        {
            var own = host.AbsoluteDir(key, rel);
            paths[key] = IsAtOrBelow(abs, own) ? own : abs;
        }

        return m with { CgroupPath = dir, Paths = paths };
    }
}
