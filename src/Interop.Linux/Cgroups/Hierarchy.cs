using Interop.Core.Model;

namespace Interop.Linux.Cgroups;

public enum CgroupVersion
{
    V1,
    V2,
}

/// <summary>How the host mounts cgroups: only v1, v1 plus a v2 mount (hybrid), only v2, or none at all.</summary>
public enum CgroupMode
{
    None,
    Legacy,
    Hybrid,
    Unified,
}

public static class CgroupModeNames
{
    public static string ToWire(this CgroupMode mode) => mode switch
    {
        CgroupMode.None => "none",
        CgroupMode.Legacy => "legacy",
        CgroupMode.Hybrid => "hybrid",
        CgroupMode.Unified => "unified",
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };
}

/// <summary>
/// One mounted cgroup hierarchy. A hierarchy mounted more than once (bind or duplicate mounts) is one
/// <see cref="Hierarchy"/> with several <see cref="MountPoints"/>.
/// </summary>
/// <param name="Key">
/// Stable identity used everywhere (registry, API, /proc/pid/cgroup matching): for v1 the controllers
/// joined with ',' in the kernel's order as /proc/pid/cgroup prints them (e.g. "cpu,cpuacct"), plus
/// "name=X" for a named hierarchy (e.g. "name=systemd"); "unified" for v2.
/// </param>
/// <param name="Version">v1 or v2.</param>
/// <param name="Controllers">v1: the controllers of the mount (no "name="); v2: empty unless known.</param>
/// <param name="Name">The name= of a named v1 hierarchy, else null.</param>
/// <param name="MountPoint">The mount point used to reach the hierarchy (a mount of its root, the first seen).</param>
/// <param name="MountPoints">Every mount point of this hierarchy.</param>
/// <param name="Root">The mountinfo root field of <see cref="MountPoint"/> ("/" unless a subtree is mounted).</param>
public sealed record Hierarchy(
    string Key,
    CgroupVersion Version,
    IReadOnlyList<string> Controllers,
    string? Name,
    string MountPoint,
    IReadOnlyList<string> MountPoints,
    string Root)
{
    public const string UnifiedKey = "unified";

    public bool IsUnified => Version == CgroupVersion.V2;

    public bool Has(string controller) => Controllers.Contains(controller, StringComparer.Ordinal);

    /// <summary>The absolute directory of a cgroup path (relative to the hierarchy root, with or without leading '/').</summary>
    public string DirOf(string cgroupPath)
    {
        var rel = CgroupPath.Of(cgroupPath).Relative;
        return rel.Length == 0 ? MountPoint : MountPoint.TrimEnd('/') + "/" + rel;
    }
}
