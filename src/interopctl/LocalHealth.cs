using Interop.Linux.Cgroups;
using Interop.Linux.Discovery;

namespace Interop.Ctl;

/// <summary>What <c>interopctl status</c> finds on this host without asking the daemon.</summary>
/// <param name="CgroupMode">"legacy", "hybrid", "unified" or "none".</param>
/// <param name="SharedRoot">The shared root checked.</param>
/// <param name="Hierarchies">The shared root's health per hierarchy.</param>
/// <param name="Warnings">Host problems that are not the shared root's (one line each).</param>
/// <param name="Error">Why the probe itself failed, or null.</param>
internal sealed record LocalHealth(
    string CgroupMode,
    string SharedRoot,
    IReadOnlyList<HierarchyHealth> Hierarchies,
    IReadOnlyList<string> Warnings,
    string? Error)
{
    public const string HybridV2ControllersWarning =
        "this hybrid host's cgroup2 mount {0} carries controllers ({1}): libvirt 9.0 then fails to start LXC domains " +
        "with \"Unable to create directory /sys/fs/cgroup/unified\"; see docs/libvirt.md for the workaround " +
        "(run libvirtd in a private mount namespace without that mount)";

    public bool Healthy => Error is null && Hierarchies.All(h => h.Healthy);

    /// <summary>Discovers the live hierarchies and checks the shared root in each.</summary>
    public static LocalHealth Probe(string sharedRoot)
    {
        IReadOnlyList<Hierarchy> hierarchies;
        try
        {
            hierarchies = HierarchyDiscovery.FromHost();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Interop.Core.InteropException)
        {
            return new LocalHealth("none", sharedRoot, [], [], $"cannot read the mount table: {ex.Message}");
        }

        var mode = HierarchyDiscovery.Classify(hierarchies);
        var warnings = HostWarnings(mode, hierarchies);
        if (hierarchies.Count == 0)
        {
            return new LocalHealth(mode.ToWire(), sharedRoot, [], warnings, "no cgroup hierarchy is mounted");
        }

        try
        {
            // A systemd host: the slice in the hierarchies systemd manages is systemd's (no clone_children, no cpuset to check).
            var mine = SystemdBoot.IsBooted() ? [.. hierarchies.Where(h => !Interop.Core.Systemd.SystemdHierarchies.IsManaged(h.Key))] : hierarchies;
            return new LocalHealth(mode.ToWire(), sharedRoot, Interop.Linux.Cgroups.SharedRoot.Check(mine, sharedRoot), warnings, null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Interop.Core.InteropException)
        {
            return new LocalHealth(mode.ToWire(), sharedRoot, [], warnings, ex.Message);
        }
    }

    /// <summary>Host-wide warnings: a hybrid host whose cgroup2 mount carries controllers breaks libvirt 9.0.</summary>
    public static IReadOnlyList<string> HostWarnings(CgroupMode mode, IReadOnlyList<Hierarchy> hierarchies)
    {
        var warnings = new List<string>();
        if (mode != Interop.Linux.Cgroups.CgroupMode.Hybrid)
        {
            return warnings;
        }

        foreach (var h in hierarchies)
        {
            if (h.IsUnified && h.Controllers.Count > 0)
            {
                warnings.Add(string.Format(
                    System.Globalization.CultureInfo.InvariantCulture,
                    HybridV2ControllersWarning,
                    h.MountPoint,
                    string.Join(' ', h.Controllers)));
            }
        }

        return warnings;
    }
}
