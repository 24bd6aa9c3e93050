using Interop.Core.Adapters;
using Interop.Core.Adapters.Libvirt;
using Interop.Core.Model;

namespace Interop.Core.Tests.Adapters.Libvirt;

public class LibvirtLayoutTests
{
    private static readonly string Long60 = new('x', 60);

    private readonly LibvirtLayout _layout = new(LibvirtNamesTests.Controllers);

    [Test]
    public void Manager_is_libvirt()
    {
        Assert.That(_layout.Manager, Is.EqualTo(Manager.Libvirt));
    }

    [TestCase(null, "machine", TestName = "no partition fact: libvirt's default /machine")]
    [TestCase("/machine", "machine", TestName = "the shared root itself")]
    [TestCase("/machine/web", "machine/web.partition", TestName = "a partition below the shared root")]
    [TestCase("/shared", "shared.partition", TestName = "a partition outside the shared root")]
    [TestCase("/machine/cpu.x", "machine/_cpu.x", TestName = "controller prefix escaped")]
    public void ParentDir_is_the_escaped_partition(string? partition, string expected)
    {
        var facts = new Dictionary<string, string>();
        if (partition is not null)
        {
            facts[FactKeys.Partition] = partition;
        }

        Assert.That(_layout.ParentDir("machine", facts), Is.EqualTo(expected));
    }

    [Test]
    public void ParentDir_refuses_a_relative_partition()
    {
        var facts = new Dictionary<string, string> { [FactKeys.Partition] = "machine" };
        var ex = Assert.Throws<InvalidInputException>(() => _layout.ParentDir("machine", facts));
        Assert.That(ex!.Field, Is.EqualTo(FactKeys.Partition));
    }

    [TestCase("lxc-16923-e-lv-rt.libvirt-lxc", "e-lv-rt", true, TestName = "the captured leaf")]
    [TestCase("lxc-99-e-lv-rt.libvirt-lxc", "e-lv-rt", true, TestName = "any pid")]
    [TestCase("lxc-123-a-b.libvirt-lxc", "a_-b", true, TestName = "filtered name matches the raw domain name")]
    [TestCase("lxc-123-a.libvirt-lxc", "a_", true, TestName = "dropped trailing char")]
    [TestCase("lxc-123.libvirt-lxc", "_", true, TestName = "nothing of the name kept")]
    [TestCase("lxc-123-a-b.libvirt-lxc", "a", false, TestName = "domain a is not domain a-b")]
    [TestCase("lxc-123-a.libvirt-lxc", "a-b", false, TestName = "domain a-b is not domain a")]
    [TestCase("lxc-123-ab.libvirt-lxc", "a", false, TestName = "prefix of a name")]
    [TestCase("lxc-123.libvirt-lxc", "a", false, TestName = "empty filtered name is not a")]
    [TestCase("lxc-1-a.libvirt-lxc", "a", false, TestName = "pid 1 cannot be a controller")]
    [TestCase("lxc-0123-a.libvirt-lxc", "a", false, TestName = "leading zero")]
    [TestCase("lxc-123-a.libvirt-qemu", "a", false, TestName = "qemu leaf")]
    [TestCase("lxc.payload.a", "a", false, TestName = "LXC payload")]
    [TestCase("a.partition", "a", false, TestName = "partition dir")]
    public void IsStaleDirOf(string child, string domain, bool expected)
    {
        Assert.That(_layout.IsStaleDirOf(child, domain), Is.EqualTo(expected));
    }

    [TestCase(99)]
    [TestCase(16923)]
    [TestCase(2147483647)]
    public void IsStaleDirOf_a_long_name_cut_for_another_pid(int oldPid)
    {
        var leaf = LibvirtNamesTests.LeafName(LibvirtNames.MachineName(oldPid, Long60), LibvirtNamesTests.Controllers);
        Assert.That(_layout.IsStaleDirOf(leaf, Long60), Is.True);
        Assert.That(_layout.IsStaleDirOf(leaf, Long60[..10]), Is.False);
    }

    private static IEnumerable<TestCaseData> ClassifyCases()
    {
        yield return new TestCaseData("lxc-16923-e-lv-rt.libvirt-lxc", new LayoutMatch(Manager.Libvirt, DirRole.Payload, "e-lv-rt", 16923)).SetName("leaf");
        yield return new TestCaseData("lxc-4242.libvirt-lxc", new LayoutMatch(Manager.Libvirt, DirRole.Payload, "", 4242)).SetName("leaf of a name with nothing kept");
        yield return new TestCaseData("web.partition", new LayoutMatch(Manager.Libvirt, DirRole.Partition, "web")).SetName("partition");
        yield return new TestCaseData("_cpu.partition", new LayoutMatch(Manager.Libvirt, DirRole.Partition, "_cpu")).SetName("escaped partition");
        yield return new TestCaseData(".partition", null).SetName("bare .partition");
        yield return new TestCaseData("lxc.payload.web", null).SetName("LXC payload");
        yield return new TestCaseData("lxc.pivot", null).SetName("LXC pivot");
        yield return new TestCaseData("lxc-abc-x.libvirt-lxc", null).SetName("non-numeric pid");
        yield return new TestCaseData("lxc-123-a-.libvirt-lxc", null).SetName("name libvirt cannot produce");
        yield return new TestCaseData("machine.slice", null).SetName("systemd slice");
        yield return new TestCaseData("web.tier", null).SetName("partition with its own dot");
    }

    [TestCaseSource(nameof(ClassifyCases))]
    public void Classify(string child, LayoutMatch? expected)
    {
        Assert.That(_layout.Classify(child), Is.EqualTo(expected));
    }

    [Test]
    public void A_leaf_is_led_by_its_controller_pid_and_named_by_libvirts_pid_file_for_it()
    {
        // "a_b" filters to "ab": only the pid file keeps the real name.
        var match = _layout.Classify("lxc-4242-ab.libvirt-lxc")!;
        var host = new FakeHostProbe();
        host.PidFiles.Add((LibvirtNames.RunDir, "other", 4000));
        host.PidFiles.Add((LibvirtNames.RunDir, "a_b", 4242));

        var leader = _layout.LeaderOf(match, "machine/lxc-4242-ab.libvirt-lxc", host);

        Assert.Multiple(() =>
        {
            Assert.That(leader, Is.EqualTo(4242));
            Assert.That(_layout.NameOf(match, leader, host), Is.EqualTo("a_b"));
            Assert.That(host.Asked, Is.EqualTo(new[] { "pid files /run/libvirt/lxc 4242" }), "no task is read: the dir's name carries the leader");
        });
    }

    [Test]
    public void Without_a_usable_pid_file_the_name_is_the_filtered_one()
    {
        var match = _layout.Classify("lxc-4242-ab.libvirt-lxc")!;
        var host = new FakeHostProbe();
        Assert.That(_layout.NameOf(match, 4242, host), Is.EqualTo("ab"), "no pid file");

        host.PidFiles.Add((LibvirtNames.RunDir, "..", 4242));
        host.PidFiles.Add((LibvirtNames.RunDir, "a\u0001b", 4242));
        Assert.That(_layout.NameOf(match, 4242, host), Is.EqualTo("ab"), "pid files whose names Interop refuses");

        host.PidFiles.Add((LibvirtNames.RunDir, "a_b", 4242));
        Assert.That(_layout.NameOf(match, 4242, host), Is.EqualTo("a_b"), "the first valid one after refused ones");
    }

    [Test]
    public void A_leaf_without_a_pid_has_no_leader_and_no_pid_file_is_read()
    {
        var match = new LayoutMatch(Manager.Libvirt, DirRole.Payload, "web");
        var host = new FakeHostProbe();
        host.PidFiles.Add((LibvirtNames.RunDir, "web", 1));

        Assert.Multiple(() =>
        {
            Assert.That(_layout.LeaderOf(match, "machine/x", host), Is.Zero);
            Assert.That(_layout.NameOf(match, 0, host), Is.EqualTo("web"));
            Assert.That(host.Asked, Is.Empty);
        });
    }

    [TestCase("machine-lxc\\x2d842\\x2dsdv\\x2d1b7410\\x2dc.scope", 842, "sdv-1b7410-c", TestName = "machined's scope of a domain")]
    [TestCase("lxc-web.scope", null, null, TestName = "an LXC container's scope")]
    [TestCase("machine-qemu\\x2d1\\x2dvm.scope", null, null, TestName = "a QEMU machine")]
    public void ClassifyUnit_knows_machineds_scope_of_a_domain(string unit, int? pid, string? name)
    {
        Assert.That(_layout.ClassifyUnit(unit), Is.EqualTo(pid is null ? null : new LayoutMatch(Manager.Libvirt, DirRole.Payload, name!, pid)));
    }

    [Test]
    public void A_leaf_belongs_to_a_running_domain_when_its_controller_leads_another_or_is_alive()
    {
        var others = new OtherContainers(new HashSet<string>(), new HashSet<int> { 100 }, [], _ => true, pid => pid == 200);

        Assert.Multiple(() =>
        {
            Assert.That(_layout.MayBelongToAnother(_layout.Classify("lxc-100-ab.libvirt-lxc")!, "ab", others), Is.True, "another domain's leader");
            Assert.That(_layout.MayBelongToAnother(_layout.Classify("lxc-200-ab.libvirt-lxc")!, "ab", others), Is.True, "alive");
            Assert.That(_layout.MayBelongToAnother(_layout.Classify("lxc-300-ab.libvirt-lxc")!, "ab", others), Is.False, "dead and nobody's: a leftover; tasks do not matter");
            Assert.That(_layout.IsExactDirOf(_layout.Classify("lxc-300-ab.libvirt-lxc")!, "ab"), Is.False, "a new start never reuses a leaf");
        });
    }
}
