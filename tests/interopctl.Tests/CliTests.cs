using Interop.Core.Adapters.Lxc;

namespace Interop.Ctl.Tests;

/// <summary>Help, version, lxc-config and the hook argument pass-through.</summary>
public class CliTests
{
    [Test]
    public async Task Help_lists_the_commands_and_the_exit_codes()
    {
        var h = new CliHarness();
        var r = await h.RunAsync("--help");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        foreach (var command in new[] { "list", "show", "whois", "tree", "status", "setup", "prune", "get", "set", "lxc-config", "hook" })
        {
            Assert.That(r.Out, Does.Contain("  " + command), command);
        }

        Assert.That(r.Out, Does.Contain("Exit codes: 0 ok, 1 refused or failed, 2 usage error, 3 interopd unreachable, 4 no such container."));
        Assert.That(h.Connections, Is.Empty);
    }

    [Test]
    public async Task Subcommand_help_works_for_hooks_too()
    {
        var h = new CliHarness();
        var r = await h.RunAsync("hook", "lxc", "--help");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("lxc.hook.version"));
        Assert.That(h.Connections, Is.Empty);
    }

    [Test]
    public async Task Version_prints_the_product_version()
    {
        var h = new CliHarness();
        var r = await h.RunAsync("--version");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Match(@"^\d+\.\d+\.\d+"));
    }

    [Test]
    public async Task Lxc_config_defaults_to_this_executable_and_the_configured_root()
    {
        var h = new CliHarness { ProcessPath = "/opt/interop/bin/interopctl" };
        h.Files["/etc/interop/interop.yaml"] = "shared_root: /containers\n";
        var r = await h.RunAsync("lxc-config");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Is.EqualTo(LxcConfig.IncludeFile("/containers", "/opt/interop/bin/interopctl")));
        Assert.That(r.Out, Does.Contain("lxc.hook.pre-start = /opt/interop/bin/interopctl hook lxc"));
        Assert.That(h.Connections, Is.Empty, "no daemon needed");
    }

    [Test]
    public async Task Lxc_config_options_override_and_skip_the_config_file()
    {
        var h = new CliHarness();
        var r = await h.RunAsync("lxc-config", "--interopctl", "/usr/bin/interopctl", "--shared-root", "/machine");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("lxc.cgroup.dir = machine\n"));
        Assert.That(r.Out, Does.Contain("lxc.hook.post-stop = /usr/bin/interopctl hook lxc\n"));
        Assert.That(h.FilesRead, Is.Empty);
    }

    [Test]
    public async Task Lxc_config_for_a_systemd_host_sets_relative_and_names_the_slice_of_the_partition()
    {
        var h = new CliHarness();
        var r = await h.RunAsync("lxc-config", "--interopctl", "/usr/bin/interopctl", "--shared-root", "/machine", "--host", "systemd");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("lxc.cgroup.relative = 1\n").And.Contain("machine.slice"));
        Assert.That(r.Out.Split('\n').Where(l => !l.StartsWith('#')), Has.None.StartsWith("lxc.cgroup.dir"));
        Assert.That(r.Out, Does.Contain("lxc.hook.pre-start = /usr/bin/interopctl hook lxc\n"));
    }

    [TestCase("auto", true, false)]
    [TestCase("auto", false, true)]
    [TestCase("no", false, false)]
    [TestCase("yes", true, true)]
    public async Task Lxc_config_has_a_start_host_hook_only_where_interopd_cannot_watch_cgroup2(string startHost, bool cgroup2, bool expected)
    {
        foreach (var host in new[] { "plain", "systemd" })
        {
            var h = new CliHarness { Cgroup2 = cgroup2 };
            var r = await h.RunAsync("lxc-config", "--interopctl", "/usr/bin/interopctl", "--shared-root", "/machine", "--host", host, "--start-host", startHost);

            Assert.That(r.Code, Is.EqualTo(0), r.ToString());
            var hooks = r.Out.Split('\n').Where(l => l.StartsWith("lxc.hook.", StringComparison.Ordinal)).ToList();
            var want = expected ? new[] { "pre-start", "start-host", "stop", "post-stop" } : new[] { "pre-start", "stop", "post-stop" };
            Assert.That(hooks, Is.EqualTo(want.Select(t => $"lxc.hook.{t} = /usr/bin/interopctl hook lxc")), host);
            Assert.That(r.Out.Contains("interopd registers the container when its init enters its cgroup", StringComparison.Ordinal), Is.EqualTo(!expected), host);
        }
    }

    [Test]
    public async Task Lxc_config_start_host_takes_only_auto_yes_or_no()
    {
        var h = new CliHarness();
        var r = await h.RunAsync("lxc-config", "--start-host", "maybe");

        Assert.That(r.Code, Is.EqualTo(2), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.Out, Is.Empty);
    }

    [Test]
    public async Task Lxc_config_host_auto_is_plain_where_systemd_is_not_pid_1()
    {
        var h = new CliHarness();
        var r = await h.RunAsync("lxc-config", "--interopctl", "/usr/bin/interopctl", "--shared-root", "/machine", "--host", "auto");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("lxc.cgroup.dir = machine\n"));
    }

    [TestCase("relative/interopctl", "/machine")]
    [TestCase("/usr/bin/interopctl", "/a/../b")]
    public async Task Lxc_config_bad_input_exits_2(string ctl, string root)
    {
        var h = new CliHarness();
        var r = await h.RunAsync("lxc-config", "--interopctl", ctl, "--shared-root", root);

        Assert.That(r.Code, Is.EqualTo(2), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.Out, Is.Empty);
    }

    [TestCase(new[] { "hook", "lxc", "web", "lxc", "stop", "-x" }, new[] { "hook", "lxc", "--", "web", "lxc", "stop", "-x" })]
    [TestCase(new[] { "--bus", "session", "hook", "libvirt", "a", "b" }, new[] { "--bus", "session", "hook", "libvirt", "--", "a", "b" })]
    [TestCase(new[] { "--json", "--bus=system", "hook", "lxc", "--" }, new[] { "--json", "--bus=system", "hook", "lxc", "--", "--" })]
    [TestCase(new[] { "hook", "lxc", "--help" }, new[] { "hook", "lxc", "--help" })]
    [TestCase(new[] { "hook", "lxc" }, new[] { "hook", "lxc" })]
    [TestCase(new[] { "show", "hook", "lxc" }, new[] { "show", "hook", "lxc" })]
    public void Hook_arguments_are_protected_from_option_parsing(string[] args, string[] expected)
    {
        Assert.That(Cli.ProtectHookArgs(args), Is.EqualTo(expected));
    }

    [TestCase("/etc/libvirt/hooks/lxc.d/interop")]
    [TestCase("/etc/libvirt/hooks/lxc.d/10-anything")]
    [TestCase("/etc/libvirt/hooks/lxc")]
    [TestCase("lxc.d/interop")]
    public void A_name_in_libvirts_hook_dir_runs_the_libvirt_hook(string argv0)
        => Assert.That(Cli.LibvirtHookArgs(argv0, ["web", "prepare", "begin", "-"]),
            Is.EqualTo(new[] { "hook", "libvirt", "--", "web", "prepare", "begin", "-" }));

    [TestCase("/usr/bin/interopctl")]
    [TestCase("interopctl")]
    [TestCase("/etc/libvirt/hooks/qemu")]
    [TestCase("/usr/local/bin/lxc")]
    [TestCase("")]
    [TestCase(null)]
    public void Any_other_name_is_the_cli(string? argv0)
        => Assert.That(Cli.LibvirtHookArgs(argv0, ["--version"]), Is.Null);
}
