using System.Xml.Linq;
using Interop.Core.Model;
using Tmds.DBus.Protocol;
using Interop.TestSupport;

namespace Interop.DBus.Tests;

/// <summary>Signals, introspection and authorization, seen by real bus clients.</summary>
public partial class InteropBusServiceTests
{
    [TestCase("ContainerAdded")]
    [TestCase("ContainerRemoved")]
    public async Task Lifecycle_signals_carry_manager_name_and_path(string signal)
    {
        using var watcher = await ConnectRawAsync();
        var received = new TaskCompletionSource<(string, string, string)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = await watcher.WatchSignalAsync(
            Bus,
            ManagerPath,
            ManagerIface,
            signal,
            static (Message m, object? _) =>
            {
                var r = m.GetBodyReader();
                return (r.ReadString(), r.ReadString(), r.ReadObjectPathAsString());
            },
            (Notification<(string, string, string)> n) =>
            {
                if (n.HasValue)
                {
                    received.TrySetResult(n.Value);
                }
            },
            ObserverFlags.None,
            false);
        var mapping = FakeInteropService.Sample(Manager.Lxc, "web-01");
        if (signal == "ContainerAdded")
        {
            _fake.RaiseAdded(mapping);
        }
        else
        {
            _fake.RaiseRemoved(mapping);
        }

        var value = await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(value, Is.EqualTo(("lxc", "web-01", "/org/interop/Interop1/container/lxc_web_2d01")));
    }

    [Test]
    public async Task PropertiesChanged_is_emitted_for_a_changed_container_and_for_ContainerCount()
    {
        using var watcher = await ConnectRawAsync();
        var changed = new TaskCompletionSource<(string Path, string Iface, List<string> Names)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var count = new TaskCompletionSource<(string Path, string Iface, List<string> Names)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = await watcher.WatchSignalAsync(
            Bus,
            null,
            "org.freedesktop.DBus.Properties",
            "PropertiesChanged",
            static (Message m, object? _) =>
            {
                var r = m.GetBodyReader();
                var iface = r.ReadString();
                var names = r.ReadDictionaryOfStringToVariantValue().Keys.ToList();
                return (m.PathAsString!, iface, names);
            },
            (Notification<(string Path, string Iface, List<string> Names)> n) =>
            {
                if (n.HasValue)
                {
                    (n.Value.Path == ManagerPath ? count : changed).TrySetResult(n.Value);
                }
            },
            ObserverFlags.None,
            false);
        var mapping = FakeInteropService.Sample(Manager.Libvirt, "db_1") with { State = ContainerState.Stopping };
        _fake.RaiseChanged(mapping);
        _fake.RaiseAdded(mapping);
        var container = await changed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var manager = await count.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Multiple(() =>
        {
            Assert.That(container.Path, Is.EqualTo("/org/interop/Interop1/container/libvirt_db_5f1"));
            Assert.That(container.Iface, Is.EqualTo("org.interop.Interop1.Container"));
            Assert.That(container.Names, Does.Contain("State").And.Contain("Leader").And.Contain("Paths"));
            Assert.That(manager.Iface, Is.EqualTo(ManagerIface));
            Assert.That(manager.Names, Is.EqualTo(new[] { "ContainerCount" }));
        });
    }

    [Test]
    public async Task Introspect_of_the_manager_lists_its_interfaces_and_the_container_node()
    {
        var doc = await IntrospectAsync(ManagerPath);
        var interfaces = doc.Root!.Elements("interface").Select(i => (string)i.Attribute("name")!).ToList();
        var methods = doc.Root.Elements("interface").Where(i => (string)i.Attribute("name")! == ManagerIface)
            .Elements("method").Select(m => (string)m.Attribute("name")!).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(interfaces, Is.SupersetOf(new[] { ManagerIface, "org.freedesktop.DBus.Properties", "org.freedesktop.DBus.Introspectable", "org.freedesktop.DBus.Peer" }));
            Assert.That(methods, Is.EquivalentTo(new[] { "ListContainers", "ListUnits", "GetContainer", "GetContainerByPid", "GetContainerByCgroup", "PrepareContainer", "RegisterContainer", "StopContainer", "ReleaseContainer", "Setup", "Prune", "GetMetrics" }));
            Assert.That(doc.Root.Elements("node").Select(n => (string)n.Attribute("name")!), Is.EqualTo(new[] { "container" }));
        });
    }

    [TestCase("/", "org")]
    [TestCase("/org", "interop")]
    [TestCase("/org/interop", "Interop1")]
    public async Task Introspect_of_the_path_prefixes_lists_the_child(string path, string child)
    {
        var doc = await IntrospectAsync(path);
        Assert.That(doc.Root!.Elements("node").Select(n => (string)n.Attribute("name")!), Does.Contain(child));
    }

    [Test]
    public async Task Introspect_of_the_container_dir_lists_every_container_and_a_container_its_interface()
    {
        var dir = await IntrospectAsync(ObjectPaths.ContainerParent);
        var one = await IntrospectAsync(ObjectPaths.ForContainer(Manager.Lxc, "web-01"));
        Assert.Multiple(() =>
        {
            Assert.That(dir.Root!.Elements("node").Select(n => (string)n.Attribute("name")!), Is.EquivalentTo(new[] { "lxc_web_2d01", "libvirt_db_5f1" }));
            Assert.That(one.Root!.Elements("interface").Select(i => (string)i.Attribute("name")!), Does.Contain("org.interop.Interop1.Container"));
            Assert.That(one.Root.Descendants("method").Select(m => (string)m.Attribute("name")!), Is.SupersetOf(new[] { "GetValue", "SetValue", "GetTasks" }));
        });
    }

    [Test]
    public async Task Busctl_introspect_names_the_methods()
    {
        var result = await Cmd.RunAsync("busctl", $"--address={_daemon.Address}", "introspect", Bus, ManagerPath);
        Assert.That(result.Stdout, Does.Contain(".ListContainers").And.Contain(".RegisterContainer").And.Contain(".ContainerCount"), result.Stderr);
    }

    [Test]
    public async Task Gdbus_introspect_names_the_methods()
    {
        Assume.That(Cmd.Exists("gdbus"), "gdbus (libglib2.0-bin) is not installed");
        var result = await Cmd.RunAsync("gdbus", "introspect", "--address", _daemon.Address, "--dest", Bus, "--object-path", ManagerPath);
        Assert.That(result.Stdout, Does.Contain("ListContainers(").And.Contain("Prune(").And.Contain("ContainerAdded("), result.Stderr);
    }

    [Test]
    public async Task A_non_root_caller_may_read_but_not_mutate()
    {
        string[] asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", "busctl", $"--address={_daemon.Address}"];
        var read = await Cmd.RunAsync("setpriv", [.. asNobody, "get-property", Bus, ManagerPath, ManagerIface, "Version"]);
        var write = await Cmd.RunAsync("setpriv", [.. asNobody, "call", Bus, ManagerPath, ManagerIface, "Setup"]);
        var asRoot = await Cmd.RunAsync("busctl", $"--address={_daemon.Address}", "call", Bus, ManagerPath, ManagerIface, "Prune", "b", "true");
        Assert.Multiple(() =>
        {
            Assert.That(read.Stdout.Trim(), Is.EqualTo("s \"0.1.0\""), read.Stderr);
            Assert.That(write.ExitCode, Is.Not.EqualTo(0));
            Assert.That(write.Stderr, Does.Contain("Access denied"), "busctl shows AccessDenied as strerror(EACCES)");
            Assert.That(asRoot.ExitCode, Is.EqualTo(0), asRoot.Stderr);
            Assert.That(_fake.Calls, Is.EqualTo(new[] { "Prune True" }), "the refused Setup never reached the service");
        });
    }

    [Test]
    public async Task A_refused_caller_gets_the_AccessDenied_error_name()
    {
        var result = await Cmd.RunAsync("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "dbus-send", $"--bus={_daemon.Address}", "--print-reply", $"--dest={Bus}", ObjectPaths.ForContainer(Manager.Lxc, "web-01"), "org.interop.Interop1.Container.SetValue", "string:cpu.shares", "string:2");
        Assert.Multiple(() =>
        {
            Assert.That(result.Stderr, Does.Contain("org.freedesktop.DBus.Error.AccessDenied").And.Contain("uid 65534 may not call SetValue"));
            Assert.That(_fake.Values.ContainsKey("cpu.shares"), Is.False);
        });
    }

    private async Task<XDocument> IntrospectAsync(string path)
    {
        var result = await Cmd.RunAsync("busctl", $"--address={_daemon.Address}", "--xml-interface", "introspect", Bus, path);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        return XDocument.Parse(result.Stdout);
    }
}
