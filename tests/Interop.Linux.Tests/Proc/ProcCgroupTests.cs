using Interop.Core.Model;
using Interop.Linux.Cgroups;
using Interop.Linux.Discovery;
using Interop.Linux.Proc;

namespace Interop.Linux.Tests.Proc;

public class ProcCgroupTests
{
    [TestCase("0::/", 0, "", "/", true)]
    [TestCase("0::/user.slice/a:b:c", 0, "", "/user.slice/a:b:c", true)]
    [TestCase("4:memory:/process_api/c0c05d237702e2e42a716cdfa3526df7", 4, "memory", "/process_api/c0c05d237702e2e42a716cdfa3526df7", false)]
    [TestCase("12:cpu,cpuacct:/machine/lxc-1-a.libvirt-lxc", 12, "cpu,cpuacct", "/machine/lxc-1-a.libvirt-lxc", false)]
    [TestCase("1:name=systemd:/init.scope", 1, "name=systemd", "/init.scope", false)]
    [TestCase("0:name=openrc:/", 0, "name=openrc", "/", false)]
    [TestCase("115:memory:/", 115, "memory", "/", false)]
    [TestCase("3:cpuset:/lxc.payload.c1\r", 3, "cpuset", "/lxc.payload.c1", false)]
    public void Parses_line(string line, int id, string controllers, string path, bool unified)
    {
        Assert.That(ProcCgroup.TryParseLine(line, out var entry), Is.True);
        Assert.That(entry, Is.EqualTo(new ProcCgroupLine(id, controllers, path)));
        Assert.That(entry!.IsUnified, Is.EqualTo(unified));
    }

    [TestCase("")]
    [TestCase("garbage")]
    [TestCase("1:cpu")]
    [TestCase("x::/")]
    [TestCase("-1::/")]
    [TestCase(":cpu:/")]
    [TestCase("1:cpu:relative")]
    [TestCase("1:cpu:")]
    public void Rejects_malformed_line(string line)
        => Assert.That(ProcCgroup.TryParseLine(line, out _), Is.False);

    [Test]
    public void Parse_throws_with_the_line_number_on_a_malformed_line()
    {
        var error = Assert.Throws<FormatException>(() => ProcCgroup.Parse("1:cpu:/\n\n2:memory\n", "/proc/42/cgroup"));
        Assert.That(error!.Message, Does.Contain("/proc/42/cgroup line 3"));
    }

    [Test]
    public void Parse_skips_blank_lines()
        => Assert.That(ProcCgroup.Parse("1:cpu:/a\n\n0::/b\n"), Has.Count.EqualTo(2));

    [TestCase("cpuacct,cpu", "cpu,cpuacct", true)]
    [TestCase("cpu,cpuacct", "cpu,cpuacct", true)]
    [TestCase("cpu", "cpu,cpuacct", false)]
    [TestCase("cpu,cpuacct,memory", "cpu,cpuacct", false)]
    [TestCase("name=systemd", "name=systemd", true)]
    [TestCase("name=systemd", "name=openrc", false)]
    [TestCase("cpu,name=foo", "cpu,name=foo", true)]
    [TestCase("cpu", "cpu,name=foo", false)]
    [TestCase("name=foo", "cpu,name=foo", false)]
    [TestCase("", "cpu", false)]
    [TestCase("rdma", "pids", false)]
    [TestCase("pids,memory", "memory,pids", true)]
    [TestCase("memory,cpu", "cpu,pids,memory", false)]
    public void Matches_v1_hierarchy_by_controller_set(string field, string hierarchyOptions, bool matches)
    {
        Assert.That(HierarchyDiscovery.TryIdentifyV1("rw," + hierarchyOptions, out var key, out var controllers, out var name), Is.True);
        var hierarchy = new Hierarchy(key, CgroupVersion.V1, controllers, name, "/x", ["/x"], "/");

        Assert.That(new ProcCgroupLine(3, field, "/").Matches(hierarchy), Is.EqualTo(matches));
    }

    [Test]
    public void Matches_v2_only_by_id_zero_with_no_controllers()
    {
        var unified = new Hierarchy(Hierarchy.UnifiedKey, CgroupVersion.V2, [], null, "/sys/fs/cgroup", ["/sys/fs/cgroup"], "/");

        Assert.That(new ProcCgroupLine(0, "", "/a").Matches(unified), Is.True);
        Assert.That(new ProcCgroupLine(0, "name=openrc", "/a").Matches(unified), Is.False);
        Assert.That(new ProcCgroupLine(1, "cpu", "/a").Matches(unified), Is.False);
    }

    [Test]
    public void Reads_a_pid_under_a_proc_root_and_tolerates_a_gone_pid()
    {
        var root = Directory.CreateTempSubdirectory("interop-proc-");
        try
        {
            Directory.CreateDirectory(Path.Combine(root.FullName, "77"));
            File.WriteAllText(Path.Combine(root.FullName, "77", "cgroup"), "1:cpuset:/machine/x\n0::/machine/x\n");

            Assert.That(ProcCgroup.Read(77, root.FullName).Select(l => l.Path), Is.EqualTo(new[] { "/machine/x", "/machine/x" }));
            Assert.That(ProcCgroup.TryRead(78, root.FullName), Is.Null);
            Assert.Throws<FileNotFoundException>(() => ProcCgroup.Read(78, root.FullName));

            // A cgroup file that is there and cannot be read is an error, not a gone process.
            Directory.CreateDirectory(Path.Combine(root.FullName, "79", "cgroup"));
            Assert.That(Assert.Throws<IOException>(() => ProcCgroup.TryRead(79, root.FullName))!.Message, Does.Contain("EISDIR"));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Test]
    public void Reads_the_live_self_file()
    {
        var lines = ProcCgroup.Read(Environment.ProcessId);

        Assert.That(lines, Is.Not.Empty);
        Assert.That(lines.Count(l => l.IsUnified), Is.LessThanOrEqualTo(1));
        Assert.That(ProcCgroup.ReadFile("/proc/self/cgroup"), Is.EqualTo(lines));
    }

    [TestCase("/machine/web", true)]
    [TestCase("/machine", true)]
    [TestCase("/", true)]
    [TestCase("/machine/we", false)]
    [TestCase("/machine/web/init.scope", false)]
    [TestCase("/other", false)]
    public void AnyAtOrBelow_is_component_wise_and_only_in_the_hierarchies_given(string dir, bool expected)
    {
        var cpu = new Hierarchy("cpu,cpuacct", CgroupVersion.V1, ["cpu", "cpuacct"], null, "/sys/fs/cgroup/cpu,cpuacct", ["/sys/fs/cgroup/cpu,cpuacct"], "/");
        const string Text = "5:cpuacct,cpu:/machine/web\n4:memory:/other\n0::/machine/web (deleted)\n\n";

        Assert.That(ProcCgroup.AnyAtOrBelow(Text, CgroupPath.Of(dir), [cpu]), Is.EqualTo(expected));
    }

    [Test]
    public void AnyAtOrBelow_Any_and_PathsByKey_of_text_throw_on_a_malformed_line_as_Parse_does()
    {
        const string Text = "1:cpu:/a\n2:memory\n";

        Assert.Multiple(() =>
        {
            Assert.That(Assert.Throws<FormatException>(() => ProcCgroup.AnyAtOrBelow(Text, CgroupPath.Of("/b"), [], "/proc/7/cgroup"))!.Message, Does.Contain("/proc/7/cgroup line 2"));
            Assert.That(Assert.Throws<FormatException>(() => ProcCgroup.Any(Text, [], _ => true, "/proc/7/cgroup"))!.Message, Does.Contain("/proc/7/cgroup line 2"));
            Assert.That(Assert.Throws<FormatException>(() => ProcCgroup.PathsByKey([], Text, "/proc/7/cgroup"))!.Message, Does.Contain("/proc/7/cgroup line 2"));
        });
    }

    [Test]
    public void Any_asks_about_the_lines_of_the_hierarchies_given_in_order_and_stops_at_the_first_taken()
    {
        var cpu = new Hierarchy("cpu,cpuacct", CgroupVersion.V1, ["cpu", "cpuacct"], null, "/sys/fs/cgroup/cpu,cpuacct", ["/sys/fs/cgroup/cpu,cpuacct"], "/");
        var unified = new Hierarchy(Hierarchy.UnifiedKey, CgroupVersion.V2, [], null, "/sys/fs/cgroup/unified", ["/sys/fs/cgroup/unified"], "/");
        const string Text = "5:cpuacct,cpu:/machine/web\n4:memory:/other\n0::/machine/web (deleted)\n2:malformed\n";
        var asked = new List<string>();

        var taken = ProcCgroup.Any(Text, [unified, cpu], path =>
        {
            asked.Add(path.ToString());
            return path.EndsWith("(deleted)");
        });

        Assert.Multiple(() =>
        {
            Assert.That(taken, Is.True);
            Assert.That(asked, Is.EqualTo(new[] { "/machine/web", "/machine/web (deleted)" }), "memory is not given; the malformed line after the one taken is not read");
        });
    }
}
