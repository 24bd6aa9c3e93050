using Interop.Core;
using Interop.Core.Model;
using Tmds.DBus.Protocol;
using Interop.TestSupport;

namespace Interop.DBus.Tests;

/// <summary>The server and the client against each other through a private dbus-daemon.</summary>
[NonParallelizable]
public partial class InteropBusServiceTests
{
    private const string Bus = "org.interop.Interop1";
    private const string ManagerPath = "/org/interop/Interop1";
    private const string ManagerIface = "org.interop.Interop1.Manager";
    private PrivateBus _daemon = null!;
    private FakeInteropService _fake = null!;
    private InteropBusService _server = null!;
    private InteropClient _client = null!;
    private ListLogger _log = null!;

    [OneTimeSetUp]
    public void StartDaemon() => _daemon = new PrivateBus();

    [OneTimeTearDown]
    public void StopDaemon()
    {
        _daemon.Dispose();
    }

    [SetUp]
    public async Task StartServer()
    {
        _fake = new FakeInteropService();
        _fake.Containers.Add(FakeInteropService.Sample(Manager.Lxc, "web-01", 4242));
        _fake.Containers.Add(FakeInteropService.Sample(Manager.Libvirt, "db_1", 5151));
        _fake.Values["memory.limit_in_bytes"] = "1073741824";
        _log = new ListLogger();
        _server = await InteropBusService.StartAsync(_daemon.Address, _fake, uid => uid == 0, _log, metrics: _ => Task.FromResult(Exposition));
        _client = await InteropClient.ConnectAsync(_daemon.Address);
    }

    [TearDown]
    public async Task StopServer()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    private const string Exposition = "# HELP interop_containers x\n# TYPE interop_containers gauge\ninterop_containers{manager=\"lxc\",state=\"running\"} 1\n";

    [Test]
    public async Task GetMetrics_returns_the_exposition_the_daemon_produces()
    {
        Assert.That(await _client.GetMetricsAsync(), Is.EqualTo(Exposition));
    }

    [Test]
    public void Manager_properties_are_read_one_by_one()
    {
        Assert.Multiple(() =>
        {
            Assert.That(_client.Version, Is.EqualTo("0.1.0"));
            Assert.That(_client.CgroupMode, Is.EqualTo("hybrid"));
            Assert.That(_client.SharedRoot, Is.EqualTo("/machine"));
            Assert.That(_client.Hierarchies, Is.EqualTo(_fake.Hierarchies));
            Assert.That(_client.ContainerCount, Is.EqualTo(2u));
        });
    }

    [Test]
    public void GetContainer_returns_every_property_through_GetAll()
    {
        var expected = _fake.Containers[0];
        var actual = _client.GetContainer(Manager.Lxc, "web-01");
        Assert.Multiple(() =>
        {
            Assert.That(actual with { Paths = expected.Paths }, Is.EqualTo(expected));
            Assert.That(actual.Paths, Is.EquivalentTo(expected.Paths));
        });
    }

    [Test]
    public void Lookups_by_pid_and_cgroup_find_the_container()
    {
        Assert.Multiple(() =>
        {
            Assert.That(_client.GetContainerByPid(5151).Name, Is.EqualTo("db_1"));
            Assert.That(_client.GetContainerByCgroup("/machine/lxc.payload.web-01/init.scope").Name, Is.EqualTo("web-01"));
            Assert.That(_client.GetContainerByPid(5151).Uuid, Is.EqualTo(_fake.Containers[1].Uuid));
        });
    }

    [Test]
    public void ListContainers_carries_manager_name_state_leader_and_cgroup()
    {
        var list = _client.ListContainers();
        Assert.That(list.Select(m => (m.Manager, m.Name, m.State, m.Leader, m.CgroupPath)), Is.EqualTo(new[]
        {
            (Manager.Lxc, "web-01", ContainerState.Running, 4242, "/machine/lxc.payload.web-01"),
            (Manager.Libvirt, "db_1", ContainerState.Running, 5151, "/machine/lxc.payload.db_1"),
        }));
    }

    [Test]
    public async Task ListContainers_returns_the_object_paths_on_the_wire()
    {
        var result = await Cmd.RunAsync("busctl", $"--address={_daemon.Address}", "call", Bus, ManagerPath, ManagerIface, "ListContainers");
        Assert.That(result.Stdout, Does.Contain("\"/org/interop/Interop1/container/lxc_web_2d01\"").And.Contain("\"/org/interop/Interop1/container/libvirt_db_5f1\""));
    }

    [Test]
    public async Task Mutating_calls_reach_the_service_with_their_arguments()
    {
        var facts = new Dictionary<string, string> { ["hook"] = "pre-start", ["config_file"] = "/var/lib/lxc/new/config" };
        await _client.PrepareContainerAsync(Manager.Lxc, "new", facts);
        var registered = await _client.RegisterContainerAsync(Manager.Lxc, "new", 777, facts);
        await _client.StopContainerAsync(Manager.Lxc, "new", facts);
        var released = await _client.ReleaseContainerAsync(Manager.Lxc, "new", facts);
        var releasedAgain = await _client.ReleaseContainerAsync(Manager.Lxc, "new", new Dictionary<string, string>());
        var actions = await _client.SetupAsync();
        var pruned = await _client.PruneAsync(dryRun: true);
        await _client.SetValueAsync(Manager.Lxc, "web-01", "cpu.shares", "512");
        Assert.Multiple(() =>
        {
            Assert.That(_fake.Calls, Is.EqualTo(new[]
            {
                "Prepare lxc new config_file=/var/lib/lxc/new/config,hook=pre-start",
                "Register lxc new 777 config_file=/var/lib/lxc/new/config,hook=pre-start",
                "Stop lxc new config_file=/var/lib/lxc/new/config,hook=pre-start",
                "Release lxc new config_file=/var/lib/lxc/new/config,hook=pre-start",
                "Release lxc new ",
                "Setup",
                "Prune True",
                "SetValue lxc web-01 cpu.shares=512",
            }));
            Assert.That((registered.Manager, registered.Name, registered.Leader), Is.EqualTo((Manager.Lxc, "new", 777)));
            Assert.That(released, Is.True);
            Assert.That(releasedAgain, Is.False);
            Assert.That(actions, Is.EqualTo(new[] { "cpuset: created /machine", "cpuset: clone_children=1 on /machine" }));
            Assert.That(pruned, Is.EqualTo(new[] { "/sys/fs/cgroup/cpuset/machine/lxc.payload.old" }));
            Assert.That(_fake.Values["cpu.shares"], Is.EqualTo("512"));
        });
    }

    [Test]
    public void Container_methods_GetValue_and_GetTasks()
    {
        Assert.Multiple(() =>
        {
            Assert.That(_client.GetValue(Manager.Lxc, "web-01", "memory.limit_in_bytes"), Is.EqualTo("1073741824"));
            Assert.That(_client.GetTasks(Manager.Libvirt, "db_1"), Is.EqualTo(new uint[] { 5151, 5152 }));
        });
    }

    private static IEnumerable<TestCaseData> Errors()
    {
        yield return new TestCaseData(new NoSuchContainerException("lxc/ghost")).SetArgDisplayNames("NoSuchContainer");
        yield return new TestCaseData(new InvalidInputException("name", "'a/b' contains '/'")).SetArgDisplayNames("InvalidArgument");
        yield return new TestCaseData(new ConflictException("lxc/web-01 is running with leader 4242")).SetArgDisplayNames("Conflict");
        yield return new TestCaseData(new NotInSharedRootException("/lxc/x is outside /machine")).SetArgDisplayNames("NotInSharedRoot");
        yield return new TestCaseData(new CgroupException("/sys/fs/cgroup/cpuset/machine/x/cgroup.procs", 28, "write", "No space left on device")).SetArgDisplayNames("Cgroup");
        yield return new TestCaseData(new AccessDeniedException("uid 1000 may not do that")).SetArgDisplayNames("AccessDenied");
    }

    [TestCaseSource(nameof(Errors))]
    public void Service_errors_cross_the_bus_with_their_name_type_and_message(InteropException error)
    {
        _fake.ThrowOnNextCall = error;
        var thrown = Assert.Throws(error.GetType(), () => _client.ListContainers()) as InteropException;
        Assert.Multiple(() =>
        {
            Assert.That(thrown!.ErrorName, Is.EqualTo(error.ErrorName));
            Assert.That(thrown.Message, Is.EqualTo(error.Message));
        });
        if (error is CgroupException cgroup)
        {
            var back = (CgroupException)thrown!;
            Assert.That((back.Path, back.Errno), Is.EqualTo((cgroup.Path, cgroup.Errno)));
        }
    }

    [Test]
    public async Task Errors_of_async_calls_cross_the_bus_too()
    {
        _fake.ThrowOnNextCall = new ConflictException("a live container lxc/new is registered");
        var ex = Assert.ThrowsAsync<ConflictException>(() => _client.PrepareContainerAsync(Manager.Lxc, "new", new Dictionary<string, string>()));
        Assert.That(ex!.Message, Is.EqualTo("a live container lxc/new is registered"));
        Assert.That(await Task.FromResult(_client.ContainerCount), Is.EqualTo(2u), "the connection survives the error");
    }

    [Test]
    public async Task A_call_waiting_when_the_daemon_stops_gets_the_shutting_down_reply()
    {
        await _server.DisposeAsync();
        using var stop = new CancellationTokenSource();
        _server = await InteropBusService.StartAsync(_daemon.Address, _fake, uid => uid == 0, cancellationToken: stop.Token);
        _fake.PrepareTurn = new TaskCompletionSource();

        var call = _client.PrepareContainerAsync(Manager.Lxc, "late", new Dictionary<string, string>());
        await _fake.PrepareWaiting.Task.WaitAsync(TimeSpan.FromSeconds(30));
        stop.Cancel();

        var ex = Assert.ThrowsAsync<DaemonErrorException>(() => call);
        Assert.Multiple(() =>
        {
            Assert.That(ex!.ErrorName, Is.EqualTo("org.freedesktop.DBus.Error.Failed"));
            Assert.That(ex.Message, Does.Contain("shutting down"));
            Assert.That(_fake.PrepareTurn.Task.IsCompleted, Is.False, "the call never got its turn");
        });
    }

    [Test]
    public void An_unexpected_exception_is_Failed_with_a_short_message_and_is_logged()
    {
        _fake.ThrowOnNextCall = new IOException("disk on fire");
        var ex = Assert.Throws<DaemonErrorException>(() => _client.ListContainers());
        Assert.Multiple(() =>
        {
            Assert.That(ex!.ErrorName, Is.EqualTo("org.freedesktop.DBus.Error.Failed"));
            Assert.That(ex.Message, Does.Contain("IOException").And.Not.Contain("disk on fire"));
            Assert.That(_log.Entries.Select(l => l.Error), Has.Some.InstanceOf<IOException>());
            Assert.That(_client.Version, Is.EqualTo("0.1.0"), "the connection survives");
        });
    }

    [Test]
    public async Task Unknown_method_is_UnknownMethod()
    {
        var result = await DBusSendAsync(ManagerPath, $"{ManagerIface}.Frobnicate");
        Assert.That(result.Stderr, Does.Contain("org.freedesktop.DBus.Error.UnknownMethod"));
    }

    [Test]
    public async Task Wrong_signature_is_InvalidArgs()
    {
        var result = await DBusSendAsync(ManagerPath, $"{ManagerIface}.GetContainer", "uint32:7");
        Assert.That(result.Stderr, Does.Contain("org.freedesktop.DBus.Error.InvalidArgs").And.Contain("'ss'"));
    }

    [Test]
    public async Task Unknown_manager_argument_is_InvalidArgument()
    {
        var result = await DBusSendAsync(ManagerPath, $"{ManagerIface}.GetContainer", "string:docker", "string:x");
        Assert.That(result.Stderr, Does.Contain("org.interop.Interop1.Error.InvalidArgument").And.Contain("docker"));
    }

    [Test]
    public async Task Properties_Set_is_refused_as_read_only()
    {
        var result = await DBusSendAsync(ManagerPath, "org.freedesktop.DBus.Properties.Set", $"string:{ManagerIface}", "string:Version", "variant:string:9");
        Assert.That(result.Stderr, Does.Contain("org.freedesktop.DBus.Error.PropertyReadOnly"));
    }

    [Test]
    public async Task Properties_GetAll_on_the_manager_lists_every_property()
    {
        var result = await DBusSendAsync(ManagerPath, "org.freedesktop.DBus.Properties.GetAll", $"string:{ManagerIface}");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        foreach (var name in new[] { "Version", "CgroupMode", "SharedRoot", "Hierarchies", "ContainerCount" })
        {
            Assert.That(result.Stdout, Does.Contain($"\"{name}\""));
        }
    }

    [Test]
    public async Task Container_properties_Get_each_one_with_busctl()
    {
        var path = ObjectPaths.ForContainer(Manager.Libvirt, "db_1");
        var expected = new Dictionary<string, string>
        {
            ["Manager"] = "s \"libvirt\"",
            ["Name"] = "s \"db_1\"",
            ["Uuid"] = "s \"0c9f1c4e-6f7d-4a4b-9a51-2f2d0e1f9a10\"",
            ["State"] = "s \"running\"",
            ["Leader"] = "u 5151",
            ["CgroupPath"] = "s \"/machine/lxc.payload.db_1\"",
            ["Paths"] = "a{ss} 2 \"cpuset\" \"/sys/fs/cgroup/cpuset/machine/lxc.payload.db_1\" \"name=systemd\" \"/sys/fs/cgroup/systemd/machine/lxc.payload.db_1\"",
            ["Since"] = "t 1700000000000000",
            ["CgroupNamespace"] = "s \"private\"",
            ["Source"] = "s \"hook\"",
        };
        foreach (var (name, value) in expected)
        {
            var result = await Cmd.RunAsync("busctl", $"--address={_daemon.Address}", "get-property", Bus, path, "org.interop.Interop1.Container", name);
            Assert.That(result.Stdout.Trim(), Is.EqualTo(value), $"{name}: {result.Stderr}");
        }
    }

    [Test]
    public async Task Calls_on_an_unregistered_container_are_NoSuchContainer()
    {
        var path = ObjectPaths.ForContainer(Manager.Lxc, "ghost");
        var result = await DBusSendAsync(path, "org.interop.Interop1.Container.GetTasks");
        Assert.That(result.Stderr, Does.Contain("org.interop.Interop1.Error.NoSuchContainer"));
        Assert.Throws<NoSuchContainerException>(() => _client.GetTasks(Manager.Lxc, "ghost"));
    }

    [Test]
    public async Task Peer_Ping_and_GetMachineId_answer()
    {
        var ping = await DBusSendAsync(ManagerPath, "org.freedesktop.DBus.Peer.Ping");
        var id = await DBusSendAsync(ManagerPath, "org.freedesktop.DBus.Peer.GetMachineId");
        Assert.Multiple(() =>
        {
            Assert.That(ping.ExitCode, Is.EqualTo(0), ping.Stderr);
            Assert.That(id.Stdout, Does.Match("string \"[0-9a-f]{32}\""));
        });
    }

    [Test]
    public void A_second_server_cannot_take_the_name()
    {
        var ex = Assert.ThrowsAsync<InvalidOperationException>(() => InteropBusService.StartAsync(_daemon.Address, new FakeInteropService(), _ => true));
        Assert.That(ex!.Message, Does.Contain("already owned").And.Contain(Bus));
    }

    [TestCase("org.freedesktop.DBus.Error.ServiceUnknown")]
    [TestCase("org.freedesktop.DBus.Error.NameHasNoOwner")]
    public void Nobody_owning_the_name_maps_to_DaemonUnreachable(string errorName)
    {
        var ex = InteropClient.MapError("system", errorName, "The name is not activatable", null);
        Assert.That(ex, Is.InstanceOf<DaemonUnreachableException>());
        Assert.That(ex.Message, Does.StartWith("interopd is not running on system"));
    }

    [Test]
    public void Client_without_a_bus_is_DaemonUnreachable()
    {
        var ex = Assert.ThrowsAsync<DaemonUnreachableException>(() => InteropClient.ConnectAsync("unix:path=/nonexistent/interop-test-bus"));
        Assert.That(ex!.Message, Does.Contain("interopd is not running on unix:path=/nonexistent/interop-test-bus"));
    }

    [Test]
    public void Client_events_are_not_supported()
    {
        Assert.Throws<NotSupportedException>(() => _client.ContainerAdded += (_, _) => { });
    }

    internal Task<CmdResult> DBusSendAsync(string path, string method, params string[] args)
        => Cmd.RunAsync("dbus-send", [$"--bus={_daemon.Address}", "--print-reply", $"--dest={Bus}", path, method, .. args]);

    internal async Task<DBusConnection> ConnectRawAsync()
    {
        var connection = new DBusConnection(_daemon.Address);
        await connection.ConnectAsync();
        return connection;
    }

}
