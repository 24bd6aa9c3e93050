using Interop.Linux.Cgroups;

namespace Interop.Linux.Tests.Discovery;

/// <summary>Lookups the tests make in a discovered hierarchy list (the product looks hierarchies up by controller).</summary>
internal static class HierarchyLists
{
    /// <summary>The hierarchy with this key ("cpuset", "name=systemd", "unified"), or null.</summary>
    public static Hierarchy? FindByKey(this IReadOnlyList<Hierarchy> hierarchies, string key) =>
        hierarchies.SingleOrDefault(h => string.Equals(h.Key, key, StringComparison.Ordinal));
}
