using System.Text.Json;
using Interop.Core.Model;
using Interop.DBus;
using Interop.Linux.Cgroups;
using NSubstitute;

namespace Interop.Ctl.Tests;

/// <summary>'status': daemon facts, local health even when the daemon is down, the hybrid warning, exit codes.</summary>
public class StatusCommandTests
{
    private static readonly HierarchyHealth CpusetOk = new("cpuset", "/sys/fs/cgroup/cpuset/machine", true, 1, false, false, []);

    private static readonly HierarchyHealth CpusetBad = new("cpuset", "/sys/fs/cgroup/cpuset/machine", true, 0, true, false, ["cgroup.clone_children is 0, expected 1"]);

    [Test]
    public async Task Healthy_host_and_reachable_daemon_exit_0()
    {
        var h = Reachable();
        h.Probe = root => new LocalHealth("hybrid", root, [CpusetOk], [], null);
        var r = await h.RunAsync("status");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("reachable on system, version 0.1.0"));
        Assert.That(r.Out, Does.Contain("cgroup mode:  hybrid"));
        Assert.That(r.Out, Does.Contain("shared root:  /machine"));
        Assert.That(r.Out, Does.Contain("containers:   2"));
        Assert.That(r.Out, Does.Contain("/sys/fs/cgroup/cpuset/machine"));
        Assert.That(r.Out, Does.Contain("Local health: ok"));
        Assert.That(r.Error, Is.Empty);
    }

    [Test]
    public async Task A_local_problem_exits_1()
    {
        var h = Reachable();
        h.Probe = root => new LocalHealth("hybrid", root, [CpusetBad], [], null);
        var r = await h.RunAsync("status");

        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.Out, Does.Contain("PROBLEM: cgroup.clone_children is 0, expected 1"));
        Assert.That(r.Out, Does.Contain("interopctl setup"));
    }

    [Test]
    public async Task Unreachable_daemon_exits_3_and_still_prints_local_health_for_the_configured_root()
    {
        var h = new CliHarness { ConnectFailure = new DaemonUnreachableException("system", "no socket") };
        h.Files["/etc/interop/interop.yaml"] = "shared_root: /containers\n";
        string? probed = null;
        h.Probe = root =>
        {
            probed = root;
            return new LocalHealth("hybrid", root, [CpusetOk], [], null);
        };
        var r = await h.RunAsync("status");

        Assert.That(r.Code, Is.EqualTo(3), r.ToString());
        Assert.That(probed, Is.EqualTo("/containers"));
        Assert.That(r.Out, Does.Contain("NOT reachable"));
        Assert.That(r.Out, Does.Contain("Local health: ok"));
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.Contain("systemctl start interopd"));
    }

    [Test]
    public async Task Hybrid_warning_is_printed_but_does_not_fail()
    {
        var h = Reachable();
        var hierarchies = new[]
        {
            new Hierarchy("cpuset", CgroupVersion.V1, ["cpuset"], null, "/sys/fs/cgroup/cpuset", ["/sys/fs/cgroup/cpuset"], "/"),
            new Hierarchy("unified", CgroupVersion.V2, ["hugetlb"], null, "/sys/fs/cgroup/unified", ["/sys/fs/cgroup/unified"], "/"),
        };
        var warnings = LocalHealth.HostWarnings(CgroupMode.Hybrid, hierarchies);
        h.Probe = root => new LocalHealth("hybrid", root, [CpusetOk], warnings, null);
        var r = await h.RunAsync("status");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        var warning = r.Out.Split('\n').Single(l => l.StartsWith("WARNING: ", StringComparison.Ordinal));
        Assert.That(warning, Does.Contain("/sys/fs/cgroup/unified").And.Contain("hugetlb").And.Contain("Unable to create directory /sys/fs/cgroup/unified").And.Contain("docs/libvirt.md"));
    }

    [Test]
    public void Host_warning_only_for_hybrid_hosts_whose_v2_mount_has_controllers()
    {
        var bare = new Hierarchy("unified", CgroupVersion.V2, [], null, "/sys/fs/cgroup/unified", ["/sys/fs/cgroup/unified"], "/");
        var loaded = bare with { Controllers = ["hugetlb"] };
        var unified = bare with { MountPoint = "/sys/fs/cgroup", Controllers = ["cpu", "memory"] };

        Assert.That(LocalHealth.HostWarnings(CgroupMode.Hybrid, [bare]), Is.Empty);
        Assert.That(LocalHealth.HostWarnings(CgroupMode.Hybrid, [loaded]), Has.Count.EqualTo(1));
        Assert.That(LocalHealth.HostWarnings(CgroupMode.Unified, [unified]), Is.Empty);
    }

    [Test]
    public async Task Status_json_reports_daemon_and_local()
    {
        var h = Reachable();
        h.Probe = root => new LocalHealth("hybrid", root, [CpusetBad], ["w1"], null);
        var r = await h.RunAsync("status", "--json");

        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        var o = doc.RootElement;
        Assert.That(o.GetProperty("healthy").GetBoolean(), Is.False);
        Assert.That(o.GetProperty("daemon").GetProperty("reachable").GetBoolean(), Is.True);
        Assert.That(o.GetProperty("daemon").GetProperty("version").GetString(), Is.EqualTo("0.1.0"));
        Assert.That(o.GetProperty("daemon").GetProperty("container_count").GetUInt32(), Is.EqualTo(2u));
        Assert.That(o.GetProperty("daemon").GetProperty("hierarchies")[0].GetProperty("mount_point").GetString(), Is.EqualTo("/sys/fs/cgroup/cpuset"));
        var local = o.GetProperty("local");
        Assert.That(local.GetProperty("shared_root").GetString(), Is.EqualTo("/machine"));
        Assert.That(local.GetProperty("hierarchies")[0].GetProperty("clone_children").GetInt32(), Is.EqualTo(0));
        Assert.That(local.GetProperty("hierarchies")[0].GetProperty("cpus_empty").GetBoolean(), Is.True);
        Assert.That(local.GetProperty("warnings")[0].GetString(), Is.EqualTo("w1"));
    }

    [Test]
    public async Task Status_json_when_unreachable_says_so()
    {
        var h = new CliHarness { ConnectFailure = new DaemonUnreachableException("system", "no socket") };
        var r = await h.RunAsync("status", "--json");

        Assert.That(r.Code, Is.EqualTo(3), r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        Assert.That(doc.RootElement.GetProperty("daemon").GetProperty("reachable").GetBoolean(), Is.False);
        Assert.That(doc.RootElement.GetProperty("daemon").GetProperty("error").GetString(), Does.Contain("no socket"));
        Assert.That(doc.RootElement.GetProperty("local").GetProperty("shared_root").GetString(), Is.EqualTo("/machine"));
    }

    private static CliHarness Reachable()
    {
        var h = new CliHarness();
        h.Properties = new DaemonProperties("0.1.0", "hybrid", "/machine", [new HierarchyInfo("cpuset", "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/cpuset/machine")], 2u, null);
        return h;
    }
}
