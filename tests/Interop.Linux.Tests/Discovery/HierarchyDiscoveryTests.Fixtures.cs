using Interop.Core.Model;
using Interop.Linux.Cgroups;
using Interop.Linux.Discovery;
using Interop.Linux.Proc;

namespace Interop.Linux.Tests.Discovery;

/// <summary>
/// Every libvirt data set: Interop's full result by hand from the .mounts file ("key@mount point", in
/// mount order), then libvirt's own .parsed rows, which Interop's result must agree with.
/// </summary>
public partial class HierarchyDiscoveryTests
{
    private const string Fs = "/sys/fs/cgroup/";
    private const string NotReally = "/not/really/sys/fs/cgroup/";

    // What libvirt's mock puts in the v2 root's cgroup.controllers (EXPECTED.md rule 5).
    private const string MockV2Controllers = "cpu io memory";

    private static IEnumerable<TestCaseData> DataSets()
    {
        yield return Set("all-in-one", CgroupMode.Legacy, "cpuset,cpu,cpuacct,blkio,memory,devices@/not/really/sys/fs/cgroup");
        yield return Set("cgroups1", CgroupMode.Legacy, On(Fs, "name=openrc@openrc", "cpuset", "cpu", "cpuacct", "memory", "devices", "freezer", "net_cls", "blkio", "net_prio", "hugetlb"));
        yield return Set("cgroups2", CgroupMode.Legacy, On(Fs, "name=openrc@openrc", "cpuset", "cpu", "cpuacct", "memory", "devices", "freezer", "blkio", "perf_event", "hugetlb"));
        yield return Set("cgroups3", CgroupMode.Legacy, On(Fs, "name=openrc@openrc", "cpuset", "cpu", "cpuacct", "memory", "devices", "freezer", "net_cls", "blkio", "perf_event", "net_prio", "hugetlb"));
        yield return Set("fedora-18", CgroupMode.Legacy, On(Fs, "name=systemd@systemd", "cpuset", "cpu,cpuacct", "memory", "devices", "freezer", "net_cls", "blkio", "perf_event"));
        yield return Set("fedora-21", CgroupMode.Legacy, On(Fs, "name=systemd@systemd", "cpuset", "cpu,cpuacct", "memory", "devices", "freezer", "net_cls,net_prio", "blkio", "perf_event", "hugetlb"));
        yield return Set("hybrid", CgroupMode.Hybrid, On(NotReally, "name=openrc@openrc", "unified", "cpuset", "devices", "net_cls", "freezer", "perf_event", "hugetlb", "pids"));
        yield return Set("kubevirt", CgroupMode.Legacy,
            "name=openrc@/sys/fs/cgroup/openrc",
            "cpuset@/sys/fs/cgroup/cpuset",
            "cpu@/sys/fs/cgroup/cpu",
            "cpuacct@/sys/fs/cgroup/cpuacct",
            "memory@/sys/fs/cgroup/memory",
            "devices@/sys/fs/cgroup/devices",
            "freezer@/some/random/location/freezer",
            "blkio@/sys/fs/cgroup/blkio",
            "perf_event@/sys/fs/cgroup/perf_event",
            "hugetlb@/sys/fs/cgroup/hugetlb");
        yield return Set("logind", CgroupMode.None, "name=systemd@/not/really/sys/fs/cgroup/systemd");
        yield return Set("no-cgroups", CgroupMode.None);
        yield return Set("ovirt-node-6.6", CgroupMode.Legacy, On("/cgroup/", "cpuset", "cpu", "cpuacct", "memory", "devices", "freezer", "net_cls", "blkio"));
        yield return Set("ovirt-node-7.1", CgroupMode.Legacy, On(Fs, "name=systemd@systemd", "cpuset", "cpu,cpuacct", "memory", "devices", "freezer", "net_cls", "blkio", "perf_event", "hugetlb"));
        yield return Set("rhel-7.1", CgroupMode.Legacy, On(Fs, "name=systemd@systemd", "cpuset", "cpu,cpuacct", "memory", "devices", "freezer", "net_cls", "blkio", "perf_event", "hugetlb"));
        yield return Set("systemd", CgroupMode.Legacy, On(NotReally, "name=systemd@systemd", "cpuset", "cpu,cpuacct", "freezer", "blkio", "memory"));
        yield return Set("systemd-legacy", CgroupMode.Legacy, On(NotReally, "blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory", "net_cls", "perf_event", "pids"));
        yield return Set("systemd-unified", CgroupMode.Unified, "unified@/not/really/sys/fs/cgroup");
        yield return Set("unified", CgroupMode.Unified, "unified@/not/really/sys/fs/cgroup");
    }

    private static TestCaseData Set(string name, CgroupMode mode, params string[] expected)
        => new TestCaseData(name, mode, expected).SetArgDisplayNames(name);

    private static string[] On(string prefix, params string[] keys)
        => [.. keys.Select(k => k.Contains('@', StringComparison.Ordinal) ? k.Split('@')[0] + "@" + prefix + k.Split('@')[1] : k + "@" + prefix + k)];

    private static IReadOnlyList<Hierarchy> DiscoverSet(string name)
        => HierarchyDiscovery.Discover(MountTable.Read(Fixtures.Libvirt(name, "mounts")), _ => MockV2Controllers);

    [TestCaseSource(nameof(DataSets))]
    public void Data_set_gives_every_hierarchy(string name, CgroupMode mode, string[] expected)
    {
        var hierarchies = DiscoverSet(name);

        Assert.That(hierarchies.Select(h => h.Key + "@" + h.MountPoint), Is.EqualTo(expected));
        Assert.That(HierarchyDiscovery.Classify(hierarchies), Is.EqualTo(mode));
        Assert.That(hierarchies.Select(h => h.Key), Is.Unique);
        Assert.That(hierarchies.All(h => h.Root == "/"), Is.True, "the short format has no root field");
    }

    /// <summary>
    /// libvirt's rows: a controller libvirt finds must be at the same mount point here; a controller it
    /// reports as &lt;null&gt; must be absent, except where libvirt hands it to v2 on a hybrid host
    /// (EXPECTED.md rule 5: it drops v1 devices on "hybrid"), which Interop keeps as the v1 hierarchy it is.
    /// rhel-7.1 has no .parsed upstream: fedora-18's applies (EXPECTED.md section 5).
    /// </summary>
    [TestCase("all-in-one")]
    [TestCase("cgroups1")]
    [TestCase("cgroups2")]
    [TestCase("cgroups3")]
    [TestCase("fedora-18")]
    [TestCase("fedora-21")]
    [TestCase("hybrid", "devices")]
    [TestCase("kubevirt")]
    [TestCase("ovirt-node-6.6")]
    [TestCase("ovirt-node-7.1")]
    [TestCase("unified")]
    public void Agrees_with_libvirt_parsed_rows(string name, string? givenToV2ByLibvirt = null)
        => AgreeWithParsed(name, name, givenToV2ByLibvirt);

    [Test]
    public void Rhel_7_1_agrees_with_the_fedora_18_table()
        => AgreeWithParsed("rhel-7.1", "fedora-18", null);

    private static void AgreeWithParsed(string name, string parsedSet, string? givenToV2ByLibvirt)
    {
        var hierarchies = DiscoverSet(name);
        var rows = File.ReadAllLines(Fixtures.Libvirt(parsedSet, "parsed"));
        Assert.That(rows, Has.Length.GreaterThanOrEqualTo(10));
        foreach (var row in rows)
        {
            var controller = row[..12].TrimEnd();
            var libvirt = row[13..];
            var found = controller switch
            {
                "name=systemd" => hierarchies.FindByKey("name=systemd"),
                "unified" => hierarchies.FindByKey(Hierarchy.UnifiedKey),
                _ => hierarchies.FirstOrDefault(h => !h.IsUnified && h.Has(controller)),
            };

            if (libvirt != "<null>")
            {
                Assert.That(found?.MountPoint, Is.EqualTo(libvirt), $"{name}: {controller}");
            }
            else if (controller != givenToV2ByLibvirt)
            {
                Assert.That(found, Is.Null, $"{name}: {controller} is not mounted");
            }
            else
            {
                Assert.That(found, Is.Not.Null, $"{name}: {controller} has a v1 mount libvirt ignores in favour of v2");
            }
        }
    }

    [Test]
    public void Kubevirt_duplicate_mounts_are_one_hierarchy_each_with_all_mount_points()
    {
        var hierarchies = DiscoverSet("kubevirt");

        Assert.That(hierarchies.FindByKey("cpuset")!.MountPoints, Is.EqualTo(new[] { "/some/random/location/cpuset", "/sys/fs/cgroup/cpuset" }));
        Assert.That(hierarchies.FindByKey("cpuacct")!.MountPoints, Is.EqualTo(new[] { "/some/random/location/cpuset", "/sys/fs/cgroup/cpuacct" }));
        Assert.That(hierarchies.FindByKey("freezer")!.MountPoints, Is.EqualTo(new[] { "/sys/fs/cgroup/freezer", "/some/random/location/freezer" }));
        Assert.That(hierarchies.FindByKey("cpu")!.MountPoints, Is.EqualTo(new[] { "/sys/fs/cgroup/cpu" }));
    }

    [TestCase("all-in-one")]
    [TestCase("cgroups1")]
    [TestCase("cgroups3")]
    [TestCase("fedora-18")]
    [TestCase("fedora-21")]
    [TestCase("hybrid")]
    [TestCase("kubevirt")]
    [TestCase("logind")]
    [TestCase("ovirt-node-6.6")]
    [TestCase("ovirt-node-7.1")]
    [TestCase("systemd")]
    [TestCase("systemd-legacy")]
    [TestCase("systemd-unified")]
    public void Self_cgroup_places_every_hierarchy(string name)
    {
        var hierarchies = DiscoverSet(name);
        var text = File.ReadAllText(Fixtures.Libvirt(name, "self.cgroup"));
        var lines = ProcCgroup.Parse(text);

        var paths = ProcCgroup.PathsByKey(hierarchies, text);

        Assert.That(paths.Keys, Is.EquivalentTo(hierarchies.Select(h => h.Key)));
        Assert.That(lines, Has.Count.EqualTo(hierarchies.Count), "one line per mounted hierarchy, none left over");
    }

    [TestCase("all-in-one")]
    [TestCase("cgroups1")]
    [TestCase("fedora-21")]
    [TestCase("hybrid")]
    [TestCase("kubevirt")]
    [TestCase("systemd")]
    [TestCase("systemd-legacy")]
    [TestCase("systemd-unified")]
    public void Self_cgroup_text_gives_what_its_parsed_lines_give(string name)
    {
        // interopd's lookups by pid and reconcile's liveness read the text without a record per line.
        var hierarchies = DiscoverSet(name);
        var text = File.ReadAllText(Fixtures.Libvirt(name, "self.cgroup"));
        var lines = ProcCgroup.Parse(text);
        var paths = hierarchies
            .Select(h => (h.Key, Line: lines.FirstOrDefault(l => l.Matches(h))))
            .Where(p => p.Line is not null)
            .ToDictionary(p => p.Key, p => p.Line!.Path);

        Assert.That(ProcCgroup.PathsByKey(hierarchies, text), Is.EquivalentTo(paths));
        foreach (var (key, path) in paths)
        {
            var one = new[] { hierarchies.FindByKey(key)! };
            Assert.That(ProcCgroup.AnyAtOrBelow(text, CgroupPath.Of(path), one), Is.True, $"{key} at {path}");
            Assert.That(ProcCgroup.AnyAtOrBelow(text, CgroupPath.Of(path == "/" ? "/elsewhere" : path + "x"), one), Is.False, $"{key} not at {path}x");
        }
    }

    [TestCase("systemd", "cpu,cpuacct", "/system")]
    [TestCase("systemd", "name=systemd", "/user/berrange/123")]
    [TestCase("systemd", "memory", "/")]
    [TestCase("systemd-legacy", "cpu", "/libvirt/emulator")]
    [TestCase("systemd-legacy", "blkio", "/libvirt")]
    [TestCase("systemd-legacy", "pids", "/")]
    [TestCase("systemd-unified", "unified", "/libvirt/emulator")]
    [TestCase("kubevirt", "name=openrc", "/")]
    [TestCase("all-in-one", "cpuset,cpu,cpuacct,blkio,memory,devices", "/")]
    public void Self_cgroup_path_per_hierarchy(string name, string key, string path)
    {
        var paths = ProcCgroup.PathsByKey(DiscoverSet(name), File.ReadAllText(Fixtures.Libvirt(name, "self.cgroup")));

        Assert.That(paths[key], Is.EqualTo(path));
    }

    [Test]
    public void V2_controllers_come_from_the_reader_at_the_unified_mount_point()
    {
        var asked = new List<string>();
        var hierarchies = HierarchyDiscovery.Discover(
            MountTable.Read(Fixtures.Libvirt("hybrid", "mounts")),
            mp =>
            {
                asked.Add(mp);
                return "cpu io memory\n";
            });

        Assert.That(asked, Is.EqualTo(new[] { "/not/really/sys/fs/cgroup/unified" }));
        Assert.That(hierarchies.FindByKey("unified")!.Controllers, Is.EqualTo(new[] { "cpu", "io", "memory" }));
    }

    [Test]
    public void This_host_capture_is_hybrid_with_every_hierarchy_placed()
    {
        var hierarchies = HierarchyDiscovery.Discover(
            MountTable.Read(Fixtures.ThisHost("debian12-hybrid.mountinfo")),
            mp => mp == "/sys/fs/cgroup/unified" ? "hugetlb\n" : null);

        Assert.That(
            hierarchies.Select(h => h.Key + "@" + h.MountPoint),
            Is.EqualTo(On(Fs, "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "name=systemd@systemd", "unified")));
        Assert.That(HierarchyDiscovery.Classify(hierarchies), Is.EqualTo(CgroupMode.Hybrid));
        Assert.That(hierarchies.FindByKey("unified")!.Controllers, Is.EqualTo(new[] { "hugetlb" }));

        var paths = ProcCgroup.PathsByKey(hierarchies, File.ReadAllText(Fixtures.ThisHost("debian12-hybrid.self.cgroup")));
        Assert.That(paths.Keys, Is.EquivalentTo(hierarchies.Select(h => h.Key)));
        Assert.That(paths.Values, Has.All.EqualTo("/"));
    }

    [Test]
    public void Live_host_is_hybrid_and_proc_self_cgroup_places_every_hierarchy()
    {
        var hierarchies = HierarchyDiscovery.FromHost();

        Assert.That(hierarchies.Select(h => h.Key), Is.SupersetOf(new[] { "cpuset", "memory", "name=systemd", Hierarchy.UnifiedKey }));
        Assert.That(HierarchyDiscovery.Classify(hierarchies), Is.EqualTo(CgroupMode.Hybrid));
        foreach (var hierarchy in hierarchies)
        {
            Assert.That(Directory.Exists(hierarchy.MountPoint), Is.True, hierarchy.MountPoint);
        }

        var unified = hierarchies.FindByKey(Hierarchy.UnifiedKey)!;
        var file = File.ReadAllText(Path.Combine(unified.MountPoint, "cgroup.controllers"));
        Assert.That(string.Join(' ', unified.Controllers), Is.EqualTo(file.Trim()), "FromHost reads the v2 cgroup.controllers");

        var paths = ProcCgroup.PathsByKey(hierarchies, File.ReadAllText("/proc/self/cgroup"));
        Assert.That(paths.Keys, Is.EquivalentTo(hierarchies.Select(h => h.Key)));
        Assert.That(paths.Values, Has.All.StartWith("/"));
    }
}
