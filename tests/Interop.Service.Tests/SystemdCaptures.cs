namespace Interop.Service.Tests;

/// <summary>What the nested systemd host showed (fixtures/systemd, see its README), with the container renamed "web".</summary>
internal static class SystemdCaptures
{
    public const string LibvirtMachine = "lxc-812-sdct1";

    /// <summary>libvirt's scope for domain sdct1 with controller pid 812, as machined names it.</summary>
    public const string LibvirtScope = "/machine.slice/machine-lxc\\x2d812\\x2dsdct1.scope";

    /// <summary>Where libvirt 9.0 puts its own processes: the scope's "libvirt" child.</summary>
    public const string LibvirtLeaf = LibvirtScope + "/libvirt";

    /// <summary>The hierarchies of the hybrid nested host, by Interop's key (cpu and cpuacct are mounted apart on this VM).</summary>
    public static readonly IReadOnlyList<string> HybridKeys = [.. ByKey(Read("run1-hybrid/lxc-a.leader.cgroup")).Keys];

    /// <summary>The lxc-start container's init as the first run left it (real).</summary>
    public static string HybridLxcInitRun1 => Read("run1-hybrid/lxc-a.leader.cgroup");

    /// <summary>
    /// LXC's monitor right after pre-start put it in its scope, before Interop's mirror: its cgroup is the base LXC
    /// made lxc.payload.NAME in, so it is the init's path without "/lxc.payload.web" where systemd realized the unit
    /// or not (devices: the slice, cpuacct: /), and / in cpuset and freezer (no unit there).
    /// </summary>
    public static string HybridMonitorInScope => string.Join('\n', HybridLxcInitRun1.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
    {
        var parts = line.Split(':', 3);
        var path = parts[1] is "cpuset" or "freezer" ? "/" : parts[2].Replace("/lxc.payload.web", "", StringComparison.Ordinal);
        return $"{parts[0]}:{parts[1]}:{(path.Length == 0 ? "/" : path)}";
    }));

    /// <summary>The init once every hierarchy is mirrored: lxc.payload.web below the scope everywhere.</summary>
    public static string HybridLxcInit => string.Join('\n', HybridLxcInitRun1.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        line[..(line.IndexOf(':', line.IndexOf(':') + 1) + 1)] + "/machine.slice/lxc-web.scope/lxc.payload.web"));

    /// <summary>libvirt's controller in its scope (DESIGN.md section 14: the scope's libvirt child in most hierarchies, / in cpuacct).</summary>
    public static string HybridLibvirtController => string.Join('\n', HybridKeys.Select((k, i) =>
        $"{i}:{(k == "unified" ? "" : k)}:{(k is "cpuacct" or "freezer" ? "/" : LibvirtLeaf)}"));

    /// <summary>A run-2 capture (real names kept), e.g. "run2-hybrid/libvirt-c.leader.cgroup".</summary>
    public static string Run2(string rel) => File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "systemd", rel));

    /// <summary>/proc/PID/cgroup text to Interop's keys: the controllers field, "unified" for the v2 line.</summary>
    public static Dictionary<string, string> ByKey(string procCgroup) =>
        procCgroup.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(':', 3))
            .ToDictionary(p => p[1].Length == 0 ? "unified" : p[1], p => p[2], StringComparer.Ordinal);

    private static string Read(string rel) =>
        File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "systemd", rel))
            .Replace("sdl\\x2db4db70\\x2da", "web", StringComparison.Ordinal)
            .Replace("sdl-b4db70-a", "web", StringComparison.Ordinal);
}
