using Interop.Core.Model;

namespace Interop.Core.Adapters.Libvirt;

/// <summary>
/// libvirt's cgroup layout for LXC domains without machined (vircgroup.c virCgroupNewMachineManual):
/// the escaped partition dirs, and in them one leaf "lxc-&lt;pid&gt;-&lt;filtered name&gt;.libvirt-lxc" per running domain.
/// </summary>
public sealed class LibvirtLayout : IContainerLayout
{
    private readonly string[] _controllers;

    /// <param name="controllers">
    /// The controller tokens libvirt compares partition components with (the names in /proc/cgroups); see
    /// <see cref="LibvirtNames.ControllerTokens"/> for what libvirt really extracts from that file.
    /// </param>
    public LibvirtLayout(IEnumerable<string> controllers)
    {
        ArgumentNullException.ThrowIfNull(controllers);
        _controllers = [.. controllers];
    }

    public Manager Manager => Manager.Libvirt;

    /// <summary>
    /// The escaped dirs of the domain's partition (fact "partition", default "/machine"): "machine",
    /// "machine/web.partition", "shared.partition". The shared root does not change where libvirt puts a domain;
    /// whether a partition outside it is acceptable is the daemon's policy.
    /// </summary>
    public string ParentDir(string sharedRoot, IReadOnlyDictionary<string, string> facts)
    {
        ArgumentNullException.ThrowIfNull(sharedRoot);
        ArgumentNullException.ThrowIfNull(facts);
        var partition = facts.TryGetValue(FactKeys.Partition, out var p) ? p : LibvirtNames.DefaultPartition;
        return LibvirtNames.PartitionDir(partition, _controllers);
    }

    /// <summary>
    /// True for "lxc-&lt;any pid&gt;-&lt;filtered(containerName) for that pid&gt;.libvirt-lxc": the filter is computed for the
    /// pid found in the dir name, so a long name cut to a different length by a longer or shorter pid still
    /// matches, and domain "a" does not match the leaf of domain "a-b".
    /// </summary>
    public bool IsStaleDirOf(string childName, string containerName)
    {
        ArgumentNullException.ThrowIfNull(containerName);
        var match = LibvirtNames.ParseLeaf(childName);
        return match?.Pid is { } pid && LibvirtNames.FilteredName(pid, containerName) == match.Name;
    }

    /// <summary>A leaf is a Payload (with its pid and filtered name); "*.partition" is a Partition; else null.</summary>
    public LayoutMatch? Classify(string childName)
    {
        ArgumentNullException.ThrowIfNull(childName);
        var leaf = LibvirtNames.ParseLeaf(childName);
        if (leaf is not null)
        {
            return leaf;
        }

        if (childName.Length > LibvirtNames.PartitionSuffix.Length &&
            childName.EndsWith(LibvirtNames.PartitionSuffix, StringComparison.Ordinal))
        {
            return new LayoutMatch(Manager.Libvirt, DirRole.Partition, childName[..^LibvirtNames.PartitionSuffix.Length]);
        }

        return null;
    }

    /// <summary>A leaf whose controller pid is another domain's leader, or alive, belongs to a running domain.</summary>
    public bool MayBelongToAnother(LayoutMatch match, string containerName, OtherContainers others)
    {
        ArgumentNullException.ThrowIfNull(match);
        ArgumentNullException.ThrowIfNull(others);
        return match.Pid is { } pid && (others.Leaders.Contains(pid) || others.IsAlive(pid));
    }

    /// <summary>Never: each start makes a new leaf for its new controller pid, so an old one never collides with it.</summary>
    public bool IsExactDirOf(LayoutMatch match, string containerName) => false;

    /// <summary>machined's scope of one domain, "machine-&lt;esc(lxc-PID-NAME)&gt;.scope" (see <see cref="LibvirtNames.ParseScope"/>).</summary>
    public LayoutMatch? ClassifyUnit(string unitName) => LibvirtNames.ParseScope(unitName);

    /// <summary>The libvirt_lxc controller pid the leaf's or scope's machine name carries; 0 when it carries none.</summary>
    public int LeaderOf(LayoutMatch match, string dir, IHostProbe host)
    {
        ArgumentNullException.ThrowIfNull(match);
        return match.Pid ?? 0;
    }

    /// <summary>
    /// The domain's real name: libvirt writes the controller pid to <see cref="LibvirtNames.RunDir"/>/NAME.pid, and the
    /// first such file holding <paramref name="leader"/> whose name is a valid container name gives it; else the
    /// filtered name of the machine name (lossy: "a_b" shows as "ab").
    /// </summary>
    public string NameOf(LayoutMatch match, int leader, IHostProbe host)
    {
        ArgumentNullException.ThrowIfNull(match);
        ArgumentNullException.ThrowIfNull(host);
        if (leader <= 1)
        {
            return match.Name;
        }

        foreach (var name in host.PidFileNames(LibvirtNames.RunDir, leader))
        {
            try
            {
                return Names.ValidateComponent(name, "name");
            }
            catch (InvalidInputException)
            {
                // Not a name Interop can register (a hostile file in /run): the next file, or the machine name.
            }
        }

        return match.Name;
    }
}
