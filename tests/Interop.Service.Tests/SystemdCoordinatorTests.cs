using Interop.Core;
using Interop.Core.Adapters;
using Interop.Core.Adapters.Libvirt;
using Interop.Core.Adapters.Lxc;
using Interop.Core.Config;
using Interop.Core.Model;
using Interop.Core.Systemd;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace Interop.Service.Tests;

/// <summary>
/// interopd on a systemd host: the service with its cgroup host and systemd substituted. The /proc/PID/cgroup
/// contents are the nested systemd 252 host's (fixtures/systemd, see SystemdCaptures).
/// </summary>
public sealed class SystemdCoordinatorTests
{
    private const string Scope = "lxc-web.scope";
    private const string ScopePath = "/machine.slice/lxc-web.scope";
    private const int Monitor = 200;
    private const int Hook = 300;
    private const int Init = 4242;

    private readonly List<string> _events = [];
    private string _dir = "";
    private ICgroupHost _host = null!;
    private ISystemdHost _systemd = null!;
    private InteropService _service = null!;

    private string StatePath => Path.Combine(_dir, "state.yaml");

    private static Dictionary<string, string> PreStart => new() { [FactKeys.Hook] = "pre-start", [FactKeys.ParentPid] = Hook.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    [SetUp]
    public void CreateService()
    {
        _dir = Directory.CreateTempSubdirectory("interop-sd-").FullName;
        _events.Clear();
        _host = Substitute.For<ICgroupHost>();
        _host.Mode.Returns("hybrid");
        _host.Hierarchies.Returns([.. SystemdCaptures.HybridKeys.Select(k => (k, "/sys/fs/cgroup/" + k))]);
        _host.AbsoluteDir(Arg.Any<string>(), Arg.Any<string>()).Returns(c => $"/sys/fs/cgroup/{c.ArgAt<string>(0)}/{c.ArgAt<string>(1)}".TrimEnd('/'));
        _host.Setup(Arg.Any<string>()).Returns([]);
        _host.ListChildren(Arg.Any<string>()).Returns(new HashSet<string>());
        _host.ListChildren(Arg.Any<string>(), Arg.Any<Func<string, bool>>()).Returns(c => _host.ListChildren(c.ArgAt<string>(0)).Where(c.ArgAt<Func<string, bool>>(1)).ToList());
        _host.EnsureDirIn(Arg.Any<string>(), Arg.Any<string>()).Returns(c => [$"{c.ArgAt<string>(0)}: created /{c.ArgAt<string>(1)}"]);
        _host.RemoveIfEmptyIn(Arg.Any<string>(), Arg.Any<string>()).Returns(c => [$"{c.ArgAt<string>(0)}:/{c.ArgAt<string>(1)}"]);
        _host.ReadCmdline(Hook).Returns(["/bin/sh", "-c", "exec /usr/local/bin/interopctl hook lxc web lxc pre-start"]);
        _host.ParentOf(Hook).Returns(Monitor);
        _host.ReadCmdline(Monitor).Returns(["[lxc monitor] /var/lib/lxc web"]);
        _host.ParentOf(Monitor).Returns(1);
        _host.ReadProcCgroup(Monitor).Returns(SystemdCaptures.ByKey(SystemdCaptures.HybridMonitorInScope));
        _host.IsAlive(Init).Returns(true);
        _host.ReadProcCgroup(Init).Returns(SystemdCaptures.ByKey(SystemdCaptures.HybridLxcInit));
        _host.Tasks(Arg.Any<string>(), Arg.Any<string>()).Returns([]);

        _systemd = Substitute.For<ISystemdHost>();
        _systemd.GetUnitByPidAsync(Monitor, Arg.Any<CancellationToken>()).Returns(new UnitInfo("session-3.scope", "/user.slice/user-0.slice/session-3.scope", false, "active"));
        _systemd.GetUnitAsync(Scope, Arg.Any<CancellationToken>()).Returns((UnitInfo?)null);
        _systemd.GetUnitByPidAsync(Init, Arg.Any<CancellationToken>()).Returns(new UnitInfo(Scope, ScopePath, true, "active"));
        _systemd.GetMachineByPidAsync(Init, Arg.Any<CancellationToken>()).Returns((string?)null);

        var config = new InteropConfig { StateFile = StatePath }.ForSystemd();
        _service = new InteropService(_host, config, new StateStore(StatePath),
            new Dictionary<Manager, IContainerLayout> { [Manager.Lxc] = new LxcLayout(), [Manager.Libvirt] = new LibvirtLayout(["cpuset", "cpu", "cpuacct", "memory", "devices", "freezer", "blkio", "pids"]) },
            () => DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
            new SystemdCoordinator(_systemd, _host, config.SharedRoot));
        _service.ContainerAdded += (_, e) => _events.Add("added " + e.Mapping.Name);
        _service.ContainerRemoved += (_, e) => _events.Add("removed " + e.Mapping.Name);
    }

    [TearDown]
    public void DisposeService()
    {
        _service.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Test]
    public async Task Pre_start_from_a_root_shell_puts_the_monitor_alone_into_a_new_delegated_scope_in_the_slice()
    {
        await _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart);

        await _systemd.Received(1).StartScopeAsync(
            Arg.Is<ScopeRequest>(r => r.Unit == Scope && r.Slice == "machine.slice" && r.Pid == Monitor && r.Description == "LXC container web"),
            Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>());
        Assert.That(_service.GetContainer(Manager.Lxc, "web").Unit, Is.EqualTo(Scope));
    }

    [Test]
    public async Task Pre_start_mirrors_the_scope_where_systemd_did_not_put_the_monitor_and_only_there()
    {
        await _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart);

        // The hybrid nested host: cpuset and freezer are no unit's; systemd 252 left the scope unrealized in
        // cpuacct (/) and devices (the slice). Everywhere else the monitor already is at the scope's path.
        var monitor = SystemdCaptures.ByKey(SystemdCaptures.HybridMonitorInScope);
        var mirrored = monitor.Where(c => c.Value != ScopePath).Select(c => c.Key).ToList();
        Assert.That(mirrored, Is.EquivalentTo(new[] { "cpuset", "freezer", "cpuacct", "devices" }));
        foreach (var key in SystemdCaptures.HybridKeys)
        {
            var expected = mirrored.Contains(key) ? 1 : 0;
            _host.Received(expected).EnsureDirIn(key, "machine.slice/lxc-web.scope");
            _host.Received(expected).MoveProcess(key, "machine.slice/lxc-web.scope", Monitor);
        }

        _host.DidNotReceive().MoveProcess(Arg.Any<string>(), Arg.Any<string>(), Hook);
    }

    [Test]
    public async Task Start_host_mirrors_the_containers_own_path_and_never_moves_the_init_up_to_its_unit()
    {
        // The first run's real capture: lxc.payload.web in systemd's realized hierarchies, elsewhere not.
        _host.ReadProcCgroup(Init).Returns(
            Raw(),
            Raw(),
            SystemdCaptures.ByKey(SystemdCaptures.HybridLxcInit));

        var m = await _service.RegisterContainerAsync(Manager.Lxc, "web", Init, new Dictionary<string, string>());

        const string Own = "machine.slice/lxc-web.scope/lxc.payload.web";
        foreach (var key in new[] { "cpuset", "freezer", "cpuacct", "devices" })
        {
            _host.Received(1).MoveProcess(key, Own, Init);
        }

        _host.DidNotReceive().MoveProcess(Arg.Any<string>(), "machine.slice/lxc-web.scope", Init);
        _host.DidNotReceive().MoveProcess("memory", Arg.Any<string>(), Arg.Any<int>());
        Assert.That(m.CgroupPath, Is.EqualTo("/" + Own));
        Assert.That(m.Paths.Keys, Is.EquivalentTo(SystemdCaptures.HybridKeys));

        // Read by the first look at the leader and by the mirror; the third read is after the moves.
        static Dictionary<string, string> Raw() => SystemdCaptures.ByKey(SystemdCaptures.HybridLxcInitRun1
            .Replace("freezer:/machine.slice/lxc-web.scope", "freezer:/", StringComparison.Ordinal)
            .Replace("cpuset:/machine.slice/lxc-web.scope", "cpuset:/", StringComparison.Ordinal));
    }

    [Test]
    public async Task Systemctl_start_lxc_at_keeps_the_delegated_service_the_drop_in_put_in_the_slice()
    {
        _systemd.GetUnitByPidAsync(Monitor, Arg.Any<CancellationToken>()).Returns(new UnitInfo("lxc@web.service", "/machine.slice/lxc@web.service", true, "active"));
        _host.ReadCmdline(Monitor).Returns(["/usr/bin/lxc-start", "-F", "-n", "web"]);
        _host.ReadProcCgroup(Monitor).Returns(c => SystemdCaptures.ByKey(SystemdCaptures.HybridMonitorInScope.Replace("lxc-web.scope", "lxc@web.service", StringComparison.Ordinal)));

        await _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart);

        await _systemd.DidNotReceive().StartScopeAsync(Arg.Any<ScopeRequest>(), Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>());
        Assert.That(_service.GetContainer(Manager.Lxc, "web").Unit, Is.EqualTo("lxc@web.service"));
        _host.Received().MoveProcess("cpuset", "machine.slice/lxc@web.service", Monitor);
    }

    [Test]
    public async Task A_service_that_is_not_delegated_or_not_in_the_slice_gets_a_scope_of_its_own()
    {
        _systemd.GetUnitByPidAsync(Monitor, Arg.Any<CancellationToken>()).Returns(new UnitInfo("lxc@web.service", "/system.slice/system-lxc.slice/lxc@web.service", true, "active"));

        await _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart);

        await _systemd.Received(1).StartScopeAsync(Arg.Is<ScopeRequest>(r => r.Unit == Scope), Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>());
    }

    [Test]
    public void A_refused_scope_fails_the_start_in_one_line_naming_the_unit_and_records_nothing()
    {
        _systemd.StartScopeAsync(Arg.Any<ScopeRequest>(), Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new SystemdException(Scope, "org.freedesktop.DBus.Error.AccessDenied", "Access denied"));

        var e = Assert.ThrowsAsync<SystemdException>(() => _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart))!;

        Assert.Multiple(() =>
        {
            Assert.That(e.Message, Is.EqualTo("systemd refused lxc-web.scope: org.freedesktop.DBus.Error.AccessDenied: Access denied"));
            Assert.That(e.ErrorName, Is.EqualTo("org.interop.Interop1.Error.Systemd"));
            Assert.That(_service.ContainerCount, Is.Zero);
        });
        _host.DidNotReceive().EnsureDirIn(Arg.Any<string>(), Arg.Any<string>());
    }

    [Test]
    public void Systemd_that_does_not_answer_in_time_fails_the_start_in_one_line()
    {
        _systemd.StartScopeAsync(Arg.Any<ScopeRequest>(), Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>()).ThrowsAsync(new OperationCanceledException());

        var e = Assert.ThrowsAsync<SystemdException>(() => _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart))!;

        Assert.That(e.DBusError, Is.EqualTo("org.interop.Interop1.Error.Timeout"));
        Assert.That(e.Message, Does.Not.Contain("\n"));
        Assert.That(_service.ContainerCount, Is.Zero);
    }

    [Test]
    public void A_mirror_the_kernel_refuses_stops_the_new_scope_and_removes_the_dirs_made_for_it()
    {
        _host.When(h => h.MoveProcess("freezer", Arg.Any<string>(), Monitor)).Do(_ => throw new CgroupException("/sys/fs/cgroup/freezer/machine.slice/lxc-web.scope/cgroup.procs", 22, "write", "Invalid argument"));

        Assert.ThrowsAsync<CgroupException>(() => _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart));

        _systemd.Received(1).StopUnitAsync(Scope, Arg.Any<CancellationToken>());
        _host.Received().RemoveIfEmptyIn("cpuset", "machine.slice/lxc-web.scope");
        _host.Received().RemoveIfEmptyIn("freezer", "machine.slice/lxc-web.scope");
        Assert.That(_service.ContainerCount, Is.Zero);
    }

    [Test]
    public void A_scope_of_that_name_still_active_is_a_conflict_naming_it()
    {
        ScopeExistsOnce();
        _systemd.GetUnitAsync(Scope, Arg.Any<CancellationToken>()).Returns(new UnitInfo(Scope, ScopePath, true, "active"));

        var e = Assert.ThrowsAsync<ConflictException>(() => _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart))!;

        Assert.That(e.Message, Does.Contain("lxc-web.scope is still active").And.Contain("systemctl stop lxc-web.scope"));
        _systemd.Received(1).StartScopeAsync(Arg.Any<ScopeRequest>(), Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>());
        _host.DidNotReceive().EnsureDirIn(Arg.Any<string>(), Arg.Any<string>());
        Assert.That(_service.ContainerCount, Is.Zero);
    }

    [Test]
    public async Task A_failed_leftover_scope_of_that_name_is_reset_then_started_again()
    {
        ScopeExistsOnce();
        _systemd.GetUnitAsync(Scope, Arg.Any<CancellationToken>()).Returns(new UnitInfo(Scope, "", false, "failed"));

        await _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart);

        await _systemd.Received(1).ResetFailedUnitAsync(Scope, Arg.Any<CancellationToken>());
        await _systemd.Received(2).StartScopeAsync(Arg.Any<ScopeRequest>(), Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>());
        Assert.That(_service.GetContainer(Manager.Lxc, "web").Unit, Is.EqualTo(Scope));
    }

    [Test]
    public void A_scope_that_exists_again_on_the_second_try_fails_the_start_naming_it()
    {
        _systemd.StartScopeAsync(Arg.Any<ScopeRequest>(), Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new SystemdException(Scope, "org.freedesktop.systemd1.UnitExists", "Unit lxc-web.scope was already loaded or has a fragment file."));

        var e = Assert.ThrowsAsync<SystemdException>(() => _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart))!;

        Assert.That(e.Message, Is.EqualTo("systemd refused lxc-web.scope: org.freedesktop.systemd1.UnitExists: Unit lxc-web.scope was already loaded or has a fragment file."));
        _systemd.Received(2).StartScopeAsync(Arg.Any<ScopeRequest>(), Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>());
        _systemd.DidNotReceive().ResetFailedUnitAsync(Arg.Any<string>(), Arg.Any<CancellationToken>());
        Assert.That(_service.ContainerCount, Is.Zero);
    }

    [Test]
    public async Task A_clean_start_from_outside_the_slice_asks_systemd_for_nothing_but_the_scope()
    {
        // Before the scope, the monitor runs in the root shell's session (the bench's and an admin's lxc-start).
        var inSession = SystemdCaptures.ByKey(SystemdCaptures.HybridMonitorInScope.Replace("/machine.slice/lxc-web.scope", "/user.slice/user-0.slice/session-3.scope", StringComparison.Ordinal));
        _host.ReadProcCgroup(Monitor).Returns(inSession, SystemdCaptures.ByKey(SystemdCaptures.HybridMonitorInScope));

        await _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart);

        await _systemd.Received(1).StartScopeAsync(Arg.Is<ScopeRequest>(r => r.Unit == Scope && r.Pid == Monitor), Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>());
        await _systemd.DidNotReceive().GetUnitByPidAsync(Arg.Any<int>(), Arg.Any<CancellationToken>());
        await _systemd.DidNotReceive().GetUnitAsync(Arg.Any<string>(), Arg.Any<CancellationToken>());
        _host.Received(1).MoveProcess("cpuset", "machine.slice/lxc-web.scope", Monitor);
    }

    [Test]
    public async Task A_scope_whose_pid_proc_shows_elsewhere_after_the_job_is_looked_up_in_systemd()
    {
        // A view of the hierarchy unlike systemd's (or the pid elsewhere): its ControlGroup is then systemd's answer.
        var inSession = SystemdCaptures.ByKey(SystemdCaptures.HybridMonitorInScope.Replace("/machine.slice/lxc-web.scope", "/user.slice/user-0.slice/session-3.scope", StringComparison.Ordinal));
        _host.ReadProcCgroup(Monitor).Returns(inSession);
        _systemd.GetUnitAsync(Scope, Arg.Any<CancellationToken>()).Returns(new UnitInfo(Scope, "/machine.slice/lxc-web.scope", true, "active"));

        await _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart);

        await _systemd.Received(1).GetUnitAsync(Scope, Arg.Any<CancellationToken>());
        _host.Received(1).MoveProcess("memory", "machine.slice/lxc-web.scope", Monitor);
        Assert.That(_service.GetContainer(Manager.Lxc, "web").Unit, Is.EqualTo(Scope));
    }

    [Test]
    public void Pre_start_without_a_monitor_above_the_hook_fails_and_asks_for_nothing()
    {
        _host.ReadCmdline(Monitor).Returns(["/usr/sbin/cron"]);

        var e = Assert.ThrowsAsync<ConflictException>(() => _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart))!;

        Assert.That(e.Message, Does.Contain("cannot find LXC's monitor of web above pid 300"));
        _systemd.DidNotReceive().StartScopeAsync(Arg.Any<ScopeRequest>(), Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>());
    }

    [Test]
    public void Pre_start_without_the_parent_pid_fact_is_refused_as_bad_input()
    {
        var e = Assert.ThrowsAsync<InvalidInputException>(() => _service.PrepareContainerAsync(Manager.Lxc, "web", new Dictionary<string, string> { [FactKeys.Hook] = "pre-start" }))!;
        Assert.That(e.Field, Is.EqualTo(FactKeys.ParentPid));
    }

    [Test]
    public async Task Start_host_registers_the_container_with_machined_and_records_unit_and_machine()
    {
        await _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart);
        var m = await _service.RegisterContainerAsync(Manager.Lxc, "web", Init, new Dictionary<string, string> { [FactKeys.RootfsPath] = "/var/lib/lxc/web/rootfs" });

        await _systemd.Received(1).RegisterMachineAsync(new MachineRequest("web", "lxc", Init, "/var/lib/lxc/web/rootfs"), Arg.Any<CancellationToken>());
        var saved = new StateStore(StatePath).Load().Single();
        Assert.Multiple(() =>
        {
            Assert.That(m.Unit, Is.EqualTo(Scope));
            Assert.That(m.Machine, Is.EqualTo("web"));
            Assert.That(m.CgroupPath, Is.EqualTo(ScopePath + "/lxc.payload.web"));
            Assert.That((saved.Unit, saved.Machine), Is.EqualTo((Scope, "web")));
            Assert.That(_events, Is.EqualTo(new[] { "added web" }));
        });
    }

    [Test]
    public async Task A_container_name_machined_refuses_is_registered_under_its_filtered_form()
    {
        _systemd.GetUnitByPidAsync(Init, Arg.Any<CancellationToken>()).Returns(new UnitInfo("lxc-a_b.scope", "/machine.slice/lxc-a_b.scope", true, "active"));
        _host.ReadProcCgroup(Init).Returns(SystemdCaptures.ByKey(SystemdCaptures.HybridLxcInit.Replace("lxc-web.scope/lxc.payload.web", "lxc-a_b.scope/lxc.payload.a_b", StringComparison.Ordinal)));

        var m = await _service.RegisterContainerAsync(Manager.Lxc, "a_b", Init, new Dictionary<string, string>());

        await _systemd.Received(1).RegisterMachineAsync(Arg.Is<MachineRequest>(r => r.Name == "a-b"), Arg.Any<CancellationToken>());
        Assert.That(m.Machine, Is.EqualTo("a-b"));
    }

    [Test]
    public void A_machined_refusal_fails_start_host_in_one_line_naming_the_machine()
    {
        _systemd.RegisterMachineAsync(Arg.Any<MachineRequest>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new SystemdException("machine web", "org.freedesktop.machine1.MachineExists", "Machine 'web' already exists"));

        var e = Assert.ThrowsAsync<SystemdException>(() => _service.RegisterContainerAsync(Manager.Lxc, "web", Init, new Dictionary<string, string>()))!;

        Assert.That(e.Message, Is.EqualTo("systemd refused machine web: org.freedesktop.machine1.MachineExists: Machine 'web' already exists"));
        Assert.That(_service.ContainerCount, Is.Zero);
    }

    [Test]
    public async Task A_libvirt_domain_in_its_machined_scope_is_accepted_with_its_unit_and_machine_and_its_pids_are_mirrored()
    {
        const int controller = 555;
        const int guest = 556;
        var scope = SystemdCaptures.LibvirtScope;
        _host.IsAlive(controller).Returns(true);
        _host.ReadProcCgroup(controller).Returns(SystemdCaptures.ByKey(SystemdCaptures.HybridLibvirtController));
        _host.Tasks("name=systemd", scope.TrimStart('/')).Returns([(uint)controller, (uint)guest]);
        _systemd.GetUnitByPidAsync(controller, Arg.Any<CancellationToken>()).Returns(new UnitInfo(scope[(scope.LastIndexOf('/') + 1)..], scope, false, "active"));
        _systemd.GetMachineByPidAsync(controller, Arg.Any<CancellationToken>()).Returns(SystemdCaptures.LibvirtMachine);

        var m = await _service.RegisterContainerAsync(Manager.Libvirt, "sdct1", controller, new Dictionary<string, string>());

        Assert.Multiple(() =>
        {
            Assert.That(m.CgroupPath, Does.StartWith(scope));
            Assert.That(m.Unit, Is.EqualTo(scope[(scope.LastIndexOf('/') + 1)..]));
            Assert.That(m.Machine, Is.EqualTo(SystemdCaptures.LibvirtMachine));
        });
        await _systemd.DidNotReceive().RegisterMachineAsync(Arg.Any<MachineRequest>(), Arg.Any<CancellationToken>());
        foreach (var (key, path) in SystemdCaptures.ByKey(SystemdCaptures.HybridLibvirtController))
        {
            var mirrored = path != SystemdCaptures.LibvirtLeaf;
            _host.Received(mirrored ? 1 : 0).MoveProcess(key, SystemdCaptures.LibvirtLeaf.TrimStart('/'), guest);
        }
    }

    [Test]
    public async Task A_controller_that_name_systemd_still_has_in_libvirtds_service_is_placed_by_systemds_answer()
    {
        // libvirt 9.0 on a hybrid host: the hierarchies systemd tracks units in disagree, so /proc does not decide.
        const int controller = 555;
        var scope = SystemdCaptures.LibvirtScope;
        var cgroups = SystemdCaptures.ByKey(SystemdCaptures.HybridLibvirtController);
        cgroups["name=systemd"] = "/system.slice/libvirtd.service";
        _host.IsAlive(controller).Returns(true);
        _host.ReadProcCgroup(controller).Returns(cgroups);
        _systemd.GetUnitByPidAsync(controller, Arg.Any<CancellationToken>()).Returns(new UnitInfo(scope[(scope.LastIndexOf('/') + 1)..], scope, false, "active"));

        var m = await _service.RegisterContainerAsync(Manager.Libvirt, "sdct1", controller, new Dictionary<string, string>());

        await _systemd.Received(1).GetUnitByPidAsync(controller, Arg.Any<CancellationToken>());
        Assert.That(m.Unit, Is.EqualTo(scope[(scope.LastIndexOf('/') + 1)..]));
        _host.Received(1).MoveProcess("name=systemd", SystemdCaptures.LibvirtLeaf.TrimStart('/'), controller);
    }

    [Test]
    public async Task The_real_libvirt_domain_in_place_everywhere_is_registered_as_it_is_with_nothing_moved()
    {
        // Run 2 on the hybrid nested host: controller 842 of domain sdv-1b7410-c, and its guest init.
        const int controller = 842;
        const string scope = "machine-lxc\\x2d842\\x2dsdv\\x2d1b7410\\x2dc.scope";
        var leader = SystemdCaptures.ByKey(SystemdCaptures.Run2("run2-hybrid/libvirt-c.leader.cgroup"));
        _host.IsAlive(controller).Returns(true);
        _host.ReadProcCgroup(controller).Returns(leader);
        _host.Tasks("name=systemd", "machine.slice/" + scope).Returns([(uint)controller, 843u]);
        _systemd.GetUnitByPidAsync(controller, Arg.Any<CancellationToken>()).Returns(new UnitInfo(scope, "/machine.slice/" + scope, false, "active"));
        _systemd.GetMachineByPidAsync(controller, Arg.Any<CancellationToken>()).Returns("lxc-842-sdv-1b7410-c");

        await _service.PrepareContainerAsync(Manager.Libvirt, "sdv-1b7410-c", new Dictionary<string, string> { [FactKeys.Hook] = "prepare" });
        var m = await _service.RegisterContainerAsync(Manager.Libvirt, "sdv-1b7410-c", controller, new Dictionary<string, string>());

        Assert.Multiple(() =>
        {
            Assert.That(m.CgroupPath, Is.EqualTo("/machine.slice/" + scope + "/libvirt"));
            Assert.That(m.Paths.Keys, Is.EquivalentTo(leader.Keys));
            Assert.That((m.Unit, m.Machine), Is.EqualTo((scope, "lxc-842-sdv-1b7410-c")));
        });
        _host.DidNotReceive().MoveProcess(Arg.Any<string>(), Arg.Any<string>(), Arg.Any<int>());
        _host.DidNotReceive().EnsureDirIn(Arg.Any<string>(), Arg.Any<string>());
    }

    [Test]
    public async Task A_container_reboot_keeps_its_unit_and_moves_nothing()
    {
        // busybox's init takes SIGTERM as reboot: LXC runs pre-start again in the same monitor, now in <unit>/lxc.pivot.
        _systemd.GetUnitByPidAsync(Monitor, Arg.Any<CancellationToken>()).Returns(new UnitInfo(Scope, ScopePath, true, "active"));
        _host.ReadProcCgroup(Monitor).Returns(SystemdCaptures.ByKey(SystemdCaptures.HybridLxcInit.Replace("lxc.payload.web", "lxc.pivot", StringComparison.Ordinal)));

        await _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart);

        _host.DidNotReceive().MoveProcess(Arg.Any<string>(), Arg.Any<string>(), Arg.Any<int>());
        await _systemd.DidNotReceive().StartScopeAsync(Arg.Any<ScopeRequest>(), Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>());
        Assert.That(_service.GetContainer(Manager.Lxc, "web").Unit, Is.EqualTo(Scope));
    }

    [Test]
    public async Task Reconcile_adopts_an_lxc_container_below_its_unit_and_re_registers_it_with_machined()
    {
        const string Payload = "machine.slice/lxc-web.scope/lxc.payload.web";
        _host.ListChildren("machine.slice").Returns(new HashSet<string> { "lxc-web.scope" });
        _host.ListChildren("machine.slice/lxc-web.scope").Returns(new HashSet<string> { "lxc.payload.web", "lxc.monitor.web" });
        _host.HasTasks(Payload).Returns(true);
        _host.Tasks("cpuset", Payload).Returns([(uint)Init, 4300u]);
        _host.ParentOf(Init).Returns(Monitor);
        _host.ParentOf(4300).Returns(Init);

        var report = await _service.ReconcileAsync();

        var m = report.Adopted.Single();
        Assert.Multiple(() =>
        {
            Assert.That((m.Name, m.Leader, m.Source), Is.EqualTo(("web", Init, MappingSource.Adopted)));
            Assert.That((m.Unit, m.Machine), Is.EqualTo((Scope, "web")));
            Assert.That(m.CgroupPath, Is.EqualTo("/" + Payload));
        });
        await _systemd.Received(1).RegisterMachineAsync(Arg.Is<MachineRequest>(r => r.Name == "web" && r.Leader == Init), Arg.Any<CancellationToken>());
    }

    [Test]
    public async Task Reconcile_adopts_a_libvirt_domain_in_its_machined_scope_under_the_name_of_its_pid_file()
    {
        // Run 2 on the hybrid nested host: controller 842, machine lxc-842-sdv-1b7410-c. Domain "sdv-_1b7410-c" filters to
        // that too: only libvirt's pid file gives the real name back.
        const int controller = 842;
        const string scope = "machine-lxc\\x2d842\\x2dsdv\\x2d1b7410\\x2dc.scope";
        _host.ListChildren("machine.slice").Returns(new HashSet<string> { scope });
        _host.HasTasks("machine.slice/" + scope).Returns(true);
        _host.IsAlive(controller).Returns(true);
        _host.ReadProcCgroup(controller).Returns(SystemdCaptures.ByKey(SystemdCaptures.Run2("run2-hybrid/libvirt-c.leader.cgroup")));
        _host.PidFileNames("/run/libvirt/lxc", controller).Returns(["sdv-_1b7410-c"]);
        _systemd.GetUnitByPidAsync(controller, Arg.Any<CancellationToken>()).Returns(new UnitInfo(scope, "/machine.slice/" + scope, false, "active"));
        _systemd.GetMachineByPidAsync(controller, Arg.Any<CancellationToken>()).Returns("lxc-842-sdv-1b7410-c");

        var report = await _service.ReconcileAsync();

        var m = report.Adopted.Single();
        Assert.Multiple(() =>
        {
            Assert.That((m.Manager, m.Name, m.Leader, m.Source), Is.EqualTo((Manager.Libvirt, "sdv-_1b7410-c", controller, MappingSource.Adopted)));
            Assert.That(m.CgroupPath, Is.EqualTo("/machine.slice/" + scope + "/libvirt"), "where its leader is, below the scope");
        });
    }

    [Test]
    public async Task A_leader_in_no_unit_of_the_slice_is_refused()
    {
        // In the shared root but in no unit below it (LXC without Interop's include: lxc.payload.web right in the slice).
        _host.ReadProcCgroup(Init).Returns(SystemdCaptures.ByKey(SystemdCaptures.HybridLxcInit.Replace("/machine.slice/lxc-web.scope/lxc.payload.web", "/machine.slice/lxc.payload.web", StringComparison.Ordinal)));
        _systemd.GetUnitByPidAsync(Init, Arg.Any<CancellationToken>()).Returns(new UnitInfo("machine.slice", "/machine.slice", false, "active"));

        var e = Assert.ThrowsAsync<NotInSharedRootException>(() => _service.RegisterContainerAsync(Manager.Lxc, "web", Init, new Dictionary<string, string>()))!;

        Assert.That(e.Message, Does.Contain("runs in machine.slice, not in a unit of its own in machine.slice"));
        await Task.CompletedTask;
    }

    [Test]
    public async Task A_leader_below_a_unit_in_the_slice_is_placed_from_proc_without_asking_systemd_for_the_unit()
    {
        var m = await _service.RegisterContainerAsync(Manager.Lxc, "web", Init, new Dictionary<string, string>());

        await _systemd.DidNotReceive().GetUnitByPidAsync(Init, Arg.Any<CancellationToken>());
        Assert.That((m.Unit, m.CgroupPath), Is.EqualTo((Scope, ScopePath + "/lxc.payload.web")));
    }

    [Test]
    public async Task A_unit_dir_cgroupfs_may_have_escaped_is_left_to_systemd_to_name()
    {
        // cgroupfs prefixes '_' to a unit name that could be taken for a control file: systemd says what the unit is.
        _host.ReadProcCgroup(Init).Returns(SystemdCaptures.ByKey(SystemdCaptures.HybridLxcInit.Replace("lxc-web.scope", "_cpu.web.scope", StringComparison.Ordinal)));
        _systemd.GetUnitByPidAsync(Init, Arg.Any<CancellationToken>()).Returns(new UnitInfo("cpu.web.scope", "/machine.slice/_cpu.web.scope", true, "active"));

        var m = await _service.RegisterContainerAsync(Manager.Lxc, "web", Init, new Dictionary<string, string>());

        await _systemd.Received(1).GetUnitByPidAsync(Init, Arg.Any<CancellationToken>());
        Assert.That(m.Unit, Is.EqualTo("cpu.web.scope"));
    }

    [Test]
    public async Task Set_goes_through_SetUnitProperties_on_the_unit_and_never_writes_cgroupfs()
    {
        await _service.RegisterContainerAsync(Manager.Lxc, "web", Init, new Dictionary<string, string>());

        await _service.SetValueAsync(Manager.Lxc, "web", "memory.limit_in_bytes", "256M");

        await _systemd.Received(1).SetUnitPropertiesAsync(Scope, Arg.Is<IReadOnlyList<UnitProperty>>(p => p.Single().Name == "MemoryLimit" && p.Single().Number == 268435456UL), Arg.Any<CancellationToken>());
        _host.DidNotReceive().WriteValue(Arg.Any<string>(), Arg.Any<string>(), Arg.Any<string>(), Arg.Any<string>());
    }

    [Test]
    public async Task Set_of_a_key_without_a_systemd_property_is_refused_naming_the_unit()
    {
        await _service.RegisterContainerAsync(Manager.Lxc, "web", Init, new Dictionary<string, string>());

        var e = Assert.ThrowsAsync<InvalidInputException>(() => _service.SetValueAsync(Manager.Lxc, "web", "memory.swappiness", "10"))!;

        Assert.That(e.Message, Does.Contain("memory.swappiness has no systemd property; lxc-web.scope's limits go through systemd"));
        await _systemd.DidNotReceive().SetUnitPropertiesAsync(Arg.Any<string>(), Arg.Any<IReadOnlyList<UnitProperty>>(), Arg.Any<CancellationToken>());
        _host.DidNotReceive().WriteValue(Arg.Any<string>(), Arg.Any<string>(), Arg.Any<string>(), Arg.Any<string>());
    }

    [Test]
    public async Task When_machined_forgets_the_machine_the_mapping_is_dropped_and_ContainerRemoved_emitted()
    {
        await _service.RegisterContainerAsync(Manager.Lxc, "web", Init, new Dictionary<string, string>());

        // The handler runs the drop through the daemon's gate, which is free here: done when Raise returns.
        _systemd.MachineRemoved += Raise.Event<EventHandler<string>>(_systemd, "web");

        Assert.Multiple(() =>
        {
            Assert.That(_service.ContainerCount, Is.Zero);
            Assert.That(new StateStore(StatePath).Load(), Is.Empty);
            Assert.That(_events, Is.EqualTo(new[] { "added web", "removed web" }));
        });
    }

    [Test]
    public async Task When_systemd_drops_the_unit_the_mirrored_dirs_go()
    {
        await _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart);

        _systemd.UnitRemoved += Raise.Event<EventHandler<string>>(_systemd, Scope);

        // Every v1 hierarchy (systemd has removed its own dirs by now; what is left is Interop's mirror and
        // LXC's lxc.pivot in it), never name=systemd or cgroup2.
        foreach (var key in SystemdCaptures.HybridKeys)
        {
            _host.Received(key is "name=systemd" or "unified" ? 0 : 1).RemoveIfEmptyIn(key, "machine.slice/lxc-web.scope");
        }
    }

    [Test]
    public async Task A_container_still_prepared_when_systemd_drops_its_unit_is_dropped_and_a_running_one_is_not()
    {
        // Without a start-host hook, nothing else would: machinectl terminate of a container that was rebooting.
        await _service.PrepareContainerAsync(Manager.Lxc, "web", PreStart);

        _systemd.UnitRemoved += Raise.Event<EventHandler<string>>(_systemd, Scope);

        Assert.Multiple(() =>
        {
            Assert.That(_service.ContainerCount, Is.Zero);
            Assert.That(new StateStore(StatePath).Load(), Is.Empty);
            Assert.That(_events, Is.EqualTo(new[] { "removed web" }));
        });

        await _service.RegisterContainerAsync(Manager.Lxc, "web", Init, new Dictionary<string, string>());
        _systemd.UnitRemoved += Raise.Event<EventHandler<string>>(_systemd, Scope);
        Assert.That(_service.ContainerCount, Is.EqualTo(1u), "a registered container goes with its machine or its post-stop");
    }

    [Test]
    public async Task Post_stop_unregisters_the_machine_and_resets_a_failed_unit()
    {
        await _service.RegisterContainerAsync(Manager.Lxc, "web", Init, new Dictionary<string, string>());
        _systemd.UnregisterMachineAsync("web", Arg.Any<CancellationToken>()).Returns(true);
        _systemd.GetUnitAsync(Scope, Arg.Any<CancellationToken>()).Returns(new UnitInfo(Scope, ScopePath, true, "failed"));

        Assert.That(await _service.ReleaseContainerAsync(Manager.Lxc, "web", new Dictionary<string, string>()), Is.True);

        await _systemd.Received(1).UnregisterMachineAsync("web", Arg.Any<CancellationToken>());
        await _systemd.Received(1).ResetFailedUnitAsync(Scope, Arg.Any<CancellationToken>());
        await _systemd.DidNotReceive().StopUnitAsync(Arg.Any<string>(), Arg.Any<CancellationToken>());
    }

    [Test]
    public async Task Prune_keeps_unit_dirs_systemd_knows_and_resets_failed_ones()
    {
        Func<string, bool>? owned = null;
        _host.Prune("machine.slice", false, Arg.Do<Func<string, bool>>(f => owned = f)).Returns([]);
        _systemd.GetUnitAsync("lxc-live.scope", Arg.Any<CancellationToken>()).Returns(new UnitInfo("lxc-live.scope", "/machine.slice/lxc-live.scope", true, "active"));
        _systemd.GetUnitAsync("lxc-dead.scope", Arg.Any<CancellationToken>()).Returns(new UnitInfo("lxc-dead.scope", "", true, "failed"));
        _systemd.GetUnitAsync("lxc-gone.scope", Arg.Any<CancellationToken>()).Returns((UnitInfo?)null);

        await _service.PruneAsync(dryRun: false);

        Assert.That(owned, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(owned!("machine.slice/lxc-live.scope"), Is.True);
            Assert.That(owned("machine.slice/lxc-live.scope/lxc.pivot"), Is.True);
            Assert.That(owned("machine.slice/lxc-dead.scope"), Is.False);
            Assert.That(owned("machine.slice/lxc-gone.scope"), Is.False);
            Assert.That(owned("machine.slice/lxc.payload.old"), Is.False);
        });
        await _systemd.Received(1).ResetFailedUnitAsync("lxc-dead.scope", Arg.Any<CancellationToken>());
    }

    /// <summary>The first StartTransientUnit finds a unit of that name loaded; the second starts the scope.</summary>
    private void ScopeExistsOnce() =>
        _systemd.StartScopeAsync(Arg.Any<ScopeRequest>(), Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>()).Returns(
            _ => Task.FromException(new SystemdException(Scope, "org.freedesktop.systemd1.UnitExists", "Unit lxc-web.scope was already loaded or has a fragment file.")),
            _ => Task.CompletedTask);
}
