using Interop.Core.Adapters;
using Interop.Core.Adapters.Libvirt;
using Interop.Core.Model;
using Interop.Core.Text;

namespace Interop.Core.Tests.Adapters.Libvirt;

public class LibvirtNamesTests
{
    /// <summary>The controllers of this kind of host (/proc/cgroups names).</summary>
    internal static readonly string[] Controllers =
        ["cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls", "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc"];

    private static readonly string A54 = new('a', 54);

    // domain_driver.c virDomainDriverGenerateMachineName / virDomainMachineNameAppendValid.
    [TestCase(16923, "e-lv-rt", "lxc-16923-e-lv-rt", TestName = "captured domain of the 9.0.0 lifecycle")]
    [TestCase(14178, "e-lv1", "lxc-14178-e-lv1", TestName = "captured domain of the 9.0.0 /shared partition run")]
    [TestCase(4242, "a_-b", "lxc-4242-a-b", TestName = "seen on 9.0.0: a dropped '_' does not count as kept")]
    [TestCase(4242, "Web.01-_x..y", "lxc-4242-Web.01-x.y", TestName = "seen on 9.0.0: doubled separators collapse")]
    [TestCase(4242, "9-lives_.-end-", "lxc-4242-9-lives.end", TestName = "seen on 9.0.0: digit first, trailing '-' trimmed")]
    [TestCase(4242, "web", "lxc-4242-web", TestName = "plain name")]
    [TestCase(4242, "a_b", "lxc-4242-ab", TestName = "underscore dropped")]
    [TestCase(4242, "a b", "lxc-4242-ab", TestName = "space dropped")]
    [TestCase(4242, "a--b", "lxc-4242-a-b", TestName = "doubled dash")]
    [TestCase(4242, "a.-b", "lxc-4242-a.b", TestName = "dot then dash keeps the dot")]
    [TestCase(4242, "a-.b", "lxc-4242-a-b", TestName = "dash then dot keeps the dash")]
    [TestCase(4242, "-lead", "lxc-4242-lead", TestName = "leading dash dropped")]
    [TestCase(4242, ".hidden", "lxc-4242-hidden", TestName = "leading dot dropped")]
    [TestCase(4242, "_.x", "lxc-4242-x", TestName = "leading underscore then dot: nothing kept yet")]
    [TestCase(4242, "end.", "lxc-4242-end", TestName = "trailing dot trimmed")]
    [TestCase(4242, "end._", "lxc-4242-end", TestName = "trailing dot before a dropped char trimmed")]
    [TestCase(4242, "ünïcode", "lxc-4242-ncode", TestName = "non-ASCII bytes dropped")]
    [TestCase(4242, "日本", "lxc-4242", TestName = "nothing kept: the prefix dash is trimmed too")]
    [TestCase(4242, "_", "lxc-4242", TestName = "underscore only")]
    [TestCase(4242, "-.-", "lxc-4242", TestName = "separators only")]
    [TestCase(4242, "Ab9", "lxc-4242-Ab9", TestName = "case kept")]
    public void MachineName_filters_like_libvirt(int id, string name, string expected)
    {
        Assert.That(LibvirtNames.MachineName(id, name), Is.EqualTo(expected));
    }

    private static IEnumerable<TestCaseData> LengthCases()
    {
        // "lxc-16923-" is 10 characters: 54 more fill 64.
        yield return new TestCaseData(16923, A54, "lxc-16923-" + A54).SetName("exactly 64 characters");
        yield return new TestCaseData(16923, A54 + "b", "lxc-16923-" + A54).SetName("65 characters cut to 64");
        yield return new TestCaseData(16923, new string('x', 60), "lxc-16923-" + new string('x', 54)).SetName("seen on 9.0.0: 60-character name cut to fill 64");
        yield return new TestCaseData(99, new string('x', 60), "lxc-99-" + new string('x', 57)).SetName("a shorter pid leaves more of the name");
        yield return new TestCaseData(16923, new string('a', 53) + "-b", "lxc-16923-" + new string('a', 53)).SetName("cut right after a dash: the dash is trimmed");
        yield return new TestCaseData(16923, new string('a', 53) + "_b", "lxc-16923-" + new string('a', 53) + "b").SetName("dropped chars do not count toward 64");
        yield return new TestCaseData(16923, new string('a', 200), "lxc-16923-" + A54).SetName("200 characters");
    }

    [TestCaseSource(nameof(LengthCases))]
    public void MachineName_stops_at_64_characters(int id, string name, string expected)
    {
        var machine = LibvirtNames.MachineName(id, name);
        Assert.That(machine, Is.EqualTo(expected));
        Assert.That(machine, Has.Length.LessThanOrEqualTo(LibvirtNames.MaxMachineName));
    }

    [TestCase(4242, "a_-b", "a-b")]
    [TestCase(4242, "_", "")]
    [TestCase(4242, "e-lv-rt", "e-lv-rt")]
    public void FilteredName_is_the_part_after_the_pid(int id, string name, string expected)
    {
        Assert.That(LibvirtNames.FilteredName(id, name), Is.EqualTo(expected));
    }

    // vircgroup.c virCgroupSetPartitionSuffix + virCgroupPartitionEscape.
    [TestCase("/machine", "machine", TestName = "default partition")]
    [TestCase("/system", "system", TestName = "first-level system")]
    [TestCase("/user", "user", TestName = "first-level user")]
    [TestCase("/containers", "containers.partition", TestName = "other first-level gets .partition")]
    [TestCase("/shared", "shared.partition", TestName = "captured /shared partition")]
    [TestCase("/machine/web", "machine/web.partition", TestName = "child of machine")]
    [TestCase("/machine/web-tier", "machine/web-tier.partition", TestName = "dash kept in cgroupfs")]
    [TestCase("/a/machine", "a.partition/machine.partition", TestName = "machine only special at first level")]
    [TestCase("/a/b/c/d", "a.partition/b.partition/c.partition/d.partition", TestName = "four levels")]
    [TestCase("/machine/web/db", "machine/web.partition/db.partition", TestName = "three levels under machine")]
    [TestCase("/web.tier", "web.tier", TestName = "a dot means no suffix")]
    [TestCase("/machine.x", "machine.x", TestName = "not exactly machine")]
    [TestCase("/cpu.x", "_cpu.x", TestName = "controller prefix cpu.")]
    [TestCase("/cpuset.y", "_cpuset.y", TestName = "controller prefix cpuset.")]
    [TestCase("/net_cls.z", "_net_cls.z", TestName = "controller prefix with underscore")]
    [TestCase("/cpu", "_cpu.partition", TestName = "suffix first, then the controller prefix escapes it")]
    [TestCase("/cpux", "cpux.partition", TestName = "controller name without dot is no prefix")]
    [TestCase("/memoryx.y", "memoryx.y", TestName = "longer word starting with a controller name")]
    [TestCase("/_x", "__x.partition", TestName = "leading underscore")]
    [TestCase("/.x", "_.x", TestName = "leading dot")]
    [TestCase("/cgroup.x", "_cgroup.x", TestName = "cgroup. prefix")]
    [TestCase("/machine/_x", "machine/__x.partition", TestName = "escaping below machine")]
    [TestCase("/machine/cpu.x", "machine/_cpu.x", TestName = "controller prefix below machine")]
    public void PartitionDir_escapes_like_libvirt(string partition, string expected)
    {
        Assert.That(LibvirtNames.PartitionDir(partition, Controllers), Is.EqualTo(expected));
    }

    [TestCase("machine", TestName = "relative")]
    [TestCase("", TestName = "empty")]
    [TestCase("/", TestName = "the root")]
    [TestCase("/a//b", TestName = "empty component")]
    [TestCase("/a/", TestName = "trailing slash")]
    [TestCase("/a/..", TestName = "dot-dot")]
    [TestCase("/./a", TestName = "dot")]
    [TestCase("/a\nb", TestName = "newline")]
    [TestCase("/a\0b", TestName = "NUL")]
    public void PartitionDir_refuses_bad_partitions(string partition)
    {
        var ex = Assert.Throws<InvalidInputException>(() => LibvirtNames.PartitionDir(partition, Controllers));
        Assert.That(ex!.Field, Is.EqualTo("partition"));
    }

    [Test]
    public void PartitionDir_refuses_a_component_that_grows_past_255_bytes()
    {
        var ex = Assert.Throws<InvalidInputException>(() => LibvirtNames.PartitionDir("/" + new string('p', 250), Controllers));
        Assert.That(ex!.Field, Is.EqualTo("partition"));
    }

    [Test]
    public void ControllerTokens_of_the_kernels_tab_separated_file_never_match_as_in_libvirt()
    {
        const string ProcCgroups = "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t3\t1\t1\ncpu\t1\t1\t1\nmemory\t4\t80\t1\n";
        var tokens = LibvirtNames.ControllerTokens(ProcCgroups);
        Assert.That(tokens, Is.EqualTo(new[] { "cpuset\t3\t1\t1\n", "cpu\t1\t1\t1\n", "memory\t4\t80\t1\n" }));
        Assert.That(LibvirtNames.PartitionDir("/cpu.x", tokens), Is.EqualTo("cpu.x"));
    }

    [Test]
    public void ControllerTokens_of_a_space_separated_file_match()
    {
        const string ProcCgroups = "#subsys_name    hierarchy       num_cgroups     enabled\ncpuset   6   1  1\ncpu      6   1  1\n";
        var tokens = LibvirtNames.ControllerTokens(ProcCgroups);
        Assert.That(tokens, Is.EqualTo(new[] { "cpuset", "cpu" }));
        Assert.That(LibvirtNames.PartitionDir("/cpuset.y", tokens), Is.EqualTo("_cpuset.y"));
    }

    [TestCase("lxc-16923-e-lv-rt", "lxc-16923-e-lv-rt.libvirt-lxc")]
    [TestCase("lxc-4242", "lxc-4242.libvirt-lxc")]
    public void LeafName_appends_libvirt_lxc(string machine, string expected)
    {
        Assert.That(LeafName(machine, Controllers), Is.EqualTo(expected));
    }

    /// <summary>
    /// Reference model of libvirt's leaf (vircgroup.c virCgroupNewDomainPartition): "&lt;machine name&gt;.libvirt-lxc",
    /// escaped like a partition component. The product only reads leaves (<see cref="LibvirtNames.ParseLeaf"/>).
    /// </summary>
    internal static string LeafName(string machineName, IReadOnlyCollection<string> controllers) =>
        LibvirtNames.EscapeComponent(machineName + LibvirtNames.LeafSuffix, controllers);

    [TestCase("lxc-16923-e-lv-rt.libvirt-lxc", 16923, "e-lv-rt")]
    [TestCase("lxc-14178-e-lv1.libvirt-lxc", 14178, "e-lv1")]
    [TestCase("lxc-4242-9-lives.end.libvirt-lxc", 4242, "9-lives.end")]
    [TestCase("lxc-4242.libvirt-lxc", 4242, "")]
    public void ParseLeaf_gives_pid_and_filtered_name(string leaf, int pid, string name)
    {
        Assert.That(LibvirtNames.ParseLeaf(leaf), Is.EqualTo(new LayoutMatch(Manager.Libvirt, DirRole.Payload, name, pid)));
    }

    [TestCase("lxc-4242-a-.libvirt-lxc", TestName = "trailing dash libvirt would have trimmed")]
    [TestCase("lxc-4242-a..b.libvirt-lxc", TestName = "doubled dot libvirt would have collapsed")]
    [TestCase("lxc-4242-a_b.libvirt-lxc", TestName = "underscore libvirt would have dropped")]
    [TestCase("lxc-04242-a.libvirt-lxc", TestName = "leading zero pid")]
    [TestCase("lxc-1-a.libvirt-lxc", TestName = "pid 1")]
    [TestCase("lxc-0-a.libvirt-lxc", TestName = "pid 0")]
    [TestCase("lxc-99999999999-a.libvirt-lxc", TestName = "pid too large")]
    [TestCase("lxc--a.libvirt-lxc", TestName = "no pid")]
    [TestCase("lxc-4242-a.libvirt-qemu", TestName = "qemu leaf")]
    [TestCase("lxc-4242-a", TestName = "no suffix")]
    [TestCase("qemu-4242-a.libvirt-lxc", TestName = "other driver prefix")]
    [TestCase("lxc-4242-" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + ".libvirt-lxc", TestName = "longer than 64")]
    public void ParseLeaf_refuses_names_libvirt_cannot_make(string leaf)
    {
        Assert.That(LibvirtNames.ParseLeaf(leaf), Is.Null);
    }

    [Test]
    public void ScopeDir_is_machined_layout()
    {
        Assert.That(ScopeDir("/machine", "lxc-16923-e-lv-rt"), Is.EqualTo(@"machine.slice/machine-lxc\x2d16923\x2de\x2dlv\x2drt.scope"));
        Assert.That(ScopeDir("/machine/web-tier", "lxc-99-a"), Is.EqualTo(@"machine.slice/machine-web\x2dtier.slice/machine-lxc\x2d99\x2da.scope"));
    }

    /// <summary>
    /// Reference model of machined's layout of a domain (vircgroup.c virCgroupNewMachineSystemd, virsystemd.c
    /// virSystemdCreateMachine): "&lt;slice dirs&gt;/machine-&lt;esc(machine name)&gt;.scope". The product asks systemd
    /// for a unit's path; this checks that the escaping it parses scopes with builds what libvirt's machined scope is.
    /// </summary>
    private static string ScopeDir(string partition, string machineName) =>
        SystemdEscape.SliceDir(SystemdEscape.SliceName(partition)) + "/" + SystemdEscape.ScopeName(machineName);

    [TestCase(@"machine-lxc\x2d16923\x2de\x2dlv\x2drt.scope", 16923, "e-lv-rt")]
    [TestCase(@"machine-lxc\x2d4242.scope", 4242, "")]
    public void ParseScope_gives_pid_and_filtered_name(string scope, int pid, string name)
    {
        Assert.That(LibvirtNames.ParseScope(scope), Is.EqualTo(new LayoutMatch(Manager.Libvirt, DirRole.Payload, name, pid)));
    }

    [TestCase("machine-lxc-4242-a.scope", TestName = "unescaped dash")]
    [TestCase(@"machine-qemu\x2d1\x2dvm.scope", TestName = "qemu machine")]
    [TestCase(@"machine-lxc\x2d4242\x2da.slice", TestName = "a slice")]
    [TestCase("machine.slice", TestName = "the machine slice")]
    public void ParseScope_refuses_other_units(string scope)
    {
        Assert.That(LibvirtNames.ParseScope(scope), Is.Null);
    }
}
