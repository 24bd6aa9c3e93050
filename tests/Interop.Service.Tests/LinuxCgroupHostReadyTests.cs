using Interop.Linux.Cgroups;
using Interop.Service;
using Interop.TestSupport;

namespace Interop.Service.Tests;

/// <summary>
/// <see cref="LinuxCgroupHost.EnsureReady"/> (what every prepare runs) on this host's real cgroupfs, in a scratch cgroup
/// in every hierarchy: a hierarchy nothing wrote into is not checked again, one that changed is, and is repaired.
/// </summary>
[NonParallelizable]
public class LinuxCgroupHostReadyTests
{
    private ScratchCgroups _scratch = null!;
    private LinuxCgroupHost _host = null!;
    private string _root = "";

    [SetUp]
    public void SetUp()
    {
        _scratch = new ScratchCgroups("interop-test-", ".d");
        _root = _scratch.Rel("machine");
        _host = new LinuxCgroupHost(_scratch.Hierarchies, _root, "/" + _scratch.Name);
    }

    [TearDown]
    public void TearDown()
    {
        _host.Dispose();
        _scratch.Dispose();
    }

    [Test]
    public void Once_checked_a_quiet_shared_root_is_not_checked_again()
    {
        var made = _host.EnsureReady(_root);
        _host.EnsureReady(_root); // the first call made the dirs it now watches
        Assert.That(_host.LastChecked, Is.EquivalentTo(_scratch.Hierarchies.Select(h => h.Key)));

        var quiet = _host.EnsureReady(_root);

        Assert.Multiple(() =>
        {
            Assert.That(made, Does.Contain($"pids: created /{_root}"));
            Assert.That(quiet, Is.Empty);
            Assert.That(_host.LastChecked, Is.Empty);
        });
    }

    [Test]
    public void The_children_of_a_readied_parent_follow_its_dirs_in_every_hierarchy()
    {
        var pids = _scratch["pids"];
        var unified = _scratch["unified"];
        _host.EnsureReady(_root);
        CgroupFs.CreateDir(pids, _root + "/lxc.payload.a");
        Assert.That(_host.ListChildren(_root), Is.EquivalentTo(new[] { "lxc.payload.a" }));

        CgroupFs.CreateDir(unified, _root + "/lxc.payload.b");
        Directory.Delete(pids.DirOf(_root + "/lxc.payload.a"));
        CgroupFs.CreateDir(unified, _root + "/lxc.payload.a");

        Assert.Multiple(() =>
        {
            Assert.That(_host.ListChildren(_root, _ => true), Is.EquivalentTo(new[] { "lxc.payload.a", "lxc.payload.b" }));
            Assert.That(_host.ListChildren("/" + _root, _ => true), Is.EquivalentTo(new[] { "lxc.payload.a", "lxc.payload.b" }), "the same dir written otherwise");
            Assert.That(_host.ListChildren(_root, n => n.EndsWith(".b", StringComparison.Ordinal)), Is.EqualTo(new[] { "lxc.payload.b" }), "only the names asked for");
            Assert.That(_host.ListChildren(_root + "/lxc.payload.b", _ => true), Is.Empty, "a dir that is not kept is listed");
        });
    }

    [Test]
    public void A_write_into_the_shared_root_sends_that_hierarchy_alone_through_the_check_and_it_is_repaired()
    {
        var pids = _scratch["pids"];
        _host.EnsureReady(_root);
        _host.EnsureReady(_root);

        CgroupFs.Write(pids, _root, CgroupFs.CloneChildren, "0");
        var repaired = _host.EnsureReady(_root);

        Assert.Multiple(() =>
        {
            Assert.That(_host.LastChecked, Is.EqualTo(new[] { "pids" }));
            Assert.That(repaired, Is.EqualTo(new[] { $"pids: repaired cgroup.clone_children of /{_root}: was 0, set to 1" }));
            Assert.That(CgroupFs.Read(pids, _root, CgroupFs.CloneChildren).Trim(), Is.EqualTo("1"));
        });

        _host.EnsureReady(_root); // its own repair was a write
        _host.EnsureReady(_root);
        Assert.That(_host.LastChecked, Is.Empty);
    }

    [Test]
    public void What_LXC_writes_at_every_start_above_the_shared_root_does_not_count_on_v1_and_does_on_cgroup2()
    {
        _host.EnsureReady(_root);
        _host.EnsureReady(_root);

        // LXC copies the cpuset into the first level below the hierarchy root at every start (cpuset1_initialize).
        var cpuset = _scratch["cpuset"];
        CgroupFs.Write(cpuset, _scratch.Name, CgroupFs.CloneChildren, "1");
        _host.EnsureReady(_root);
        Assert.That(_host.LastChecked, Is.Empty);

        // On cgroup2 the level above hands the shared root its controllers: a write there counts.
        CgroupFs.Write(_scratch["unified"], _scratch.Name, "cgroup.max.depth", "max");
        _host.EnsureReady(_root);
        Assert.That(_host.LastChecked, Is.EqualTo(new[] { "unified" }));
    }

    [Test]
    public void A_shared_root_removed_behind_its_back_is_made_again()
    {
        var pids = _scratch["pids"];
        _host.EnsureReady(_root);
        _host.EnsureReady(_root);

        Directory.Delete(pids.DirOf(_root));
        var again = _host.EnsureReady(_root);

        Assert.Multiple(() =>
        {
            Assert.That(again, Is.EqualTo(new[] { $"pids: created /{_root}", $"pids: cgroup.clone_children set to 1 on /{_root}" }));
            Assert.That(CgroupFs.Exists(pids, _root), Is.True);
        });
    }

    [Test]
    public void A_partition_below_the_shared_root_is_made_in_every_hierarchy_and_then_left_alone()
    {
        var partition = _root + "/web.partition";

        var made = _host.EnsureReady(partition);
        _host.EnsureReady(partition);
        var quiet = _host.EnsureReady(partition);

        Assert.Multiple(() =>
        {
            Assert.That(made, Does.Contain($"cpuset: created /{partition}"));
            Assert.That(quiet, Is.Empty);
            Assert.That(_host.LastChecked, Is.Empty);
            foreach (var h in _scratch.Hierarchies)
            {
                Assert.That(CgroupFs.Exists(h, partition), Is.True, h.Key);
            }
        });
    }
}
