namespace Interop.Core.Model;

/// <summary>
/// The registry entry for one container (DESIGN.md section 3).
/// </summary>
/// <param name="Manager">Which manager owns it.</param>
/// <param name="Name">The manager's name for it.</param>
/// <param name="Uuid">libvirt's domain uuid; empty for LXC.</param>
/// <param name="State">Where it is in its lifecycle.</param>
/// <param name="Leader">The leader pid (LXC: container init; libvirt: the libvirt_lxc controller); 0 before started.</param>
/// <param name="CgroupPath">The cgroup path relative to the hierarchy root, with a leading '/' (as in /proc/pid/cgroup); empty before started.</param>
/// <param name="Paths">Hierarchy key (e.g. "cpuset", "cpu,cpuacct", "name=systemd", "unified") to absolute directory.</param>
/// <param name="Since">When the mapping entered its current state, microseconds since the epoch.</param>
/// <param name="CgroupNamespace">Private when the leader has its own cgroup namespace, else Host.</param>
/// <param name="Source">Hook when a hook registered it, Adopted when reconcile found it.</param>
/// <param name="Unit">On a systemd host: the systemd unit the container runs in (e.g. "lxc-web.scope"); else empty.</param>
/// <param name="Machine">On a systemd host: the name systemd-machined knows the container by; else empty.</param>
public sealed record Mapping(
    Manager Manager,
    string Name,
    string Uuid,
    ContainerState State,
    int Leader,
    string CgroupPath,
    IReadOnlyDictionary<string, string> Paths,
    ulong Since,
    CgroupNamespaceKind CgroupNamespace,
    MappingSource Source,
    string Unit = "",
    string Machine = "")
{
    public ContainerId Id => new(Manager, Name);
}

/// <summary>A container's identity: (manager, name).</summary>
public readonly record struct ContainerId(Manager Manager, string Name)
{
    public override string ToString() => $"{Manager.ToWire()}/{Name}";
}

/// <summary>One mounted hierarchy as the API shows it: controllers (or "name=X", or "unified"), mount point, shared dir.</summary>
public sealed record HierarchyInfo(string Controllers, string MountPoint, string SharedDir);
