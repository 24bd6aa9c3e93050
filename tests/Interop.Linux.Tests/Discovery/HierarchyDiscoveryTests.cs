using Interop.Linux.Cgroups;
using Interop.Linux.Discovery;

namespace Interop.Linux.Tests.Discovery;

/// <summary>Discovery on raw mountinfo rows and on libvirt's data sets (see fixtures/libvirt-vircgroupdata/EXPECTED.md).</summary>
public partial class HierarchyDiscoveryTests
{
    [TestCase("rw,cpu", "cpu")]
    [TestCase("rw,nosuid,nodev,noexec,relatime,cpuacct,cpu", "cpu,cpuacct")]
    [TestCase("rw,net_prio,net_cls", "net_cls,net_prio")]
    [TestCase("rw,blkio,devices,memory,cpuacct,cpu,cpuset", "cpuset,cpu,cpuacct,blkio,memory,devices")]
    [TestCase("rw,release_agent=/lib64/rc/sh/cgroup-release-agent.sh,name=openrc", "name=openrc")]
    [TestCase("rw,xattr,name=systemd", "name=systemd")]
    [TestCase("rw,cpu,name=foo", "cpu,name=foo")]
    [TestCase("rw,name=foo,cpuacct,cpu", "cpu,cpuacct,name=foo")]
    [TestCase("rw,clone_children,noprefix,cpuset", "cpuset")]
    [TestCase("rw,pids,hugetlb,perf_event,rdma,misc", "perf_event,hugetlb,pids,rdma,misc")]
    public void Builds_key_in_kernel_order(string options, string key)
    {
        Assert.That(HierarchyDiscovery.TryIdentifyV1(options, out var actual, out var controllers, out var name), Is.True);
        Assert.That(actual, Is.EqualTo(key));
        Assert.That(controllers, Has.None.StartsWith("name="));
        Assert.That(name, Is.EqualTo(key.Contains("name=", StringComparison.Ordinal) ? key[(key.IndexOf("name=", StringComparison.Ordinal) + 5)..] : null));
    }

    [TestCase("rw,nosuid,relatime")]
    [TestCase("rw,xattr,release_agent=/x,clone_children")]
    [TestCase("rw,name=")]
    public void A_v1_mount_without_controller_or_name_is_not_a_hierarchy(string options)
    {
        Assert.That(HierarchyDiscovery.TryIdentifyV1(options, out _, out _, out _), Is.False);
        var mounts = MountTable.Parse($"31 30 0:28 / /x rw - cgroup cgroup {options}");
        Assert.That(HierarchyDiscovery.Discover(mounts), Is.Empty);
    }

    [Test]
    public void Container_subtree_mount_then_root_mount_gives_one_hierarchy_reached_by_the_root_mount()
    {
        var mounts = MountTable.Parse(
            "50 40 0:31 /lxc.payload.c1 /var/lib/lxc/c1/rootfs/sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
            + "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime shared:12 - cgroup cgroup rw,memory\n"
            + "60 30 0:31 / /mnt/memory-again rw,relatime shared:12 - cgroup cgroup rw,memory\n");

        var hierarchies = HierarchyDiscovery.Discover(mounts);

        Assert.That(hierarchies, Has.Count.EqualTo(1));
        Assert.That(hierarchies[0].Key, Is.EqualTo("memory"));
        Assert.That(hierarchies[0].MountPoint, Is.EqualTo("/sys/fs/cgroup/memory"), "a root mount, the first seen");
        Assert.That(hierarchies[0].Root, Is.EqualTo("/"));
        Assert.That(hierarchies[0].MountPoints, Is.EqualTo(new[] { "/var/lib/lxc/c1/rootfs/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory", "/mnt/memory-again" }));
    }

    [Test]
    public void Only_a_subtree_mount_is_used_with_its_root()
    {
        var hierarchies = HierarchyDiscovery.Discover(MountTable.Parse(
            "1234 1200 0:31 /lxc.payload.c1 /sys/fs/cgroup/memory rw master:12 - cgroup cgroup rw,memory"));

        Assert.That(hierarchies.Single().MountPoint, Is.EqualTo("/sys/fs/cgroup/memory"));
        Assert.That(hierarchies.Single().Root, Is.EqualTo("/lxc.payload.c1"));
    }

    [Test]
    public void A_mount_hidden_by_a_later_mount_on_the_same_point_is_not_chosen()
    {
        var hierarchies = HierarchyDiscovery.Discover(MountTable.Parse(
            "40 30 0:30 / /hidden rw - cgroup cgroup rw,cpuset\n"
            + "41 30 0:30 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n"
            + "42 30 0:29 / /hidden rw - cgroup cgroup rw,cpuacct\n"));

        Assert.That(hierarchies.FindByKey("cpuset")!.MountPoint, Is.EqualTo("/sys/fs/cgroup/cpuset"));
        Assert.That(hierarchies.FindByKey("cpuacct")!.MountPoint, Is.EqualTo("/hidden"));
    }

    [Test]
    public void Modern_systemd_hybrid_with_comounts_named_and_nsdelegate()
    {
        var mounts = MountTable.Parse("""
            24 23 0:21 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755
            25 24 0:22 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:5 - cgroup2 cgroup2 rw,nsdelegate
            26 24 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:6 - cgroup cgroup rw,xattr,name=systemd
            29 24 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct
            30 24 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,net_cls,net_prio
            31 24 0:28 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpuset,clone_children
            """);

        var hierarchies = HierarchyDiscovery.Discover(mounts, mp => mp == "/sys/fs/cgroup/unified" ? "hugetlb\n" : null);

        Assert.That(hierarchies.Select(h => h.Key), Is.EqualTo(new[] { "unified", "name=systemd", "cpu,cpuacct", "net_cls,net_prio", "cpuset" }));
        Assert.That(HierarchyDiscovery.Classify(hierarchies), Is.EqualTo(CgroupMode.Hybrid));
        Assert.That(hierarchies.FindByKey("unified")!.Controllers, Is.EqualTo(new[] { "hugetlb" }));
        Assert.That(hierarchies.FindByKey("unified")!.Version, Is.EqualTo(CgroupVersion.V2));
        Assert.That(hierarchies.FindByKey("name=systemd")!.Name, Is.EqualTo("systemd"));
        Assert.That(hierarchies.FindByKey("name=systemd")!.Controllers, Is.Empty);
        Assert.That(hierarchies.FindByController("cpuacct")!.MountPoint, Is.EqualTo("/sys/fs/cgroup/cpu,cpuacct"));
        Assert.That(hierarchies.FindByController("net_prio")!.Key, Is.EqualTo("net_cls,net_prio"));
        Assert.That(hierarchies.FindByController("hugetlb")!.Key, Is.EqualTo("unified"), "v2 answers when no v1 hierarchy has it");
        Assert.That(hierarchies.FindByController("memory"), Is.Null);
    }

    [TestCase("", CgroupMode.None)]
    [TestCase("cgroup /a cgroup rw,name=systemd 0 0", CgroupMode.None)]
    [TestCase("cgroup /a cgroup rw,cpu 0 0", CgroupMode.Legacy)]
    [TestCase("cgroup /a cgroup rw,cpu 0 0\ncgroup /a/name cgroup rw,name=systemd 0 0", CgroupMode.Legacy)]
    [TestCase("cgroup2 /a cgroup2 rw 0 0", CgroupMode.Unified)]
    [TestCase("cgroup2 /a cgroup2 rw 0 0\ncgroup /b cgroup rw,name=systemd 0 0", CgroupMode.Unified)]
    [TestCase("cgroup2 /a cgroup2 rw 0 0\ncgroup /b cgroup rw,memory 0 0", CgroupMode.Hybrid)]
    public void Classifies_mode(string mounts, CgroupMode mode)
        => Assert.That(HierarchyDiscovery.Classify(HierarchyDiscovery.Discover(MountTable.Parse(mounts))), Is.EqualTo(mode));

    [Test]
    public void Every_cgroup2_mount_is_the_one_unified_hierarchy()
    {
        var hierarchies = HierarchyDiscovery.Discover(MountTable.Parse(
            "40 30 0:37 /lxc.payload.c1 /var/lib/lxc/c1/rootfs/sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n"
            + "41 30 0:37 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"));

        Assert.That(hierarchies.Single().Key, Is.EqualTo(Hierarchy.UnifiedKey));
        Assert.That(hierarchies.Single().MountPoint, Is.EqualTo("/sys/fs/cgroup"));
        Assert.That(hierarchies.Single().MountPoints, Has.Count.EqualTo(2));
        Assert.That(hierarchies.Single().Controllers, Is.Empty, "no reader given: nothing is read");
    }
}
