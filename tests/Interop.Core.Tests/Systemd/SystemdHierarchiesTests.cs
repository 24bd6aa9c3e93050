using Interop.Core.Systemd;

namespace Interop.Core.Tests.Systemd;

public class SystemdHierarchiesTests
{
    [TestCase("name=systemd", true)]
    [TestCase("unified", true)]
    [TestCase("cpu", true)]
    [TestCase("cpuacct", true)]
    [TestCase("cpu,cpuacct", true)]
    [TestCase("blkio", true)]
    [TestCase("memory", true)]
    [TestCase("devices", true)]
    [TestCase("pids", true)]
    [TestCase("cpuset", false)]
    [TestCase("freezer", false)]
    [TestCase("net_cls,net_prio", false)]
    [TestCase("perf_event", false)]
    [TestCase("hugetlb", false)]
    [TestCase("rdma", false)]
    [TestCase("misc", false)]
    [TestCase("name=elogind", false)]
    public void Systemd_manages_its_own_hierarchies_and_the_v1_controllers_it_has_settings_for(string key, bool managed) =>
        Assert.That(SystemdHierarchies.IsManaged(key), Is.EqualTo(managed));

    [Test]
    public void A_units_paths_are_read_where_systemd_tracks_units()
    {
        // hybrid: name=systemd and the cgroup2 mount (they may differ); pure v2: the one mount; no systemd hierarchy: none.
        var hybrid = new Dictionary<string, string> { ["cpuset"] = "/", ["unified"] = "/machine.slice/x.scope", ["name=systemd"] = "/system.slice/libvirtd.service" };
        var unified = new Dictionary<string, string> { ["unified"] = "/machine.slice/lxc-web.scope/lxc.pivot" };
        var none = new Dictionary<string, string> { ["cpuset"] = "/machine.slice/lxc-web.scope" };

        Assert.Multiple(() =>
        {
            Assert.That(SystemdHierarchies.UnitPathsOf(hybrid), Is.EqualTo(new[] { "/system.slice/libvirtd.service", "/machine.slice/x.scope" }));
            Assert.That(SystemdHierarchies.UnitPathsOf(unified), Is.EqualTo(new[] { "/machine.slice/lxc-web.scope/lxc.pivot" }));
            Assert.That(SystemdHierarchies.UnitPathsOf(none), Is.Empty);
        });
    }

    [Test]
    public void The_plan_from_the_nested_hosts_monitor_mirrors_unmanaged_hierarchies_and_names_unrealized_ones()
    {
        // LXC's monitor right after its scope started, on the hybrid nested systemd 252 host (fixtures/systemd in
        // Interop.Service.Tests): realized in cpu, memory, pids, blkio, name=systemd and cgroup2; cpuacct at /,
        // devices at the slice; cpuset and freezer are no unit's.
        const string Scope = "/machine.slice/lxc-web.scope";
        var monitor = new Dictionary<string, string>
        {
            ["name=systemd"] = Scope, ["pids"] = Scope, ["blkio"] = Scope, ["freezer"] = "/", ["devices"] = "/machine.slice",
            ["memory"] = Scope, ["cpuset"] = "/", ["cpuacct"] = "/", ["cpu"] = Scope, ["unified"] = Scope,
        };

        var plan = SystemdHierarchies.Plan(monitor, Scope);

        Assert.Multiple(() =>
        {
            Assert.That(plan.Mirror, Is.EqualTo(new[] { "cpuset", "freezer" }));
            Assert.That(plan.Unrealized, Is.EqualTo(new[] { "cpuacct", "devices" }));
        });
    }

    [Test]
    public void A_process_below_its_unit_is_in_place_everywhere()
    {
        // After a container reboot LXC's monitor sits in <unit>/lxc.pivot: nothing to move, in no hierarchy.
        const string Scope = "/machine.slice/lxc-web.scope";
        var plan = SystemdHierarchies.Plan(new Dictionary<string, string> { ["unified"] = Scope + "/lxc.pivot", ["cpuset"] = Scope + "/lxc.pivot" }, Scope);
        Assert.That(plan.Mirror.Concat(plan.Unrealized), Is.Empty);
    }

    [Test]
    public void A_sibling_with_the_same_prefix_is_not_below_the_unit()
    {
        var plan = SystemdHierarchies.Plan(new Dictionary<string, string> { ["cpuset"] = "/machine.slice/lxc-web.scope2" }, "/machine.slice/lxc-web.scope");
        Assert.That(plan.Mirror, Is.EqualTo(new[] { "cpuset" }));
    }
}
