using Interop.Core.Model;
using Interop.FunctionalTests.Support;

namespace Interop.FunctionalTests;

/// <summary>
/// The hooks' private socket (issue 15): the real interopd listens on it, the published interopctl's hooks call
/// through it without the bus, and what they do still reaches bus clients (state, signals).
/// </summary>
[TestFixture]
public class PrivateSocketTests
{
    [Test]
    public void LXC_hooks_over_the_private_socket_prepare_and_release_and_the_bus_sees_it()
    {
        var socket = Path.Combine(Path.GetTempPath(), "interop-private-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            Run(socket);
        }
        finally
        {
            File.Delete(socket);
        }
    }

    private static void Run(string socket)
    {
        using var rig = Rig.Start(extraConfig: $"private_socket: {socket}\n");
        using var monitor = new BusMonitor(rig.Address, "type='signal',interface='org.interop.Interop1.Manager'");
        const string name = "p2p1";
        var env = new Dictionary<string, string?>
        {
            ["INTEROP_BUS_ADDRESS"] = "unix:path=" + socket,
            ["LXC_NAME"] = name,
            ["LXC_HOOK_VERSION"] = "0",
            ["LXC_CONFIG_FILE"] = "/var/lib/lxc/p2p1/config",
            ["LXC_ROOTFS_PATH"] = "/var/lib/lxc/p2p1/rootfs",
        };

        Assert.That(OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(socket), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), "root only");
        var pre = Cmd.Run(Binaries.Interopctl, ["hook", "lxc", name, "lxc", "pre-start"], env: env);
        Assert.That(pre.ExitCode, Is.EqualTo(0), pre.ToString());
        Assert.That(rig.State, Does.Contain("state: prepared"));

        var (leader, child) = rig.StartLxcTasks(name);
        Assert.That(Poll.Until(() => Sync.Run(rig.Client.ListContainersAsync()).Any(m => m.Name == name && m.Leader == (uint)leader)), Is.True, rig.Daemon.Log);
        Assert.That(monitor.WaitFor(t => t.Contains("Member=ContainerAdded", StringComparison.Ordinal)), Is.True, "bus clients still get the signal");

        // A refusal crosses the socket as it crosses the bus: one line, exit 1, nothing changed.
        var again = Cmd.Run(Binaries.Interopctl, ["hook", "lxc", name, "lxc", "pre-start"], env: env);
        Assert.That(again.ExitCode, Is.EqualTo(1), again.ToString());
        Assert.That(again.Stderr.Trim(), Does.Contain("already running").And.Not.Contain("\n"));
        Assert.That(Sync.Run(rig.Client.ListContainersAsync()).Single().Leader, Is.EqualTo((uint)leader));

        Assert.That(Cmd.Run(Binaries.Interopctl, ["hook", "lxc", name, "lxc", "stop"], env: env).ExitCode, Is.EqualTo(0));
        Rig.KillTasks(leader, child);
        var post = Cmd.Run(Binaries.Interopctl, ["hook", "lxc", name, "lxc", "post-stop"], env: env);
        Assert.That(post.ExitCode, Is.EqualTo(0), post.ToString());
        Assert.That(post.Stderr, Is.Empty, "released: no 'had no mapping' warning");
        Assert.That(Sync.Run(rig.Client.ListContainersAsync()), Is.Empty);
        Assert.That(rig.Daemon.Log, Does.Contain("private socket " + socket));

        Assert.That(rig.Daemon.Stop(), Is.EqualTo(0), rig.Daemon.Log);
        Assert.That(File.Exists(socket), Is.False, "interopd removes its socket when it stops");
    }
}
