namespace Interop.Core.Model;

/// <summary>
/// Which hierarchy speaks for a container when one must (the source of its CgroupPath, where its tasks are
/// read, where an LXC payload's init is looked for): cpuset first (the controller Interop prepares with care),
/// then the common v1 controllers, the v2 "unified" one last; any other key (named v1 hierarchies such as
/// name=systemd) after those, in the order given. The one home of that rule.
/// </summary>
public static class PrimaryHierarchy
{
    /// <summary>Hierarchy keys in order of preference.</summary>
    public static readonly IReadOnlyList<string> Order = ["cpuset", "memory", "cpu,cpuacct", "cpu", "pids", "freezer", "devices", "blkio", "unified"];

    /// <summary>The rank of <paramref name="key"/>: its place in <see cref="Order"/>, or after every listed key.</summary>
    public static int Rank(string key)
    {
        for (var i = 0; i < Order.Count; i++)
        {
            if (Order[i] == key)
            {
                return i;
            }
        }

        return Order.Count;
    }

    /// <summary>The primary one of <paramref name="keys"/> (the first of equal rank); null when there is none.</summary>
    public static string? Of(IEnumerable<string> keys) => keys.OrderBy(Rank).FirstOrDefault();
}
