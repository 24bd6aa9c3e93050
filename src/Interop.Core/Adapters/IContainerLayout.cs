using Interop.Core.Model;

namespace Interop.Core.Adapters;

/// <summary>What a cgroup dir is, in a manager's layout.</summary>
public enum DirRole
{
    /// <summary>The container's own cgroup (LXC payload, libvirt leaf).</summary>
    Payload,

    /// <summary>LXC's monitor cgroup.</summary>
    Monitor,

    /// <summary>LXC's shared lxc.pivot dir (no container owns it).</summary>
    Pivot,

    /// <summary>A libvirt partition dir (e.g. "containers.partition"); no container owns it.</summary>
    Partition,
}

/// <summary>
/// The reverse of a layout: what a dir is. <paramref name="Name"/> is the container name as far as the dir
/// tells it: for LXC the literal name after "lxc.payload." (so "lxc.payload.x-7" gives "x-7"), with
/// <paramref name="Suffix"/> 7 as the other possible reading (container "x" on its 7th retry); for libvirt
/// the filtered machine-name part, which is NOT always the domain name (the filter is lossy).
/// </summary>
public sealed record LayoutMatch(Manager Manager, DirRole Role, string Name, int? Pid = null, int? Suffix = null);

/// <summary>
/// What a stale-looking dir is judged against: the other containers of the same manager in the registry (any state),
/// and the host. <paramref name="Siblings"/> are the dirs next to the judged one that the layout's
/// <see cref="IContainerLayout.IsStaleDirOf"/> accepts for the container being prepared or released (not every child of
/// the parent: a big host has thousands); a layout asks only about those (LXC: the payload and monitor of the same
/// literal name, which pass or fail that test together). <paramref name="DirHoldsTasks"/> takes a sibling's name.
/// </summary>
public sealed record OtherContainers(
    IReadOnlySet<string> Names,
    IReadOnlySet<int> Leaders,
    IReadOnlyCollection<string> Siblings,
    Func<string, bool> DirHoldsTasks,
    Func<int, bool> IsAlive);

/// <summary>
/// A manager's cgroup layout under Interop's shared root: where its containers land, which leftover dirs
/// would make a starting container lose its canonical name, and what a given dir is. Pure: everything
/// comes in as data. Paths are relative to the hierarchy root, '/'-separated, without a leading '/'.
/// </summary>
public interface IContainerLayout
{
    Manager Manager { get; }

    /// <summary>
    /// The dir (relative to the hierarchy root) in which the container's own cgroup dirs appear:
    /// LXC with Interop's include file: the shared root; libvirt: the partition's dirs.
    /// </summary>
    string ParentDir(string sharedRoot, IReadOnlyDictionary<string, string> facts);

    /// <summary>
    /// True when <paramref name="childName"/>, a dir directly under <see cref="ParentDir"/>, is a leftover that
    /// collides with <paramref name="containerName"/> starting now (LXC: lxc.payload.NAME, lxc.monitor.NAME and
    /// their -N forms; libvirt: lxc-*-FILTERED.libvirt-lxc). Prepare removes such dirs when they are empty.
    /// </summary>
    bool IsStaleDirOf(string childName, string containerName);

    /// <summary>Classifies a dir directly under <see cref="ParentDir"/> by its name; null when it is not the manager's.</summary>
    LayoutMatch? Classify(string childName);

    /// <summary>
    /// For a dir that <see cref="IsStaleDirOf"/> gave to <paramref name="containerName"/>: true when it may be another,
    /// live container's instead, so it is no leftover (LXC: a retry-reading "NAME-N" when a container NAME-N is
    /// registered or its payload or monitor holds a task; libvirt: a leaf whose controller pid is another's leader or alive).
    /// </summary>
    bool MayBelongToAnother(LayoutMatch match, string containerName, OtherContainers others);

    /// <summary>
    /// True when the dir carries <paramref name="containerName"/> exactly, so that a task in it is a live conflict
    /// (LXC: lxc.payload.NAME, lxc.monitor.NAME; libvirt: never, a new start gets a new pid and a new leaf).
    /// </summary>
    bool IsExactDirOf(LayoutMatch match, string containerName);

    /// <summary>
    /// On a systemd host: the Payload match of a unit dir (a scope under the shared root's slice) that the manager's
    /// own layout made for one container (libvirt: machined's "machine-lxc\x2dPID\x2dNAME.scope"); null for any
    /// other unit, which may hold containers below it.
    /// </summary>
    LayoutMatch? ClassifyUnit(string unitName);

    /// <summary>
    /// The leader of the running container whose Payload dir is <paramref name="dir"/> (<paramref name="match"/> is
    /// what <see cref="Classify"/> or <see cref="ClassifyUnit"/> said of it): LXC: its init; libvirt: the controller
    /// pid in the dir's name. 0 when there is none.
    /// </summary>
    int LeaderOf(LayoutMatch match, string dir, IHostProbe host);

    /// <summary>
    /// The container's name for <paramref name="leader"/>: what the dir's name says, unless the manager keeps the
    /// real name elsewhere (libvirt: the pid file /run/libvirt/lxc/NAME.pid, since the machine name's filter is lossy).
    /// </summary>
    string NameOf(LayoutMatch match, int leader, IHostProbe host);
}
