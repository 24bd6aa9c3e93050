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
    public async Task A_query_is_answered_on_the_thread_that_read_it_from_the_bus()
    {
        // BusStream: the bus connection's own reader thread, no hand-off to the socket engine or the pool.
        await _client.ListContainersAsync();

        Assert.That(_fake.ListedOn, Is.EqualTo("bus reader"));
    }

    [Test]
    public async Task GetMetrics_returns_the_exposition_the_daemon_produces()
    {
        Assert.That(await _client.GetMetricsAsync(), Is.EqualTo(Exposition));
    }

    [Test]
    public async Task Manager_properties_are_read_with_one_GetAll()
    {
        var p = await _client.GetPropertiesAsync();
        Assert.Multiple(() =>
        {
            Assert.That(p.Version, Is.EqualTo("0.1.0"));
            Assert.That(p.CgroupMode, Is.EqualTo("hybrid"));
            Assert.That(p.SharedRoot, Is.EqualTo("/machine"));
            Assert.That(p.Hierarchies, Is.EqualTo(_fake.Hierarchies));
            Assert.That(p.ContainerCount, Is.EqualTo(2u));
            Assert.That(p.StateWritable, Is.True);
        });
    }

    [Test]
    public async Task GetContainer_returns_every_property_through_GetAll()
    {
        var expected = _fake.Containers[0];
        var actual = await _client.GetContainerAsync(Manager.Lxc, "web-01");
        Assert.Multiple(() =>
        {
            Assert.That(actual with { Paths = expected.Paths }, Is.EqualTo(expected));
            Assert.That(actual.Paths, Is.EquivalentTo(expected.Paths));
        });
    }

    [Test]
    public async Task Lookups_by_pid_and_cgroup_find_the_container()
    {
        var byPid = await _client.GetContainerByPidAsync(5151);
        var byCgroup = await _client.GetContainerByCgroupAsync("/machine/lxc.payload.web-01/init.scope");
        Assert.Multiple(() =>
        {
            Assert.That(byPid.Name, Is.EqualTo("db_1"));
            Assert.That(byCgroup.Name, Is.EqualTo("web-01"));
            Assert.That(byPid.Uuid, Is.EqualTo(_fake.Containers[1].Uuid));
        });
    }

    [Test]
    public async Task ListContainers_carries_manager_name_state_leader_cgroup_and_object_path()
    {
        var list = await _client.ListContainersAsync();
        Assert.That(list.Select(m => (m.Manager, m.Name, m.State, m.Leader, m.CgroupPath, m.ObjectPath)), Is.EqualTo(new[]
        {
            (Manager.Lxc, "web-01", ContainerState.Running, 4242u, "/machine/lxc.payload.web-01", "/org/interop/Interop1/container/lxc_web_2d01"),
            (Manager.Libvirt, "db_1", ContainerState.Running, 5151u, "/machine/lxc.payload.db_1", "/org/interop/Interop1/container/libvirt_db_5f1"),
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
            Assert.That(registered, Is.EqualTo(ObjectPaths.ForContainer(Manager.Lxc, "new")));
            Assert.That(released, Is.True);
            Assert.That(releasedAgain, Is.False);
            Assert.That(actions, Is.EqualTo(new[] { "cpuset: created /machine", "cpuset: clone_children=1 on /machine" }));
            Assert.That(pruned, Is.EqualTo(new[] { "/sys/fs/cgroup/cpuset/machine/lxc.payload.old" }));
            Assert.That(_fake.Values["cpu.shares"], Is.EqualTo("512"));
        });
    }

    [Test]
    public async Task Container_methods_GetValue_and_GetTasks()
    {
        var value = await _client.GetValueAsync(Manager.Lxc, "web-01", "memory.limit_in_bytes");
        var tasks = await _client.GetTasksAsync(Manager.Libvirt, "db_1");
        Assert.Multiple(() =>
        {
            Assert.That(value, Is.EqualTo("1073741824"));
            Assert.That(tasks, Is.EqualTo(new uint[] { 5151, 5152 }));
        });
    }

    private static IEnumerable<TestCaseData> Errors()
    {
        yield return new TestCaseData(new NoSuchContainerException("lxc/ghost")).SetArgDisplayNames("NoSuchContainer");
        yield return new TestCaseData(new InvalidInputException("name", "'a/b' contains '/'")).SetArgDisplayNames("InvalidArgument");
        yield return new TestCaseData(new ConflictException("lxc/web-01 is running with leader 4242", "lxc/web-01")).SetArgDisplayNames("Conflict");
        yield return new TestCaseData(new NotInSharedRootException("/lxc/x is outside /machine", "lxc/x")).SetArgDisplayNames("NotInSharedRoot");
        yield return new TestCaseData(new CgroupException("/sys/fs/cgroup/cpuset/machine/x/cgroup.procs", 28, "write", "No space left on device")).SetArgDisplayNames("Cgroup");
        yield return new TestCaseData(new AccessDeniedException("uid 1000 may not do that")).SetArgDisplayNames("AccessDenied");
        yield return new TestCaseData(new Core.Systemd.SystemdException("lxc-web.scope", "org.freedesktop.systemd1.NoSuchUnit", "Unit lxc-web.scope not loaded.")).SetArgDisplayNames("Systemd");
    }

    [TestCaseSource(nameof(Errors))]
    public void Service_errors_cross_the_bus_with_their_name_type_message_and_fields(InteropException error)
    {
        _fake.ThrowOnNextCall = error;
        var thrown = Assert.ThrowsAsync(error.GetType(), () => _client.ListContainersAsync()) as InteropException;
        Assert.Multiple(() =>
        {
            Assert.That(thrown!.ErrorName, Is.EqualTo(error.ErrorName));
            Assert.That(thrown.Message, Is.EqualTo(error.Message));
            Assert.That(Fields(thrown), Is.EqualTo(Fields(error)));
        });
    }

    [Test]
    public async Task Errors_of_async_calls_cross_the_bus_too()
    {
        _fake.ThrowOnNextCall = new ConflictException("a live container lxc/new is registered");
        var ex = Assert.ThrowsAsync<ConflictException>(() => _client.PrepareContainerAsync(Manager.Lxc, "new", new Dictionary<string, string>()));
        Assert.That(ex!.Message, Is.EqualTo("a live container lxc/new is registered"));
        Assert.That((await _client.GetPropertiesAsync()).ContainerCount, Is.EqualTo(2u), "the connection survives the error");
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
    public async Task An_unexpected_exception_is_Failed_with_a_short_message_and_is_logged()
    {
        _fake.ThrowOnNextCall = new IOException("disk on fire");
        var ex = Assert.ThrowsAsync<DaemonErrorException>(() => _client.ListContainersAsync());
        var version = (await _client.GetPropertiesAsync()).Version;
        Assert.Multiple(() =>
        {
            Assert.That(ex!.ErrorName, Is.EqualTo("org.freedesktop.DBus.Error.Failed"));
            Assert.That(ex.Message, Does.Contain("IOException").And.Not.Contain("disk on fire"));
            Assert.That(_log.Entries.Select(l => l.Error), Has.Some.InstanceOf<IOException>());
            Assert.That(version, Is.EqualTo("0.1.0"), "the connection survives");
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
        Assert.ThrowsAsync<NoSuchContainerException>(() => _client.GetTasksAsync(Manager.Lxc, "ghost"));
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
        var ex = ErrorCodec.ToException("system", new ErrorReply(errorName, "s", ["The name is not activatable"]));
        Assert.That(ex, Is.InstanceOf<DaemonUnreachableException>());
        Assert.That(ex.Message, Does.StartWith("interopd is not running on system"));
    }

    [Test]
    public void Client_without_a_bus_is_DaemonUnreachable()
    {
        var ex = Assert.ThrowsAsync<DaemonUnreachableException>(() => InteropClient.ConnectAsync("unix:path=/nonexistent/interop-test-bus"));
        Assert.That(ex!.Message, Does.Contain("interopd is not running on unix:path=/nonexistent/interop-test-bus"));
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
