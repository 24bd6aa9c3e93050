using System.Text.Json;
using Interop.FunctionalTests.Support;

namespace Interop.FunctionalTests;

/// <summary>interopctl (the published AOT binary when INTEROP_CTL is set) end to end against the running interopd.</summary>
[TestFixture]
public class CliTests
{
    [Test]
    public void LxcHooksV0_DriveTheLifecycle_AndTheAdminCommandsSeeIt()
    {
        using var rig = Rig.Start();
        const string name = "cli1";
        var env = new Dictionary<string, string?>
        {
            ["LXC_NAME"] = name,
            ["LXC_HOOK_VERSION"] = "0",
            ["LXC_CONFIG_FILE"] = "/var/lib/lxc/cli1/config",
            ["LXC_ROOTFS_PATH"] = "/var/lib/lxc/cli1/rootfs",
            ["LXC_ROOTFS_MOUNT"] = "/usr/lib/x86_64-linux-gnu/lxc/rootfs",
            ["LXC_CGNS_AWARE"] = "1",
            ["LXC_LOG_LEVEL"] = "ERROR",
        };

        var pre = Ctl(rig, env, "hook", "lxc", name, "lxc", "pre-start");
        Assert.That(pre.ExitCode, Is.EqualTo(0), pre.ToString());
        Assert.That(rig.State, Does.Contain("state: prepared"));

        var (leader, child) = rig.StartLxcTasks(name);
        env["LXC_PID"] = leader.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var started = Ctl(rig, env, "hook", "lxc", name, "lxc", "start-host");
        Assert.That(started.ExitCode, Is.EqualTo(0), started.ToString());

        var list = Ctl(rig, null, "--json", "list");
        Assert.That(list.ExitCode, Is.EqualTo(0), list.ToString());
        using (var doc = JsonDocument.Parse(list.Stdout))
        {
            Assert.That(doc.RootElement.ToString(), Does.Contain(name).And.Contain(leader.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.That(Ctl(rig, null, "list").Stdout, Does.Contain(name));
        var show = Ctl(rig, null, "show", name);
        Assert.That((show.ExitCode, show.Stdout.Contains($"lxc.payload.{name}", StringComparison.Ordinal)), Is.EqualTo((0, true)), show.ToString());
        var whois = Ctl(rig, null, "whois", child.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.That((whois.ExitCode, whois.Stdout.Contains(name, StringComparison.Ordinal)), Is.EqualTo((0, true)), whois.ToString());
        var tree = Ctl(rig, null, "tree");
        Assert.That((tree.ExitCode, tree.Stdout.Contains(name, StringComparison.Ordinal)), Is.EqualTo((0, true)), tree.ToString());
        var status = Ctl(rig, null, "status");
        Assert.That((status.ExitCode, status.Stdout.Contains(rig.SharedRoot, StringComparison.Ordinal)), Is.EqualTo((0, true)), status.ToString());

        var get = Ctl(rig, null, "get", name, "cpuset.cpus");
        var onDisk = File.ReadAllText(Path.Combine(rig.RootDir("cpuset", "lxc.payload." + name), "cpuset.cpus")).Trim();
        Assert.That((get.ExitCode, get.Stdout.Trim()), Is.EqualTo((0, onDisk)), get.ToString());
        var set = Ctl(rig, null, "set", name, "pids.max", "77");
        Assert.That(set.ExitCode, Is.EqualTo(0), set.ToString());
        Assert.That(File.ReadAllText(Path.Combine(rig.RootDir("pids", "lxc.payload." + name), "pids.max")).Trim(), Is.EqualTo("77"));
        Assert.That(Ctl(rig, null, "set", name, "cgroup.procs", "1").ExitCode, Is.EqualTo(2));

        var setup = Ctl(rig, null, "setup");
        Assert.That(setup.ExitCode, Is.EqualTo(0), setup.ToString());
        var dry = Ctl(rig, null, "prune", "--dry-run");
        Assert.That(dry.ExitCode, Is.EqualTo(0), dry.ToString());
        Assert.That(Directory.Exists(rig.RootDir("cpuset", "lxc.payload." + name)), Is.True, "prune never touches a dir with tasks");

        env["LXC_TARGET"] = "stop";
        Assert.That(Ctl(rig, env, "hook", "lxc", name, "lxc", "stop").ExitCode, Is.EqualTo(0));
        Rig.KillTasks(leader, child);
        var post = Ctl(rig, env, "hook", "lxc", name, "lxc", "post-stop");
        Assert.That(post.ExitCode, Is.EqualTo(0), post.ToString());
        Assert.That(rig.DirsMentioning(name), Is.Empty);
        Assert.That(Sync.Run(rig.Client.ListContainersAsync()), Is.Empty);
        Assert.That(Ctl(rig, null, "show", name).ExitCode, Is.EqualTo(4));
    }

    [Test]
    public void ExitCodes_UsageAndUnreachable()
    {
        var dir = Directory.CreateTempSubdirectory("interop-ft-nobus-");
        try
        {
            var unreachable = Cmd.Run(Binaries.Interopctl, "--bus", $"unix:path={dir.FullName}/nobody-listens", "list");
            Assert.That(unreachable.ExitCode, Is.EqualTo(3), unreachable.ToString());
            Assert.That(unreachable.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1), "one line that says what to do");
            Assert.That(Cmd.Run(Binaries.Interopctl, "no-such-command").ExitCode, Is.EqualTo(2));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static CmdResult Ctl(Rig rig, IReadOnlyDictionary<string, string?>? env, params string[] args)
        => Cmd.Run(Binaries.Interopctl, new[] { "--bus", rig.Address }.Concat(args), env: env);
}
