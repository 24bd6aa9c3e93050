using Interop.Core.Model;
using Interop.FunctionalTests.Support;

namespace Interop.FunctionalTests;

/// <summary>The standard tools an admin has (busctl, gdbus, dbus-send) can introspect interopd and call it.</summary>
[TestFixture]
public class BusToolsTests
{
    private Rig _rig = null!;
    private int _leader;

    [OneTimeSetUp]
    public void StartOneContainer()
    {
        _rig = Rig.Start();
        Sync.Run(_rig.Client.PrepareContainerAsync(Manager.Lxc, "tool1", new Dictionary<string, string>()));
        (_leader, _) = _rig.StartLxcTasks("tool1");
        Sync.Run(_rig.Client.RegisterContainerAsync(Manager.Lxc, "tool1", (uint)_leader, new Dictionary<string, string>()));
    }

    [OneTimeTearDown]
    public void TearDown() => _rig?.Dispose();

    private string A => _rig.Address;

    [Test]
    public void Busctl_IntrospectsAndLists()
    {
        var intro = Cmd.Run("busctl", "--address=" + A, "introspect", "org.interop.Interop1", "/org/interop/Interop1");
        Assert.That(intro.Stdout, Does.Contain("ListContainers").And.Contain("ContainerAdded").And.Contain("SharedRoot"), intro.ToString());
        var list = Cmd.Run("busctl", "--address=" + A, "call", "org.interop.Interop1", "/org/interop/Interop1", "org.interop.Interop1.Manager", "ListContainers");
        Assert.That(list.Stdout, Does.StartWith("a(sssuso) 1 \"lxc\" \"tool1\" \"running\" " + _leader), list.ToString());
        var leader = Cmd.Run("busctl", "--address=" + A, "get-property", "org.interop.Interop1", "/org/interop/Interop1/container/lxc_tool1",
            "org.interop.Interop1.Container", "Leader");
        Assert.That(leader.Stdout.Trim(), Is.EqualTo("u " + _leader), leader.ToString());
    }

    [Test]
    public void Gdbus_IntrospectsAndLists()
    {
        var intro = Cmd.Run("gdbus", "introspect", "--address", A, "--dest", "org.interop.Interop1", "--object-path", "/org/interop/Interop1");
        Assert.That(intro.Stdout, Does.Contain("ListContainers").And.Contain("interface org.interop.Interop1.Manager"), intro.ToString());
        var list = Cmd.Run("gdbus", "call", "--address", A, "--dest", "org.interop.Interop1", "--object-path", "/org/interop/Interop1",
            "--method", "org.interop.Interop1.Manager.ListContainers");
        Assert.That(list.Stdout, Does.Contain("('lxc', 'tool1', 'running', uint32 " + _leader), list.ToString());
    }

    [Test]
    public void DbusSend_IntrospectsAndLists()
    {
        var intro = Cmd.Run("dbus-send", "--bus=" + A, "--print-reply", "--dest=org.interop.Interop1", "/org/interop/Interop1",
            "org.freedesktop.DBus.Introspectable.Introspect");
        Assert.That(intro.Stdout, Does.Contain("<method name=\"ListContainers\">"), intro.ToString());
        var list = Cmd.Run("dbus-send", "--bus=" + A, "--print-reply", "--dest=org.interop.Interop1", "/org/interop/Interop1",
            "org.interop.Interop1.Manager.ListContainers");
        Assert.That(list.Stdout, Does.Contain("string \"tool1\"").And.Contain("uint32 " + _leader), list.ToString());
        var ping = Cmd.Run("dbus-send", "--bus=" + A, "--print-reply", "--dest=org.interop.Interop1", "/org/interop/Interop1",
            "org.freedesktop.DBus.Peer.Ping");
        Assert.That(ping.ExitCode, Is.EqualTo(0), ping.ToString());
    }
}
