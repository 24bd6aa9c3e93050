using Interop.Core.Adapters;
using Interop.Core.Adapters.Lxc;
using Interop.Core.Model;

namespace Interop.Core.Tests.Adapters.Lxc;

public class LxcLayoutTests
{
    public static IEnumerable<TestCaseData> Children()
    {
        static TestCaseData Row(string child, DirRole? role, string? name, int? suffix) =>
            new TestCaseData(child, role, name, suffix).SetArgDisplayNames(child.Length == 0 ? "(empty)" : child);

        yield return Row("lxc.payload.web.01-a", DirRole.Payload, "web.01-a", null);
        yield return Row("lxc.monitor.web.01-a", DirRole.Monitor, "web.01-a", null);
        yield return Row("lxc.payload.NAME-7", DirRole.Payload, "NAME-7", 7);
        yield return Row("lxc.monitor.x-999", DirRole.Monitor, "x-999", 999);
        yield return Row("lxc.payload.x-1000", DirRole.Payload, "x-1000", null);
        yield return Row("lxc.payload.x-07", DirRole.Payload, "x-07", null);
        yield return Row("lxc.payload.x-0", DirRole.Payload, "x-0", null);
        yield return Row("lxc.payload.-7", DirRole.Payload, "-7", null);
        yield return Row("lxc.payload.9lives", DirRole.Payload, "9lives", null);
        yield return Row("lxc.payload.lxc.payload.x", DirRole.Payload, "lxc.payload.x", null);
        yield return Row("lxc.payload.Ünïcødé-容器-2", DirRole.Payload, "Ünïcødé-容器-2", 2);
        yield return Row("lxc.pivot", DirRole.Pivot, string.Empty, null);
        yield return Row("lxc.payload.", null, null, null);
        yield return Row("lxc.monitor.", null, null, null);
        yield return Row("lxc.pivot.x", null, null, null);
        yield return Row("lxc", null, null, null);
        yield return Row("lxc-1234-web.libvirt-lxc", null, null, null);
        yield return Row("LXC.payload.x", null, null, null);
        yield return Row(string.Empty, null, null, null);
    }

    [TestCaseSource(nameof(Children))]
    public void Classify_child(string child, DirRole? role, string? name, int? suffix)
    {
        var match = new LxcLayout().Classify(child);
        Assert.That(match, Is.EqualTo(role is null ? null : new LayoutMatch(Manager.Lxc, role.Value, name!, Suffix: suffix)));
    }

    [TestCase("lxc.payload.web.01-a", "web.01-a", true)]
    [TestCase("lxc.monitor.web.01-a", "web.01-a", true)]
    [TestCase("lxc.payload.web.01-a-3", "web.01-a", true)]
    [TestCase("lxc.monitor.web.01-a-999", "web.01-a", true)]
    [TestCase("lxc.payload.x-7", "x-7", true)]
    [TestCase("lxc.payload.x-7", "x", true)]
    [TestCase("lxc.payload.x-7-2", "x-7", true)]
    [TestCase("lxc.payload.x-1000", "x", false)]
    [TestCase("lxc.payload.x-07", "x", false)]
    [TestCase("lxc.payload.web", "web.01-a", false)]
    [TestCase("lxc.payload.web.01-ab", "web.01-a", false)]
    [TestCase("lxc.payload.web.01", "web.01-a", false)]
    [TestCase("lxc.pivot", "lxc.pivot", false)]
    [TestCase("lxc.pivot", "", false)]
    [TestCase("web.01-a", "web.01-a", false)]
    [TestCase("lxc-1-web.01-a.libvirt-lxc", "web.01-a", false)]
    [TestCase("lxc.payload.bench-sib17", "bench-lxp", false)]
    [TestCase("lxc.monitor.a", "ab", false)]
    [TestCase("lxc.payload.", "", false)]
    public void IsStaleDirOf(string child, string name, bool stale)
    {
        Assert.That(new LxcLayout().IsStaleDirOf(child, name), Is.EqualTo(stale));
    }

    [Test]
    public void Every_dir_a_container_can_get_is_stale_for_it_and_for_no_other_plain_name()
    {
        foreach (var name in LxcReferenceModelTests.EdgeNames)
        {
            foreach (var suffix in new[] { 0, 1, 42, 999 })
            {
                var p = LxcReferenceModel.Place(name, new LxcCgroupSettings(), suffix, suffix);
                Assert.That(new LxcLayout().IsStaleDirOf(p.Payload, name), Is.True, p.Payload);
                Assert.That(new LxcLayout().IsStaleDirOf(p.Monitor, name), Is.True, p.Monitor);
                Assert.That(new LxcLayout().IsStaleDirOf(p.Payload, name + "x"), Is.False, p.Payload);
            }
        }
    }

    [TestCase("machine", "machine")]
    [TestCase("/machine", "machine")]
    [TestCase("/machine/shared", "machine/shared")]
    public void ParentDir_is_the_shared_root(string root, string expected)
    {
        var layout = new LxcLayout();
        Assert.Multiple(() =>
        {
            Assert.That(layout.Manager, Is.EqualTo(Manager.Lxc));
            Assert.That(layout.ParentDir(root, new Dictionary<string, string> { [FactKeys.ConfigFile] = "/x" }), Is.EqualTo(expected));
        });
    }

    [TestCase("/")]
    [TestCase("a/../b")]
    [TestCase("")]
    public void ParentDir_refuses_a_bad_shared_root(string root)
    {
        var ex = Assert.Throws<InvalidInputException>(() => new LxcLayout().ParentDir(root, new Dictionary<string, string>()));
        Assert.That(ex!.Field, Is.EqualTo("shared root"));
    }

    [Test]
    public void LeaderOf_a_payload_is_its_init_the_task_whose_parent_the_monitor_is_outside_it()
    {
        var match = new LxcLayout().Classify("lxc.payload.web")!;
        var host = new FakeHostProbe();
        host.TasksByDir["machine/lxc.payload.web"] = [4300, 4242, 4301];
        host.Parents[4242] = 4100;
        host.Parents[4300] = 4242;
        host.Parents[4301] = 4300;

        Assert.Multiple(() =>
        {
            Assert.That(new LxcLayout().LeaderOf(match, "machine/lxc.payload.web", host), Is.EqualTo(4242));
            Assert.That(new LxcLayout().NameOf(match, 4242, host), Is.EqualTo("web"));
            Assert.That(host.Asked, Has.None.StartsWith("pid files"), "LXC keeps no name elsewhere");
        });
    }

    [Test]
    public void LeaderOf_takes_the_lowest_pid_when_two_tasks_have_parents_outside_and_0_for_an_empty_dir()
    {
        var match = new LxcLayout().Classify("lxc.payload.web")!;
        var host = new FakeHostProbe();
        host.TasksByDir["machine/lxc.payload.web"] = [5000, 4242];
        host.Parents[5000] = 1;
        host.Parents[4242] = 4100;

        Assert.Multiple(() =>
        {
            Assert.That(new LxcLayout().LeaderOf(match, "machine/lxc.payload.web", host), Is.EqualTo(4242), "an lxc-attach'ed task reparented to init is not lower");
            Assert.That(new LxcLayout().LeaderOf(match, "machine/lxc.payload.gone", host), Is.Zero);
        });
    }

    [Test]
    public void ClassifyUnit_is_null_LXC_makes_no_unit_of_its_own()
    {
        Assert.That(new LxcLayout().ClassifyUnit("lxc-web.scope"), Is.Null);
    }

    [Test]
    public void A_retry_reading_dir_belongs_to_the_container_of_its_literal_name_when_that_one_is_registered_or_busy()
    {
        var layout = new LxcLayout();
        string[] siblings = ["lxc.payload.web", "lxc.payload.web-7", "lxc.monitor.web-2", "lxc.payload.web-1"];
        var others = new OtherContainers(new HashSet<string> { "web-7" }, new HashSet<int>(), siblings, "lxc.monitor.web-2".Equals, _ => true);

        Assert.Multiple(() =>
        {
            Assert.That(layout.MayBelongToAnother(layout.Classify("lxc.payload.web-7")!, "web", others), Is.True, "web-7 is registered");
            Assert.That(layout.MayBelongToAnother(layout.Classify("lxc.payload.web-2")!, "web", others), Is.True, "web-2's monitor holds a task");
            Assert.That(layout.MayBelongToAnother(layout.Classify("lxc.payload.web-1")!, "web", others), Is.False, "nobody's: web's own retry dir");
            Assert.That(layout.MayBelongToAnother(layout.Classify("lxc.payload.web")!, "web", others with { Names = new HashSet<string> { "web" } }), Is.False, "the exact name is never another's");
            Assert.That(layout.IsExactDirOf(layout.Classify("lxc.monitor.web")!, "web"), Is.True);
            Assert.That(layout.IsExactDirOf(layout.Classify("lxc.payload.web-1")!, "web"), Is.False);
        });
    }
}
