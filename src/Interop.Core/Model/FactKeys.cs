namespace Interop.Core.Model;

/// <summary>
/// Keys of the a{ss} "facts" a hook passes to the daemon. Values are strings; absent keys mean "not known".
/// </summary>
public static class FactKeys
{
    /// <summary>libvirt domain uuid.</summary>
    public const string Uuid = "uuid";

    /// <summary>libvirt resource partition, absolute (e.g. "/machine").</summary>
    public const string Partition = "partition";

    /// <summary>The raw hook type or operation the manager passed (e.g. "pre-start", "release").</summary>
    public const string Hook = "hook";

    /// <summary>LXC: the container's config file (LXC_CONFIG_FILE).</summary>
    public const string ConfigFile = "config_file";

    /// <summary>LXC: LXC_ROOTFS_PATH.</summary>
    public const string RootfsPath = "rootfs_path";

    /// <summary>LXC: "1" when LXC_CGNS_AWARE=1.</summary>
    public const string CgnsAware = "cgns_aware";

    /// <summary>LXC stop/post-stop: "stop" or "reboot".</summary>
    public const string Target = "target";

    /// <summary>
    /// LXC stop/post-stop: the namespace kinds LXC kept for the hook, comma-separated in LXC's order
    /// (e.g. "mnt,pid,uts,ipc,net,cgroup"); "cgroup" in it means the container had its own cgroup namespace.
    /// </summary>
    public const string Namespaces = "namespaces";

    /// <summary>libvirt release: the shutoff reason (10.5+), may contain a space.</summary>
    public const string Reason = "reason";

    /// <summary>LXC pre-start: the hook process's parent pid (where interopd starts looking for LXC's monitor on a systemd host).</summary>
    public const string ParentPid = "parent_pid";
}
