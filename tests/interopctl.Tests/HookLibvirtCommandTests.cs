using System.Text;
using Interop.Core;
using Interop.Core.Model;
using Interop.DBus;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace Interop.Ctl.Tests;

/// <summary>'hook libvirt' with the real libvirt 9.0.0 captures and with bad input.</summary>
public class HookLibvirtCommandTests
{
    private const string Uuid = "c5833ee2-cac8-401e-bcf6-862a1cf9ef5e";

    public static IEnumerable<TestCaseData> LifecycleCalls()
        => Capture.Load("libvirt-9.0.0-lxc-lifecycle.txt").Select(c => new TestCaseData(c).SetArgDisplayNames($"#{c.Call} {c.Args[1]}"));

    [TestCaseSource(nameof(LifecycleCalls))]
    public async Task Lifecycle_capture_makes_the_matching_service_call(Capture capture)
    {
        var h = new CliHarness { Stdin = Encoding.UTF8.GetBytes(capture.Stdin) };
        var r = await h.RunAsync(["--bus", "system", "hook", "libvirt", .. capture.Args]);

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Error, Is.Empty);
        var name = capture.Args[0];
        IReadOnlyDictionary<string, string> Facts() => Arg.Is<IReadOnlyDictionary<string, string>>(f => f[FactKeys.Uuid] == Uuid && f[FactKeys.Partition] == "/machine" && f[FactKeys.Hook] == capture.Args[1]);
        switch (capture.Args[1])
        {
            case "start":
                Assert.That(h.Connections, Is.Empty, "start needs no bus");
                return;
            case "prepare":
                await h.Service.Received(1).PrepareContainerAsync(Manager.Libvirt, name, Facts(), Arg.Any<CancellationToken>());
                break;
            case "started":
                await h.Service.Received(1).RegisterContainerAsync(Manager.Libvirt, name, 16923u, Facts(), Arg.Any<CancellationToken>());
                break;
            case "stopped":
                await h.Service.Received(1).StopContainerAsync(Manager.Libvirt, name, Facts(), Arg.Any<CancellationToken>());
                break;
            case "release":
                await h.Service.Received(1).ReleaseContainerAsync(Manager.Libvirt, name, Facts(), Arg.Any<CancellationToken>());
                break;
            default:
                Assert.Fail($"unexpected op {capture.Args[1]} in the capture");
                break;
        }

        Assert.That(h.Connections, Has.Count.EqualTo(1));
        Assert.That(h.BusCalls, Is.EqualTo(1), "one bus call per hook");
    }

    [Test]
    public async Task Shared_partition_capture_passes_the_partition()
    {
        var started = Capture.Load("libvirt-9.0.0-lxc-partition-shared.txt").First(c => c.Args[1] == "prepare");
        var h = new CliHarness { Stdin = Encoding.UTF8.GetBytes(started.Stdin) };
        var r = await h.RunAsync(["hook", "libvirt", .. started.Args]);

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        await h.Service.Received(1).PrepareContainerAsync(Manager.Libvirt, started.Args[0], Arg.Is<IReadOnlyDictionary<string, string>>(f => f[FactKeys.Partition] == "/shared"), Arg.Any<CancellationToken>());
    }

    [Test]
    public async Task Reconnect_registers_the_controller_pid_from_the_xml()
    {
        var started = Capture.Load("libvirt-9.0.0-lxc-lifecycle.txt").First(c => c.Args[1] == "started");
        var h = new CliHarness { Stdin = Encoding.UTF8.GetBytes(started.Stdin) };
        var r = await h.RunAsync("hook", "libvirt", started.Args[0], "reconnect", "begin", "-");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        await h.Service.Received(1).RegisterContainerAsync(
            Manager.Libvirt,
            started.Args[0],
            16923u,
            Arg.Is<IReadOnlyDictionary<string, string>>(f => f[FactKeys.Hook] == "reconnect" && f[FactKeys.Uuid] == Uuid),
            Arg.Any<CancellationToken>());
    }

    [Test]
    public async Task Start_is_accepted_without_parsing_the_xml_or_a_service()
    {
        var h = new CliHarness { Stdin = Encoding.UTF8.GetBytes("<domain type='lxc'><name>web</os>") };
        var r = await h.RunAsync("hook", "libvirt", "web", "start", "begin", "-");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Error, Is.Empty);
        Assert.That(h.Connections, Is.Empty);
        Assert.That(h.StdinReads, Is.Zero, "libvirt's write of the XML may fail with EPIPE; libvirtd ignores it");
    }

    [Test]
    public async Task Start_with_empty_stdin_exits_0_without_a_service()
    {
        var h = new CliHarness();
        var r = await h.RunAsync("hook", "libvirt", "web", "start", "begin", "-");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(h.Connections, Is.Empty);
    }

    [TestCase("prepare")]
    [TestCase("started")]
    [TestCase("reconnect")]
    public async Task Refusing_ops_with_empty_stdin_exit_1_without_a_service(string op)
    {
        var h = new CliHarness();
        var r = await h.RunAsync("hook", "libvirt", "web", op, "begin", "-");

        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.StartWith("interopctl: libvirt hook refused: ").And.Contain("stdin is empty"));
        Assert.That(h.Connections, Is.Empty);
    }

    [Test]
    public async Task Oversized_xml_is_refused_without_a_service()
    {
        var h = new CliHarness { Stdin = new byte[(1024 * 1024) + 10] };
        var r = await h.RunAsync("hook", "libvirt", "web", "prepare", "begin", "-");

        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.Error, Does.Contain("1 MiB"));
        Assert.That(h.Connections, Is.Empty);
    }

    [TestCase("<!DOCTYPE d [<!ENTITY x 'y'>]><domain type='lxc'><name>web</name></domain>")]
    [TestCase("<domain type='kvm'><name>web</name><uuid>c5833ee2-cac8-401e-bcf6-862a1cf9ef5e</uuid></domain>")]
    [TestCase("<domain type='lxc'><name>other</name><uuid>c5833ee2-cac8-401e-bcf6-862a1cf9ef5e</uuid></domain>")]
    [TestCase("<domain type='lxc'><name>web</name>")]
    public async Task Hostile_or_mismatched_xml_is_refused_without_a_service(string xml)
    {
        var h = new CliHarness { Stdin = Encoding.UTF8.GetBytes(xml) };
        var r = await h.RunAsync("hook", "libvirt", "web", "prepare", "begin", "-");

        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(h.Connections, Is.Empty);
    }

    [Test]
    public async Task Bad_input_on_release_warns_and_exits_0()
    {
        var h = new CliHarness();
        var r = await h.RunAsync("hook", "libvirt", "web", "release", "end", "-");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.StartWith("interopctl: warning: "));
        Assert.That(h.Connections, Is.Empty);
    }

    [Test]
    public async Task Refused_started_exits_1_and_unreachable_exits_3()
    {
        var started = Capture.Load("libvirt-9.0.0-lxc-lifecycle.txt").First(c => c.Args[1] == "started");
        var refused = new CliHarness { Stdin = Encoding.UTF8.GetBytes(started.Stdin) };
        refused.Service.RegisterContainerAsync(default, default!, default, default!, default)
            .ThrowsAsyncForAnyArgs(new NotInSharedRootException("libvirt/e-lv-rt is at /other, outside /machine; set <partition> under /machine"));
        var unreachable = new CliHarness { Stdin = refused.Stdin, ConnectFailure = new DaemonUnreachableException("system", "no bus") };

        var r1 = await refused.RunAsync(["hook", "libvirt", .. started.Args]);
        var r3 = await unreachable.RunAsync(["hook", "libvirt", .. started.Args]);

        Assert.That(r1.Code, Is.EqualTo(1), r1.ToString());
        Assert.That(r1.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r1.ErrorLines[0], Does.Contain("refused").And.Contain("outside /machine"));
        Assert.That(r3.Code, Is.EqualTo(3), r3.ToString());
        Assert.That(r3.ErrorLines, Has.Length.EqualTo(1));
    }

    [Test]
    public async Task Stopped_and_release_never_fail_when_the_service_throws()
    {
        foreach (var capture in Capture.Load("libvirt-9.0.0-lxc-failed-start.txt").Where(c => c.Args[1] is "stopped" or "release"))
        {
            var h = new CliHarness { Stdin = Encoding.UTF8.GetBytes(capture.Stdin) };
            h.Service.StopContainerAsync(default, default!, default!, default).ThrowsAsyncForAnyArgs(new DaemonUnreachableException("system", "gone"));
            h.Service.ReleaseContainerAsync(default, default!, default!, default).ThrowsAsyncForAnyArgs(new IOException("disk on fire"));

            var r = await h.RunAsync(["hook", "libvirt", .. capture.Args]);

            Assert.That(r.Code, Is.EqualTo(0), $"{capture}: {r}");
            Assert.That(r.ErrorLines, Has.Length.EqualTo(1), capture.ToString());
            Assert.That(r.ErrorLines[0], Does.StartWith("interopctl: warning: libvirt " + capture.Args[1]));
        }
    }
}
