using Interop.Core.Model;
using Interop.Linux.Cgroups;
using Interop.Service;

namespace Interop.Service.Tests;

/// <summary>
/// <see cref="LinuxCgroupHost.IsAtOrBelow"/> (start-up reconcile's liveness check) and
/// <see cref="LinuxCgroupHost.AnyCgroupPath"/> (a lookup by pid) against a /proc of files: the same answers as
/// <see cref="LinuxCgroupHost.ReadProcCgroup"/> gives, for the hierarchies the host knows.
/// </summary>
public class LinuxCgroupHostTests
{
    private static readonly CgroupPath Dir = CgroupPath.Of("/machine/lxc.payload.c1");

    private string _proc = "";
    private LinuxCgroupHost _host = null!;

    [SetUp]
    public void SetUp()
    {
        _proc = Directory.CreateTempSubdirectory("interop-proc.").FullName;
        _host = new LinuxCgroupHost(
            [
                new Hierarchy("cpuset", CgroupVersion.V1, ["cpuset"], null, "/sys/fs/cgroup/cpuset", ["/sys/fs/cgroup/cpuset"], "/"),
                new Hierarchy("memory", CgroupVersion.V1, ["memory"], null, "/sys/fs/cgroup/memory", ["/sys/fs/cgroup/memory"], "/"),
            ],
            "/machine",
            procRoot: _proc);
    }

    [TearDown]
    public void TearDown()
    {
        _host.Dispose();
        Directory.Delete(_proc, recursive: true);
    }

    [TestCase("/machine/lxc.payload.c1", true)]
    [TestCase("/machine/lxc.payload.c1/init.scope", true)]
    [TestCase("/machine/lxc.payload.c10", false)]
    [TestCase("/elsewhere", false)]
    public void A_pid_is_at_or_below_a_dir_when_a_known_hierarchy_says_so(string cpusetPath, bool expected)
    {
        Proc(4242, $"5:cpuset:{cpusetPath}\n4:memory:/process_api/x\n0::/\n");

        Assert.That(_host.IsAtOrBelow(4242, Dir), Is.EqualTo(expected));
        Assert.That(_host.ReadProcCgroup(4242)!.Values.Any(p => CgroupPath.Of(p).IsAtOrBelow(Dir)), Is.EqualTo(expected));
    }

    [Test]
    public void A_line_of_a_hierarchy_the_host_does_not_know_does_not_count()
    {
        Proc(4242, "7:blkio:/machine/lxc.payload.c1\n5:cpuset:/\n");

        Assert.That(_host.IsAtOrBelow(4242, Dir), Is.False);
    }

    [Test]
    public void A_pid_that_is_gone_is_nowhere()
    {
        Assert.That(_host.IsAtOrBelow(4243, Dir), Is.False);
    }

    [Test]
    public void AnyCgroupPath_shows_the_paths_of_known_hierarchies_in_the_files_order_until_one_is_taken()
    {
        Proc(4242, "7:blkio:/machine/lxc.payload.c1\n5:cpuset:/machine/lxc.payload.c2/init.scope\n4:memory:/process_api/x\n0::/\n");
        var shown = new List<string>();

        var all = _host.AnyCgroupPath(4242, path =>
        {
            shown.Add(path.ToString());
            return false;
        });
        var first = _host.AnyCgroupPath(4242, path => path.StartsWith("/machine"));

        Assert.Multiple(() =>
        {
            Assert.That(all, Is.False);
            Assert.That(shown, Is.EqualTo(new[] { "/machine/lxc.payload.c2/init.scope", "/process_api/x" }));
            Assert.That(shown, Is.EqualTo(_host.ReadProcCgroup(4242)!.Values));
            Assert.That(first, Is.True);
            Assert.That(_host.AnyCgroupPath(4243, _ => true), Is.Null, "a pid that is gone");
        });
    }

    private void Proc(int pid, string cgroup)
    {
        Directory.CreateDirectory(Path.Combine(_proc, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        File.WriteAllText(Path.Combine(_proc, pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "cgroup"), cgroup);
    }
}
