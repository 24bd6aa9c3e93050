using Interop.Linux.Cgroups;
using Interop.TestSupport;

namespace Interop.Linux.Tests.Support;

/// <summary>
/// The hierarchies of this test host, written out by hand (the cgroupfs tests do not depend on mountinfo
/// discovery): v1 one per controller at /sys/fs/cgroup/&lt;c&gt;, name=systemd, and cgroup2 at /sys/fs/cgroup/unified.
/// </summary>
internal static class HostHierarchies
{
    private const string Base = "/sys/fs/cgroup/";

    public static readonly string[] V1Controllers = ["cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "freezer", "pids"];

    public static Hierarchy Cpuset => V1("cpuset");

    public static Hierarchy Systemd => new("name=systemd", CgroupVersion.V1, [], "systemd", Base + "systemd", [Base + "systemd"], "/");

    public static Hierarchy Unified => new(Hierarchy.UnifiedKey, CgroupVersion.V2, [], null, Base + "unified", [Base + "unified"], "/");

    /// <summary>Every v1 hierarchy of the host: the controllers plus name=systemd.</summary>
    public static Hierarchy[] AllV1 => [.. V1Controllers.Select(V1), Systemd];

    /// <summary>Every hierarchy of the host.</summary>
    public static Hierarchy[] All => [.. AllV1, Unified];

    /// <summary>A scratch cgroup "interop-test-&lt;random&gt;" in just these hierarchies.</summary>
    public static ScratchCgroups Scratch(params Hierarchy[] hierarchies) => new("interop-test-", hierarchies: hierarchies);

    public static Hierarchy V1(string controller) =>
        new(controller, CgroupVersion.V1, [controller], null, Base + controller, [Base + controller], "/");
}
