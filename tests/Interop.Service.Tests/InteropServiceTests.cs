using Interop.Core;
using Interop.Core.Adapters;
using Interop.Core.Config;
using Interop.Core.Model;
using Interop.Core.Service;
using NSubstitute;

namespace Interop.Service.Tests;

/// <summary>The lifecycle logic with the host substituted; the real cgroupfs is exercised by the functional tests.</summary>
public sealed class InteropServiceTests
{
    private const string Payload = "machine/lxc.payload.web";
    private readonly List<string> _events = [];
    private string _dir = "";
    private ICgroupHost _host = null!;
    private InteropService _service = null!;

    [SetUp]
    public void CreateService()
    {
        _dir = Directory.CreateTempSubdirectory("interop-svc-").FullName;
        _host = Substitute.For<ICgroupHost>();
        _events.Clear();
        _host.Mode.Returns("hybrid");
        _host.Hierarchies.Returns([("cpuset", "/sys/fs/cgroup/cpuset"), ("memory", "/sys/fs/cgroup/memory"), ("unified", "/sys/fs/cgroup/unified")]);
        _host.AbsoluteDir(Arg.Any<string>(), Arg.Any<string>()).Returns(c => $"/sys/fs/cgroup/{c.ArgAt<string>(0)}/{c.ArgAt<string>(1)}".TrimEnd('/'));
        _host.Setup("machine").Returns([]);
        _host.ListChildren(Arg.Any<string>()).Returns(new HashSet<string>());
        _host.ListChildren(Arg.Any<string>(), Arg.Any<Func<string, bool>>()).Returns(c => _host.ListChildren(c.ArgAt<string>(0)).Where(c.ArgAt<Func<string, bool>>(1)).ToList());
        _host.RemoveIfEmpty(Arg.Any<string>()).Returns(c => [c.ArgAt<string>(0)]);
        _host.AnyCgroupPath(Arg.Any<int>(), Arg.Any<CgroupPathTest>())
            .Returns(c => _host.ReadProcCgroup(c.ArgAt<int>(0)) is { } paths ? paths.Values.Any(p => c.ArgAt<CgroupPathTest>(1)(p)) : null);
        _host.HierarchyOf("memory").Returns("memory");
        _host.IsAlive(4242).Returns(true);
        _host.ReadProcCgroup(4242).Returns(new Dictionary<string, string>
        {
            ["cpuset"] = "/" + Payload,
            ["memory"] = "/" + Payload,
            ["unified"] = "/" + Payload,
            ["name=systemd"] = "/",
        });
        _host.HasPrivateCgroupNamespace(4242).Returns(true);

        _service = new InteropService(_host, new InteropConfig { StateFile = StatePath }, new StateStore(StatePath),
            new Dictionary<Manager, IContainerLayout> { [Manager.Lxc] = new FakeLxcLayout() },
            () => DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        _service.ContainerAdded += (_, e) => _events.Add("added " + e.Mapping.Name);
        _service.ContainerRemoved += (_, e) => _events.Add("removed " + e.Mapping.Name);
    }

    private string StatePath => Path.Combine(_dir, "state.yaml");

    private static IReadOnlyDictionary<string, string> NoFacts => new Dictionary<string, string>();

    [TearDown]
    public void DisposeService()
    {
        _service.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Test]
    public async Task A_call_waiting_for_its_turn_ends_when_its_token_is_cancelled_and_changes_nothing()
    {
        using var inSetup = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        _host.Setup("machine").Returns(_ =>
        {
            inSetup.Set();
            release.Wait(TimeSpan.FromSeconds(30));
            return ["cpuset: created /machine"];
        });
        var setup = Task.Run(() => _service.SetupAsync());
        Assert.That(inSetup.Wait(TimeSpan.FromSeconds(30)), Is.True, "setup holds the gate");

        using var stop = new CancellationTokenSource();
        var prepare = _service.PrepareContainerAsync(Manager.Lxc, "web", NoFacts, stop.Token);
        Assert.That(prepare.IsCompleted, Is.False, "prepare waits for its turn");
        stop.Cancel();

        Assert.That(async () => await prepare, Throws.InstanceOf<OperationCanceledException>());
        release.Set();
        var actions = await setup;
        Assert.Multiple(() =>
        {
            Assert.That(actions, Is.EqualTo(new[] { "cpuset: created /machine" }), "the call that had started ran to its end");
            Assert.That(() => _service.GetContainer(Manager.Lxc, "web"), Throws.InstanceOf<NoSuchContainerException>());
        });
    }

    [Test]
    public async Task Gated_work_asked_for_from_a_thread_outside_the_pool_runs_on_the_pool()
    {
        // interopd runs socket completions inline on the thread that polls every socket: gated work must never block it.
        bool? onPool = null;
        _host.EnsureReady(Arg.Any<string>()).Returns(_ =>
        {
            onPool = Thread.CurrentThread.IsThreadPoolThread;
            return [];
        });
        Task? prepare = null;
        var caller = new Thread(() => prepare = _service.PrepareContainerAsync(Manager.Lxc, "web", NoFacts)) { IsBackground = true };

        caller.Start();
        caller.Join();
        await prepare!;

        Assert.That(onPool, Is.True, "the shared root was made ready on a pool thread");
    }

    [Test]
    public async Task A_whole_lifecycle_registers_then_forgets_the_container_and_persists_each_step()
    {
        await _service.PrepareContainerAsync(Manager.Lxc, "web", NoFacts);
        Assert.That(_service.GetContainer(Manager.Lxc, "web").State, Is.EqualTo(ContainerState.Prepared));

        var m = await _service.RegisterContainerAsync(Manager.Lxc, "web", 4242, NoFacts);
        Assert.Multiple(() =>
        {
            Assert.That(m.State, Is.EqualTo(ContainerState.Running));
            Assert.That(m.CgroupPath, Is.EqualTo("/" + Payload));
            Assert.That(m.Paths.Keys, Is.EquivalentTo(new[] { "cpuset", "memory", "unified" }), "name=systemd at / is not in the shared root");
            Assert.That(m.Paths["cpuset"], Is.EqualTo("/sys/fs/cgroup/cpuset/" + Payload));
            Assert.That(m.CgroupNamespace, Is.EqualTo(CgroupNamespaceKind.Private));
            Assert.That(m.Since, Is.EqualTo(1_700_000_000_000_000UL));
            Assert.That(new StateStore(StatePath).Load().Single().State, Is.EqualTo(ContainerState.Running));
        });

        await _service.StopContainerAsync(Manager.Lxc, "web", NoFacts);
        Assert.That(_service.GetContainer(Manager.Lxc, "web").State, Is.EqualTo(ContainerState.Stopping));

        Assert.That(await _service.ReleaseContainerAsync(Manager.Lxc, "web", NoFacts), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(_service.ContainerCount, Is.Zero);
            Assert.That(new StateStore(StatePath).Load(), Is.Empty);
            Assert.That(_events, Is.EqualTo(new[] { "added web", "removed web" }));
        });
        _host.Received().RemoveIfEmpty(Payload);
    }

    [Test]
    public async Task Prepare_removes_empty_stale_dirs_of_this_container_only()
    {
        _host.ListChildren("machine").Returns(new HashSet<string> { "lxc.payload.web", "lxc.monitor.web", "lxc.payload.other" });

        await _service.PrepareContainerAsync(Manager.Lxc, "web", NoFacts);

        _host.Received().RemoveIfEmpty("machine/lxc.payload.web");
        _host.Received().RemoveIfEmpty("machine/lxc.monitor.web");
        _host.DidNotReceive().RemoveIfEmpty("machine/lxc.payload.other");
    }

    [Test]
    public async Task Prepare_refuses_when_a_stale_dir_holds_tasks_and_changes_nothing()
    {
        _host.ListChildren("machine").Returns(new HashSet<string> { "lxc.payload.web" });
        _host.HasTasks("machine/lxc.payload.web").Returns(true);

        var e = Assert.ThrowsAsync<ConflictException>(() => _service.PrepareContainerAsync(Manager.Lxc, "web", NoFacts))!;

        Assert.That(e.Message, Does.Contain("/machine/lxc.payload.web still holds tasks"));
        _host.DidNotReceive().RemoveIfEmpty(Arg.Any<string>());
        Assert.That(_service.ContainerCount, Is.Zero);
        await Task.CompletedTask;
    }

    [Test]
    public async Task Prepare_refuses_a_second_start_of_a_live_container()
    {
        await _service.PrepareContainerAsync(Manager.Lxc, "web", NoFacts);
        await _service.RegisterContainerAsync(Manager.Lxc, "web", 4242, NoFacts);

        var e = Assert.ThrowsAsync<ConflictException>(() => _service.PrepareContainerAsync(Manager.Lxc, "web", NoFacts))!;

        Assert.That(e.Message, Does.Contain("already running (leader 4242"));
        Assert.That(e.Container, Is.EqualTo("lxc/web"), "the container the conflict is about, as a field");
        Assert.That(_service.GetContainer(Manager.Lxc, "web").State, Is.EqualTo(ContainerState.Running));
    }

    [Test]
    public void Register_refuses_a_leader_outside_the_shared_root_under_strict_policy()
    {
        _host.IsAlive(777).Returns(true);
        _host.ReadProcCgroup(777).Returns(new Dictionary<string, string> { ["cpuset"] = "/elsewhere/x" });

        var e = Assert.ThrowsAsync<NotInSharedRootException>(() => _service.RegisterContainerAsync(Manager.Lxc, "web", 777, NoFacts))!;

        Assert.Multiple(() =>
        {
            Assert.That(e.Message, Does.Contain("/elsewhere/x, outside the shared root /machine"));
            Assert.That(e.ErrorName, Is.EqualTo("org.interop.Interop1.Error.NotInSharedRoot"));
            Assert.That(e.Container, Is.EqualTo("lxc/web"));
            Assert.That(_service.ContainerCount, Is.Zero);
        });
    }

    [TestCase(0u)]
    [TestCase(1u)]
    [TestCase(999999u)]
    public void Register_refuses_pids_that_cannot_be_a_leader(uint pid)
    {
        Assert.ThrowsAsync<InvalidInputException>(() => _service.RegisterContainerAsync(Manager.Lxc, "web", pid, NoFacts));
        Assert.That(_service.ContainerCount, Is.Zero);
    }

    [TestCase("../etc")]
    [TestCase("a/b")]
    [TestCase("x\0")]
    [TestCase("")]
    public void Hostile_names_are_refused_before_anything_is_touched(string name)
    {
        Assert.ThrowsAsync<InvalidInputException>(() => _service.PrepareContainerAsync(Manager.Lxc, name, NoFacts));
        Assert.ThrowsAsync<InvalidInputException>(() => _service.ReleaseContainerAsync(Manager.Lxc, name, NoFacts));
        _host.DidNotReceive().EnsureReady(Arg.Any<string>());
        _host.DidNotReceive().RemoveIfEmpty(Arg.Any<string>());
    }

    [Test]
    public async Task Lookups_by_pid_and_by_cgroup_find_the_container_from_any_depth()
    {
        await _service.RegisterContainerAsync(Manager.Lxc, "web", 4242, NoFacts);
        _host.ReadProcCgroup(5000).Returns(new Dictionary<string, string> { ["cpuset"] = "/" + Payload + "/sub/deeper", ["name=systemd"] = "/" });

        Assert.Multiple(() =>
        {
            Assert.That(_service.GetContainerByPid(4242).Name, Is.EqualTo("web"));
            Assert.That(_service.GetContainerByPid(5000).Name, Is.EqualTo("web"));
            Assert.That(_service.GetContainerByCgroup("/" + Payload + "/x").Name, Is.EqualTo("web"));
            Assert.Throws<NoSuchContainerException>(() => _service.GetContainerByCgroup("/machine"));
            Assert.Throws<NoSuchContainerException>(() => _service.GetContainerByPid(6000));
            Assert.Throws<InvalidInputException>(() => _service.GetContainerByCgroup("/machine/../etc"));
        });
    }

    [Test]
    public async Task Values_are_read_and_written_in_the_hierarchy_of_their_controller()
    {
        await _service.RegisterContainerAsync(Manager.Lxc, "web", 4242, NoFacts);
        _host.ReadValue("memory", Payload, "memory.limit_in_bytes").Returns("67108864\n");

        await _service.SetValueAsync(Manager.Lxc, "web", "memory.limit_in_bytes", "67108864");

        _host.Received().WriteValue("memory", Payload, "memory.limit_in_bytes", "67108864");
        Assert.That(_service.GetValue(Manager.Lxc, "web", "memory.limit_in_bytes"), Is.EqualTo("67108864"));
        Assert.ThrowsAsync<InvalidInputException>(() => _service.SetValueAsync(Manager.Lxc, "web", "cgroup.procs", "1"));
        Assert.ThrowsAsync<InvalidInputException>(() => _service.SetValueAsync(Manager.Lxc, "web", "memory.limit_in_bytes", "1\n2"));
        Assert.Throws<NoSuchContainerException>(() => _service.GetValue(Manager.Lxc, "nope", "memory.limit_in_bytes"));
    }

    [Test]
    public async Task Prune_leaves_registered_cgroups_and_their_ancestors_alone()
    {
        await _service.RegisterContainerAsync(Manager.Lxc, "web", 4242, NoFacts);
        Func<string, bool>? owned = null;
        _host.Prune("machine", true, Arg.Do<Func<string, bool>>(f => owned = f)).Returns(["cpuset: machine/x"]);

        var removed = await _service.PruneAsync(dryRun: true);

        Assert.That(removed, Is.EqualTo(new[] { "cpuset: machine/x" }));
        Assert.That(owned, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(owned!(Payload), Is.True);
            Assert.That(owned("machine/lxc.payload.other"), Is.False);
            Assert.That(owned("machine/lxc.pivot"), Is.True, "LXC still runs a container");
            Assert.That(owned(Payload + "/init.scope"), Is.True, "below a container");
            Assert.That(owned("machine"), Is.True, "above a container");
            Assert.That(owned("machine/lxc.payload.webx"), Is.False, "a sibling that only shares a prefix");
        });

        await _service.PrepareContainerAsync(Manager.Lxc, "next", NoFacts);
        await _service.PruneAsync(dryRun: true);
        Assert.That(owned!("machine/lxc.payload.next"), Is.True, "a prepared container's manager is about to fill it");
    }

    [Test]
    public async Task Reconcile_keeps_live_mappings_drops_dead_ones_and_keeps_a_corrupt_file_aside()
    {
        var live = StateStoreTests.Sample("web") with { Leader = 4242, CgroupPath = "/" + Payload };
        var dead = StateStoreTests.Sample("gone") with { Leader = 31337 };
        new StateStore(StatePath).Save([live, dead]);

        var report = await _service.ReconcileAsync();

        Assert.Multiple(() =>
        {
            Assert.That(report.Kept.Select(m => m.Name), Is.EqualTo(new[] { "web" }));
            Assert.That(report.Dropped.Select(m => m.Name), Is.EqualTo(new[] { "gone" }));
            Assert.That(_service.ListContainers().Select(m => m.Name), Is.EqualTo(new[] { "web" }));
            Assert.That(new StateStore(StatePath).Load().Select(m => m.Name), Is.EqualTo(new[] { "web" }));
        });

        File.WriteAllText(StatePath, "version: [");
        var again = await _service.ReconcileAsync();
        Assert.That(again.CorruptStateKeptAt, Does.StartWith(StatePath + ".corrupt-"));
        Assert.That(File.Exists(again.CorruptStateKeptAt!), Is.True);
    }

    [Test]
    public async Task Reconcile_adopts_a_populated_payload_it_has_no_mapping_for()
    {
        _host.ListChildren("machine").Returns(new HashSet<string> { "lxc.payload.web", "lxc.pivot" });
        _host.HasTasks(Payload).Returns(true);
        _host.Tasks("cpuset", Payload).Returns([4242u, 4300u]);
        _host.ParentOf(4242).Returns(4100);
        _host.ParentOf(4300).Returns(4242);

        var report = await _service.ReconcileAsync();

        var m = report.Adopted.Single();
        Assert.Multiple(() =>
        {
            Assert.That(m.Name, Is.EqualTo("web"));
            Assert.That(m.Leader, Is.EqualTo(4242));
            Assert.That(m.Source, Is.EqualTo(MappingSource.Adopted));
            Assert.That(_service.GetContainerByPid(4242).Name, Is.EqualTo("web"));
        });
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task Reconcile_keeps_and_adopts_a_container_whose_init_moved_into_a_child_of_its_cgroup(bool withState)
    {
        var inner = "/" + Payload + "/init.scope";
        _host.ReadProcCgroup(4242).Returns(new Dictionary<string, string> { ["cpuset"] = inner, ["memory"] = "/" + Payload, ["unified"] = inner });
        _host.ListChildren("machine").Returns(new HashSet<string> { "lxc.payload.web" });
        _host.HasTasks(Payload).Returns(true);
        _host.Tasks("cpuset", Payload).Returns([4242u]);
        _host.ParentOf(4242).Returns(4100);
        if (withState)
        {
            new StateStore(StatePath).Save([StateStoreTests.Sample("web") with { Leader = 4242, CgroupPath = "/" + Payload }]);
        }

        var report = await _service.ReconcileAsync();

        var m = _service.ListContainers().Single();
        Assert.Multiple(() =>
        {
            Assert.That((withState ? report.Kept : report.Adopted).Select(k => k.Name), Is.EqualTo(new[] { "web" }));
            Assert.That(m.CgroupPath, Is.EqualTo("/" + Payload));
            if (!withState)
            {
                Assert.That(m.Paths["cpuset"], Is.EqualTo("/sys/fs/cgroup/cpuset/" + Payload), "every hierarchy's path is the container's dir");
                Assert.That(m.Paths["unified"], Is.EqualTo("/sys/fs/cgroup/unified/" + Payload));
            }
        });
    }

    [Test]
    public async Task Concurrent_lifecycles_of_many_containers_all_land()
    {
        for (var i = 0; i < 40; i++)
        {
            var path = $"/machine/lxc.payload.c{i}";
            _host.IsAlive(10_000 + i).Returns(true);
            _host.ReadProcCgroup(10_000 + i).Returns(new Dictionary<string, string> { ["cpuset"] = path });
        }

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            await _service.PrepareContainerAsync(Manager.Lxc, $"c{i}", NoFacts);
            await _service.RegisterContainerAsync(Manager.Lxc, $"c{i}", (uint)(10_000 + i), NoFacts);
            if (i % 2 == 0)
            {
                await _service.ReleaseContainerAsync(Manager.Lxc, $"c{i}", NoFacts);
            }
        })));

        Assert.Multiple(() =>
        {
            Assert.That(_service.ContainerCount, Is.EqualTo(20u));
            Assert.That(new StateStore(StatePath).Load(), Has.Count.EqualTo(20));
            Assert.That(_events.Count(e => e.StartsWith("added", StringComparison.Ordinal)), Is.EqualTo(40));
        });
    }

    /// <summary>Enough of LXC's layout for the logic: payload/monitor dirs in the shared root, the shared pivot.</summary>
    private sealed class FakeLxcLayout : IContainerLayout
    {
        public Manager Manager => Manager.Lxc;

        public string ParentDir(string sharedRoot, IReadOnlyDictionary<string, string> facts) => sharedRoot;

        public bool IsStaleDirOf(string childName, string containerName) =>
            childName == "lxc.payload." + containerName || childName == "lxc.monitor." + containerName;

        public LayoutMatch? Classify(string childName) => childName switch
        {
            "lxc.pivot" => new LayoutMatch(Manager.Lxc, DirRole.Pivot, ""),
            _ when childName.StartsWith("lxc.payload.", StringComparison.Ordinal) => new LayoutMatch(Manager.Lxc, DirRole.Payload, childName["lxc.payload.".Length..]),
            _ when childName.StartsWith("lxc.monitor.", StringComparison.Ordinal) => new LayoutMatch(Manager.Lxc, DirRole.Monitor, childName["lxc.monitor.".Length..]),
            _ => null,
        };

        // Whose a stale-looking dir is, who a payload's leader is and what it is called: the real layout's answers.
        public bool MayBelongToAnother(LayoutMatch match, string containerName, OtherContainers others) => Real.MayBelongToAnother(match, containerName, others);

        public bool IsExactDirOf(LayoutMatch match, string containerName) => Real.IsExactDirOf(match, containerName);

        public LayoutMatch? ClassifyUnit(string unitName) => Real.ClassifyUnit(unitName);

        public int LeaderOf(LayoutMatch match, string dir, IHostProbe host) => Real.LeaderOf(match, dir, host);

        public string NameOf(LayoutMatch match, int leader, IHostProbe host) => Real.NameOf(match, leader, host);

        private static Interop.Core.Adapters.Lxc.LxcLayout Real { get; } = new();
    }
}
