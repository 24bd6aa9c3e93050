using Interop.Core;
using Interop.Core.Model;
using Interop.Core.Service;
using Interop.DBus;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace Interop.Ctl.Tests;

/// <summary>'hook lxc' with the real LXC 5.0.2 captures (versions 0 and 1) and with bad input.</summary>
public class HookLxcCommandTests
{
    public static IEnumerable<TestCaseData> CaptureCalls()
    {
        var types = new[] { "pre-start", "start-host", "stop", "post-stop" };
        foreach (var version in new[] { 0, 1 })
        {
            var calls = Capture.Load($"lxc-5.0.2-hook-version-{version}.txt");
            for (var i = 0; i < calls.Count; i++)
            {
                yield return new TestCaseData(calls[i], types[i]).SetArgDisplayNames($"v{version} {types[i]}");
            }
        }
    }

    [TestCaseSource(nameof(CaptureCalls))]
    public async Task Capture_makes_the_matching_service_call(Capture capture, string type)
    {
        var h = new CliHarness();
        foreach (var (k, v) in capture.Env)
        {
            h.LxcEnvironment[k] = v;
        }

        h.Variables["INTEROP_BUS_ADDRESS"] = "unix:path=/run/test-bus";
        var r = await h.RunAsync(["hook", "lxc", .. capture.Args]);

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Error, Is.Empty);
        Assert.That(h.Connections, Is.EqualTo(new[] { "unix:path=/run/test-bus" }));
        Assert.That(h.FilesRead, Is.Empty, "no config read when INTEROP_BUS_ADDRESS is set");
        IReadOnlyDictionary<string, string> Facts() => Arg.Is<IReadOnlyDictionary<string, string>>(f => f[FactKeys.Hook] == type && f[FactKeys.ConfigFile] == "/var/lib/lxc/e-lxc1/config");
        switch (type)
        {
            case "pre-start":
                await h.Service.Received(1).PrepareContainerAsync(Manager.Lxc, "e-lxc1", Facts(), Arg.Any<CancellationToken>());
                break;
            case "start-host":
                await h.Service.Received(1).RegisterContainerAsync(Manager.Lxc, "e-lxc1", (uint)Capture.InitPid, Facts(), Arg.Any<CancellationToken>());
                break;
            case "stop":
                await h.Service.Received(1).StopContainerAsync(Manager.Lxc, "e-lxc1", Facts(), Arg.Any<CancellationToken>());
                break;
            default:
                await h.Service.Received(1).ReleaseContainerAsync(
                    Manager.Lxc,
                    "e-lxc1",
                    Arg.Is<IReadOnlyDictionary<string, string>>(f => f[FactKeys.Namespaces] == "mnt,pid,uts,ipc,net,cgroup" && f[FactKeys.Target] == "stop"),
                    Arg.Any<CancellationToken>());
                break;
        }

        Assert.That(h.BusCalls, Is.EqualTo(1), "one bus call per hook");
    }

    [Test]
    public async Task Version_0_stop_args_that_look_like_options_reach_the_parser_verbatim()
    {
        var h = new CliHarness();
        h.LxcEnvironment["LXC_NAME"] = "web";
        h.LxcEnvironment["LXC_HOOK_VERSION"] = "0";
        var r = await h.RunAsync("--bus", "session", "hook", "lxc", "web", "lxc", "stop", "mnt:/proc/9061/fd/39", "--help", "-x", "@file");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        await h.Service.Received(1).StopContainerAsync(Manager.Lxc, "web", Arg.Is<IReadOnlyDictionary<string, string>>(f => f[FactKeys.Namespaces] == "mnt"), Arg.Any<CancellationToken>());
        Assert.That(h.Connections, Is.EqualTo(new[] { "session" }));
    }

    [TestCase("mount")]
    [TestCase("autodev")]
    [TestCase("destroy")]
    public async Task Ignored_hook_types_exit_0_without_creating_a_service(string type)
    {
        var h = new CliHarness();
        var r = await h.RunAsync("hook", "lxc", "web", "lxc", type);

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Error, Is.Empty);
        Assert.That(h.Connections, Is.Empty);
        Assert.That(h.FilesRead, Is.Empty, "no config read for a call that needs no bus");
    }

    [TestCase(new[] { "bad/name", "lxc", "pre-start" }, "invalid name")]
    [TestCase(new[] { "..", "lxc", "start-host" }, "invalid name")]
    [TestCase(new[] { "web", "net", "pre-start" }, "invalid section")]
    [TestCase(new[] { "web", "lxc", "bogus" }, "invalid hook")]
    [TestCase(new[] { "web" }, "invalid hook")]
    [TestCase(new string[0], "invalid hook")]
    public async Task Bad_input_refuses_with_1_and_one_line_and_no_service(string[] args, string expected)
    {
        var h = new CliHarness();
        var r = await h.RunAsync(["hook", "lxc", .. args]);

        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.StartWith("interopctl: ").And.Contain(expected));
        Assert.That(h.Connections, Is.Empty);
    }

    [Test]
    public async Task Start_host_without_LXC_PID_is_refused_without_a_service()
    {
        var h = new CliHarness();
        h.LxcEnvironment["LXC_NAME"] = "web";
        var r = await h.RunAsync("hook", "lxc", "web", "lxc", "start-host");

        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.Error, Does.Contain("LXC_PID"));
        Assert.That(h.Connections, Is.Empty);
    }

    [Test]
    public async Task Bad_input_on_stop_warns_and_exits_0_without_a_service()
    {
        var h = new CliHarness();
        h.LxcEnvironment["LXC_NAME"] = "web";
        h.LxcEnvironment["LXC_TARGET"] = "explode";
        var r = await h.RunAsync("hook", "lxc", "web", "lxc", "post-stop");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.StartWith("interopctl: warning: ").And.Contain("LXC_TARGET"));
        Assert.That(h.Connections, Is.Empty);
    }

    [Test]
    public async Task Refused_pre_start_exits_1_with_the_daemons_reason()
    {
        var h = new CliHarness();
        h.Service.PrepareContainerAsync(default, default!, default!, default).ReturnsForAnyArgs(Task.FromException(new ConflictException("lxc/web is running; stop it first")));
        var r = await h.RunAsync("--bus", "system", "hook", "lxc", "web", "lxc", "pre-start");

        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.StartWith("interopctl: lxc pre-start hook for 'web' refused: ").And.EndWith("stop it first"));
    }

    [Test]
    public async Task Unreachable_daemon_on_start_host_exits_3()
    {
        var h = new CliHarness { ConnectFailure = new DaemonUnreachableException("system", "no bus") };
        h.LxcEnvironment["LXC_NAME"] = "web";
        h.LxcEnvironment["LXC_PID"] = "4242";
        var r = await h.RunAsync("hook", "lxc", "web", "lxc", "start-host");

        Assert.That(r.Code, Is.EqualTo(3), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.StartWith("interopctl: ").And.Contain("systemctl start interopd"));
    }

    [TestCase("stop")]
    [TestCase("post-stop")]
    public async Task Stop_and_post_stop_never_fail_when_the_daemon_is_unreachable(string type)
    {
        var h = new CliHarness { ConnectFailure = new DaemonUnreachableException("system", "no bus") };
        var r = await h.RunAsync("hook", "lxc", "web", "lxc", type);

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.StartWith("interopctl: warning: "));
    }

    [TestCase("stop")]
    [TestCase("post-stop")]
    public async Task Stop_and_post_stop_never_fail_when_the_service_throws(string type)
    {
        var h = new CliHarness();
        h.Service.StopContainerAsync(default, default!, default!, default).ReturnsForAnyArgs(Task.FromException(new CgroupException("/sys/fs/cgroup/cpuset/machine/x", 16, "rmdir", "busy")));
        h.Service.ReleaseContainerAsync(default, default!, default!, default).ThrowsAsyncForAnyArgs(new InvalidOperationException("boom"));
        var r = await h.RunAsync("hook", "lxc", "web", "lxc", type);

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.StartWith("interopctl: warning: lxc " + type));
        Assert.That(r.Error, Does.Not.Contain("   at "), "no stack trace");
    }

    [Test]
    public async Task Broken_config_fails_a_pre_start_clearly()
    {
        var h = new CliHarness();
        h.Files["/etc/interop/interop.yaml"] = "bus: system\nfrobnicate: 1\n";
        var r = await h.RunAsync("hook", "lxc", "web", "lxc", "pre-start");

        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.Contain("/etc/interop/interop.yaml:2:1").And.Contain("frobnicate"));
        Assert.That(h.Connections, Is.Empty);
    }

    [Test]
    public async Task The_config_file_names_the_bus_when_the_environment_does_not()
    {
        var h = new CliHarness();
        h.Variables["INTEROP_CONFIG"] = "/tmp/x/interop.yaml";
        h.Files["/tmp/x/interop.yaml"] = "bus: unix:path=/run/interop/bus\n";
        var r = await h.RunAsync("hook", "lxc", "web", "lxc", "pre-start");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(h.Connections, Is.EqualTo(new[] { "unix:path=/run/interop/bus" }));
    }

    [Test]
    public async Task A_missing_config_file_means_the_system_bus()
    {
        var h = new CliHarness();
        var r = await h.RunAsync("hook", "lxc", "web", "lxc", "pre-start");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(h.FilesRead, Is.EqualTo(new[] { "/etc/interop/interop.yaml" }));
        Assert.That(h.Connections, Is.EqualTo(new[] { "system" }));
    }

    [Test]
    public async Task Post_stop_of_a_container_interopd_never_registered_warns_once_and_still_exits_0()
    {
        var h = new CliHarness();
        h.Service.ReleaseContainerAsync(default, default!, default!, default).ReturnsForAnyArgs(false);

        var r = await h.RunAsync("hook", "lxc", "web", "lxc", "post-stop");

        Assert.Multiple(() =>
        {
            Assert.That(r.Code, Is.Zero);
            Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
            Assert.That(r.Error, Does.StartWith("interopctl: warning: lxc post-stop hook for 'web': interopd had no mapping for it"));
        });
    }

    [Test]
    public async Task Hooks_take_the_lifecycle_connection_when_there_is_one_and_admin_commands_do_not()
    {
        var lifecycle = Substitute.For<ILifecycleClient>();
        var h = new CliHarness { Lifecycle = lifecycle };
        h.LxcEnvironment["LXC_NAME"] = "web";
        h.Variables["INTEROP_BUS_ADDRESS"] = "unix:path=/run/test-bus";

        var hook = await h.RunAsync("hook", "lxc", "web", "lxc", "pre-start");
        var list = await h.RunAsync("list");

        Assert.Multiple(() =>
        {
            Assert.That((hook.Code, list.Code), Is.EqualTo((0, 0)), hook.ToString() + list);
            Assert.That(h.LifecycleConnections, Is.EqualTo(new[] { "unix:path=/run/test-bus" }));
            Assert.That(h.Connections, Is.EqualTo(new[] { "unix:path=/run/test-bus" }), "only 'list' took the general client");
        });
        await lifecycle.Received(1).PrepareContainerAsync(Manager.Lxc, "web", Arg.Any<IReadOnlyDictionary<string, string>>(), Arg.Any<CancellationToken>());
        lifecycle.Received(1).Dispose();
        await h.Service.DidNotReceiveWithAnyArgs().PrepareContainerAsync(default, default!, default!, default);
    }

    [Test]
    public async Task A_hook_with_no_bus_named_goes_to_the_private_socket_and_reads_no_configuration()
    {
        var direct = Substitute.For<ILifecycleClient>();
        var h = new CliHarness { Private = direct };
        h.LxcEnvironment["LXC_NAME"] = "web";

        var r = await h.RunAsync("hook", "lxc", "web", "lxc", "pre-start");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        await direct.Received(1).PrepareContainerAsync(Manager.Lxc, "web", Arg.Any<IReadOnlyDictionary<string, string>>(), Arg.Any<CancellationToken>());
        direct.Received(1).Dispose();
        Assert.Multiple(() =>
        {
            Assert.That(h.FilesRead, Is.Empty, "the configuration is not parsed on this path");
            Assert.That(h.Connections, Is.Empty);
        });
    }

    [Test]
    public async Task A_named_bus_wins_over_the_private_socket_and_no_socket_means_the_configured_bus()
    {
        var direct = Substitute.For<ILifecycleClient>();
        var named = new CliHarness { Private = direct };
        named.LxcEnvironment["LXC_NAME"] = "web";
        named.Variables["INTEROP_BUS_ADDRESS"] = "unix:path=/run/test-bus";
        var none = new CliHarness();
        none.LxcEnvironment["LXC_NAME"] = "web";

        var r1 = await named.RunAsync("hook", "lxc", "web", "lxc", "pre-start");
        var r2 = await none.RunAsync("hook", "lxc", "web", "lxc", "pre-start");

        Assert.That((r1.Code, r2.Code), Is.EqualTo((0, 0)), r1.ToString() + r2);
        Assert.Multiple(() =>
        {
            Assert.That(named.PrivateConnections, Is.Zero, "an address named by the admin is taken as it is");
            Assert.That(named.Connections, Is.EqualTo(new[] { "unix:path=/run/test-bus" }));
            Assert.That(none.PrivateConnections, Is.EqualTo(1));
            Assert.That(none.FilesRead, Has.Count.EqualTo(1), "without the socket the configuration says which bus");
            Assert.That(none.Connections, Is.EqualTo(new[] { "system" }));
        });
        await direct.DidNotReceiveWithAnyArgs().PrepareContainerAsync(default, default!, default!, default);
    }
}
