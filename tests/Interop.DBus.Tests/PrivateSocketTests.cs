using Interop.TestSupport;
using System.Diagnostics;
using System.Net.Sockets;
using Interop.Core;
using Interop.Core.Model;
using Interop.Core.Service;
using Interop.DBus.Direct;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace Interop.DBus.Tests;

/// <summary>
/// interopd's private socket (peer-to-peer D-Bus for the hooks) with the hooks' own client and with busctl, over a
/// real unix socket; the service behind it is a substitute (what it does is InteropService's tests' business).
/// </summary>
public sealed class PrivateSocketTests
{
    private static readonly Dictionary<string, string> Facts = new(StringComparer.Ordinal) { ["hook"] = "pre-start", ["rootfs_path"] = "/var/lib/lxc/web/rootfs" };

    private string _dir = string.Empty;
    private ILifecycleService _service = null!;
    private readonly ListLogger _log = new();

    private string SocketPath => Path.Combine(_dir, "private");

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("interop-private-").FullName;
        _service = Substitute.For<ILifecycleService>();
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task The_hooks_client_makes_the_four_lifecycle_calls_with_their_arguments()
    {
        _service.RegisterContainerAsync(Manager.Lxc, "web", 4242u, Arg.Any<IReadOnlyDictionary<string, string>>(), Arg.Any<CancellationToken>())
            .Returns(new Mapping(Manager.Lxc, "web", "", ContainerState.Running, 4242, "/machine/lxc.payload.web", new Dictionary<string, string>(), 0, CgroupNamespaceKind.Host, MappingSource.Hook));
        _service.ReleaseContainerAsync(Manager.Libvirt, "vm", Arg.Any<IReadOnlyDictionary<string, string>>(), Arg.Any<CancellationToken>()).Returns(true);
        await using var server = Start();

        foreach (var call in new Func<DirectClient, Task>[]
        {
            c => c.PrepareContainerAsync(Manager.Lxc, "web", Facts),
            c => c.RegisterContainerAsync(Manager.Lxc, "web", 4242, Facts),
            c => c.StopContainerAsync(Manager.Lxc, "web", Facts),
        })
        {
            using var client = DirectClient.Connect("unix:path=" + SocketPath);
            await call(client);
        }

        using (var client = DirectClient.Connect("unix:path=" + SocketPath))
        {
            Assert.That(await client.ReleaseContainerAsync(Manager.Libvirt, "vm", Facts), Is.True);
        }

        await _service.Received(1).PrepareContainerAsync(Manager.Lxc, "web", Arg.Is<IReadOnlyDictionary<string, string>>(f => f.Count == 2 && f["rootfs_path"] == "/var/lib/lxc/web/rootfs"), Arg.Any<CancellationToken>());
        await _service.Received(1).RegisterContainerAsync(Manager.Lxc, "web", 4242u, Arg.Any<IReadOnlyDictionary<string, string>>(), Arg.Any<CancellationToken>());
        await _service.Received(1).StopContainerAsync(Manager.Lxc, "web", Arg.Any<IReadOnlyDictionary<string, string>>(), Arg.Any<CancellationToken>());
        await _service.Received(1).ReleaseContainerAsync(Manager.Libvirt, "vm", Arg.Any<IReadOnlyDictionary<string, string>>(), Arg.Any<CancellationToken>());
    }

    [Test]
    public async Task A_refusal_reaches_the_hook_with_the_error_name_and_message_the_bus_would_send()
    {
        _service.PrepareContainerAsync(Manager.Lxc, "web", Arg.Any<IReadOnlyDictionary<string, string>>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new ConflictException("lxc/web is already running (leader 7, /machine/lxc.payload.web); stop it first"));
        await using var server = Start();

        using var client = DirectClient.Connect("unix:path=" + SocketPath);
        var ex = Assert.ThrowsAsync<ConflictException>(() => client.PrepareContainerAsync(Manager.Lxc, "web", Facts));

        Assert.That(ex!.Message, Is.EqualTo("lxc/web is already running (leader 7, /machine/lxc.payload.web); stop it first"));
    }

    [Test]
    public async Task Busctl_talks_to_it_as_to_a_bus_and_anything_but_a_lifecycle_call_is_refused()
    {
        await using var server = Start();
        var address = "--address=unix:path=" + SocketPath;

        var ping = Run("busctl", address, "call", "org.interop.Interop1", ObjectPaths.ManagerPath, "org.freedesktop.DBus.Peer", "Ping");
        var stop = Run("busctl", address, "call", "org.interop.Interop1", ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "StopContainer", "ssa{ss}", "lxc", "web", "0");
        var list = Run("busctl", address, "call", "org.interop.Interop1", ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "ListContainers");
        var badArgs = Run("busctl", address, "call", "org.interop.Interop1", ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, "StopContainer", "ss", "lxc", "web");

        Assert.Multiple(() =>
        {
            Assert.That(ping.Code, Is.Zero, ping.Error);
            Assert.That(stop.Code, Is.Zero, stop.Error);
            Assert.That(list.Code, Is.Not.Zero);
            Assert.That(list.Error, Does.Contain("use the bus"));
            Assert.That(badArgs.Error, Does.Contain("expects arguments of type 'ssa{ss}'"));
        });
        await _service.Received(1).StopContainerAsync(Manager.Lxc, "web", Arg.Any<IReadOnlyDictionary<string, string>>(), Arg.Any<CancellationToken>());
    }

    [Test]
    public async Task The_socket_is_for_root_only_and_garbage_ends_only_that_connection()
    {
        await using var server = Start();
        Assert.That(OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(SocketPath), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));

        using (var raw = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            raw.Connect(new UnixDomainSocketEndPoint(SocketPath));
            raw.Send("\0AUTH EXTERNAL 30\r\nBEGIN\r\nnot a message at all, just bytes"u8.ToArray());
            var buffer = new byte[256];
            raw.ReceiveTimeout = 5000;
            var n = raw.Receive(buffer);
            Assert.That(System.Text.Encoding.ASCII.GetString(buffer, 0, n), Does.StartWith("OK "));
            Assert.That(raw.Receive(buffer), Is.Zero, "the server hangs up on a malformed message");
        }

        using var client = DirectClient.Connect("unix:path=" + SocketPath);
        await client.StopContainerAsync(Manager.Lxc, "web", Facts);
        await _service.Received(1).StopContainerAsync(Manager.Lxc, "web", Arg.Any<IReadOnlyDictionary<string, string>>(), Arg.Any<CancellationToken>());
    }

    [Test]
    public async Task The_hooks_reach_the_private_socket_when_it_is_there_and_not_when_it_is_gone()
    {
        await using var server = Start();

        using (var client = DirectClient.TryConnectPrivate(SocketPath)!)
        {
            await client.StopContainerAsync(Manager.Lxc, "web", Facts);
        }

        await _service.Received(1).StopContainerAsync(Manager.Lxc, "web", Arg.Any<IReadOnlyDictionary<string, string>>(), Arg.Any<CancellationToken>());
        using (var direct = DirectClient.TryConnectPrivate(SocketPath))
        {
            Assert.That(direct, Is.Not.Null);
        }

        await server.DisposeAsync();
        Assert.That(File.Exists(SocketPath), Is.False, "closing removes the socket file");
        Assert.That(DirectClient.TryConnectPrivate(SocketPath), Is.Null, "no socket: the hook goes by the bus");
    }

    [Test]
    public async Task A_directory_it_made_goes_with_it_and_one_it_found_stays()
    {
        var made = Path.Combine(_dir, "run-interop");
        var server = PrivateSocket.Start(Path.Combine(made, "private"), _service, _log);
        Assert.That(Directory.Exists(made), Is.True);
        await server.DisposeAsync();
        Assert.That(Directory.Exists(made), Is.False, "interopd leaves the host as it found it");

        await (await Task.FromResult(Start())).DisposeAsync();
        Assert.That(Directory.Exists(_dir), Is.True);
    }

    private PrivateSocket Start() => PrivateSocket.Start(SocketPath, _service, _log);

    private static (int Code, string Output, string Error) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error);
    }
}
