using System.Text.Json;
using Interop.Core;
using Interop.Core.Model;
using Interop.DBus;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace Interop.Ctl.Tests;

/// <summary>list, show, whois, tree, setup, prune, get, set: table and --json output, exit codes.</summary>
public class AdminCommandTests
{
    // 2024-05-01 12:00:00 UTC in microseconds.
    private const ulong Since = 1714564800UL * 1_000_000;

    private static readonly Mapping Web = new(
        Manager.Lxc,
        "web",
        string.Empty,
        ContainerState.Running,
        4242,
        "/machine/lxc.payload.web",
        new Dictionary<string, string> { ["cpuset"] = "/sys/fs/cgroup/cpuset/machine/lxc.payload.web", ["unified"] = "/sys/fs/cgroup/unified/machine/lxc.payload.web" },
        Since,
        CgroupNamespaceKind.Private,
        MappingSource.Hook);

    private static readonly Mapping Db = new(
        Manager.Libvirt,
        "db",
        "c5833ee2-cac8-401e-bcf6-862a1cf9ef5e",
        ContainerState.Running,
        16923,
        "/machine/web.partition/lxc-16923-db.libvirt-lxc",
        new Dictionary<string, string>(),
        Since,
        CgroupNamespaceKind.Host,
        MappingSource.Adopted);

    private static readonly Mapping Alpha = Web with { Name = "alpha", State = ContainerState.Prepared, Leader = 0, CgroupPath = string.Empty };

    private static readonly Mapping WebVirt = Db with { Name = "web" };

    [Test]
    public async Task List_prints_a_table_sorted_by_manager_then_name()
    {
        var h = new CliHarness();
        h.Containers(Db, Web, Alpha);
        var r = await h.RunAsync("list");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(4));
        Assert.That(lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "MANAGER", "NAME", "STATE", "LEADER", "CGROUP" }));
        Assert.That(lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "libvirt", "db", "running", "16923", "/machine/web.partition/lxc-16923-db.libvirt-lxc" }));
        Assert.That(lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "lxc", "alpha", "prepared", "-", "-" }));
        Assert.That(lines[3].Split(' ', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "lxc", "web", "running", "4242", "/machine/lxc.payload.web" }));
        Assert.That(lines[1].IndexOf("db", StringComparison.Ordinal), Is.EqualTo(lines[0].IndexOf("NAME", StringComparison.Ordinal)), "columns line up");
    }

    [Test]
    public async Task List_json_is_an_array_of_snake_case_objects()
    {
        var h = new CliHarness();
        h.Containers(Web, Db);
        var r = await h.RunAsync("list", "--json");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        var items = doc.RootElement.EnumerateArray().ToList();
        Assert.That(items, Has.Count.EqualTo(2));
        Assert.That(items[0].GetProperty("manager").GetString(), Is.EqualTo("libvirt"));
        Assert.That(items[1].GetProperty("name").GetString(), Is.EqualTo("web"));
        Assert.That(items[1].GetProperty("state").GetString(), Is.EqualTo("running"));
        Assert.That(items[1].GetProperty("leader").GetInt32(), Is.EqualTo(4242));
        Assert.That(items[1].GetProperty("cgroup_path").GetString(), Is.EqualTo("/machine/lxc.payload.web"));
    }

    [Test]
    public async Task On_a_systemd_host_list_show_and_json_name_each_containers_unit_and_machine()
    {
        var sdWeb = Web with { CgroupPath = "/machine.slice/lxc-web.scope/lxc.payload.web", Unit = "lxc-web.scope", Machine = "web" };
        var sdDb = Db with { CgroupPath = "/machine.slice/machine-lxc\\x2d16923\\x2ddb.scope/libvirt", Unit = "machine-lxc\\x2d16923\\x2ddb.scope", Machine = "lxc-16923-db" };
        var h = new CliHarness();
        h.Containers(sdWeb, sdDb);
        h.Service.GetContainerAsync(Manager.Lxc, "web", Arg.Any<CancellationToken>()).Returns(sdWeb);

        var table = await h.RunAsync("list");
        var show = await h.RunAsync("show", "web", "--manager", "lxc");

        var lines = table.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Multiple(() =>
        {
            Assert.That(lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "MANAGER", "NAME", "STATE", "LEADER", "CGROUP", "UNIT", "MACHINE" }));
            Assert.That(lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries)[^2..], Is.EqualTo(new[] { "lxc-web.scope", "web" }));
            Assert.That(show.Out, Does.Contain("Unit:             lxc-web.scope\n").And.Contain("Machine:          web\n"));
        });
        var jh = new CliHarness();
        jh.Containers(sdWeb);
        var jr = await jh.RunAsync("list", "--json");
        using var doc = JsonDocument.Parse(jr.Out);
        var item = doc.RootElement.EnumerateArray().Single();
        Assert.That((item.GetProperty("unit").GetString(), item.GetProperty("machine").GetString()), Is.EqualTo(("lxc-web.scope", "web")));
    }

    [Test]
    public async Task Without_systemd_list_json_has_no_unit_or_machine_field()
    {
        var h = new CliHarness();
        h.Containers(Web);
        var r = await h.RunAsync("list", "--json");

        using var doc = JsonDocument.Parse(r.Out);
        var item = doc.RootElement.EnumerateArray().Single();
        Assert.That(item.TryGetProperty("unit", out _) || item.TryGetProperty("machine", out _), Is.False);
    }

    [Test]
    public async Task List_with_an_empty_registry_prints_only_the_header()
    {
        var h = new CliHarness();
        h.Containers();
        var r = await h.RunAsync("list");

        Assert.That(r.Code, Is.EqualTo(0));
        Assert.That(r.Out.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "MANAGER", "NAME", "STATE", "LEADER", "CGROUP" }));
    }

    [Test]
    public async Task Show_prints_every_property_with_since_in_utc()
    {
        var h = new CliHarness();
        h.Containers(Web, Db);
        h.Service.GetContainerAsync(Manager.Lxc, "web", Arg.Any<CancellationToken>()).Returns(Web);
        var r = await h.RunAsync("show", "web");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("Manager:          lxc"));
        Assert.That(r.Out, Does.Contain("State:            running"));
        Assert.That(r.Out, Does.Contain("Leader:           4242"));
        Assert.That(r.Out, Does.Contain("CgroupPath:       /machine/lxc.payload.web"));
        Assert.That(r.Out, Does.Contain("Since:            2024-05-01 12:00:00 UTC"));
        Assert.That(r.Out, Does.Contain("CgroupNamespace:  private"));
        Assert.That(r.Out, Does.Contain("Source:           hook"));
        Assert.That(r.Out, Does.Contain("  cpuset: /sys/fs/cgroup/cpuset/machine/lxc.payload.web"));
        Assert.That(r.Out, Does.Contain("  unified: /sys/fs/cgroup/unified/machine/lxc.payload.web"));
    }

    [Test]
    public async Task Show_json_has_every_property()
    {
        var h = new CliHarness();
        h.Service.GetContainerAsync(Manager.Libvirt, "db", Arg.Any<CancellationToken>()).Returns(Db);
        var r = await h.RunAsync("show", "db", "--manager", "libvirt", "--json");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        await h.Service.DidNotReceiveWithAnyArgs().ListContainersAsync(default);
        using var doc = JsonDocument.Parse(r.Out);
        var o = doc.RootElement;
        Assert.That(o.GetProperty("manager").GetString(), Is.EqualTo("libvirt"));
        Assert.That(o.GetProperty("uuid").GetString(), Is.EqualTo("c5833ee2-cac8-401e-bcf6-862a1cf9ef5e"));
        Assert.That(o.GetProperty("leader").GetInt32(), Is.EqualTo(16923));
        Assert.That(o.GetProperty("since_us").GetUInt64(), Is.EqualTo(Since));
        Assert.That(o.GetProperty("since").GetString(), Is.EqualTo("2024-05-01T12:00:00.000000Z"));
        Assert.That(o.GetProperty("cgroup_namespace").GetString(), Is.EqualTo("host"));
        Assert.That(o.GetProperty("source").GetString(), Is.EqualTo("adopted"));
        Assert.That(o.GetProperty("paths").EnumerateObject().Count(), Is.EqualTo(0));
    }

    [Test]
    public async Task Show_a_name_under_both_managers_asks_for_manager()
    {
        var h = new CliHarness();
        h.Containers(Web, WebVirt);
        var r = await h.RunAsync("show", "web");

        Assert.That(r.Code, Is.EqualTo(2), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.Contain("--manager"));
        await h.Service.DidNotReceiveWithAnyArgs().GetContainerAsync(default, default!, default);
    }

    [Test]
    public async Task Show_an_unknown_name_exits_4()
    {
        var h = new CliHarness();
        h.Containers(Web);
        var r = await h.RunAsync("show", "nope");

        Assert.That(r.Code, Is.EqualTo(4), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.StartWith("interopctl: no such container: nope"));
    }

    [TestCase("show", "a/b")]
    [TestCase("show", "..")]
    [TestCase("whois", "1")]
    [TestCase("whois", "0")]
    [TestCase("whois", "12abc")]
    [TestCase("get", "web", "tasks")]
    [TestCase("get", "web", "release_agent")]
    [TestCase("set", "web", "cgroup.procs", "1")]
    [TestCase("set", "web", "cpu.shares", "1\n2")]
    public async Task Bad_input_exits_2_with_one_line_and_no_service(params string[] args)
    {
        var h = new CliHarness();
        var r = await h.RunAsync(args);

        Assert.That(r.Code, Is.EqualTo(2), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.StartWith("interopctl: invalid "));
        Assert.That(h.Connections, Is.Empty);
    }

    [TestCase]
    [TestCase("frobnicate")]
    [TestCase("show")]
    [TestCase("list", "--no-such-option")]
    [TestCase("show", "web", "--manager", "docker")]
    public async Task Command_line_errors_exit_2_with_one_line(params string[] args)
    {
        var h = new CliHarness();
        var r = await h.RunAsync(args);

        Assert.That(r.Code, Is.EqualTo(2), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.StartWith("interopctl: ").And.EndWith("(see 'interopctl --help')"));
        Assert.That(h.Connections, Is.Empty);
    }

    [Test]
    public async Task Whois_asks_by_pid_and_prints_the_mapping()
    {
        var h = new CliHarness();
        h.Service.GetContainerByPidAsync(31337u, Arg.Any<CancellationToken>()).Returns(Db);
        var r = await h.RunAsync("whois", "31337", "--json");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        Assert.That(doc.RootElement.GetProperty("name").GetString(), Is.EqualTo("db"));
        Assert.That(doc.RootElement.GetProperty("manager").GetString(), Is.EqualTo("libvirt"));
    }

    [Test]
    public async Task Whois_of_a_pid_no_container_owns_exits_4()
    {
        var h = new CliHarness();
        h.Service.GetContainerByPidAsync(31337u, Arg.Any<CancellationToken>()).ThrowsAsync(new NoSuchContainerException("pid 31337"));
        var r = await h.RunAsync("whois", "31337");

        Assert.That(r.Code, Is.EqualTo(4), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.Error, Does.Contain("pid 31337"));
    }

    [Test]
    public async Task Unreachable_daemon_exits_3_with_one_line()
    {
        var h = new CliHarness { ConnectFailure = new DaemonUnreachableException("system", "no socket") };
        var r = await h.RunAsync("list");

        Assert.That(r.Code, Is.EqualTo(3), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.Contain("systemctl start interopd"));
    }

    [Test]
    public async Task Access_denied_exits_1_and_says_what_to_do()
    {
        var h = new CliHarness();
        h.Service.SetupAsync(default).ThrowsAsyncForAnyArgs(new AccessDeniedException("uid 1000 may not call Setup"));
        var r = await h.RunAsync("setup");

        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.Contain("run it as root"));
    }

    [Test]
    public async Task Unexpected_exceptions_are_one_line_without_a_stack_trace()
    {
        var h = new CliHarness();
        h.Service.ListContainersAsync(default).ThrowsAsyncForAnyArgs(new InvalidOperationException("kaboom\nsecond line"));
        var r = await h.RunAsync("list");

        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.Contain("kaboom second line").And.Not.Contain(" at "));
    }

    [Test]
    public async Task Tree_shows_partitions_and_containers_under_the_shared_root()
    {
        var h = new CliHarness();
        h.Properties = h.Properties with { SharedRoot = "/machine" };
        var outside = Web with { Name = "rogue", CgroupPath = "/lxc.payload.rogue" };
        h.Containers(Db, Web, Alpha, outside);
        var r = await h.RunAsync("tree");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Does.StartWith("/machine"));
        Assert.That(lines[1], Is.EqualTo("├── lxc.payload.web  [lxc web, running, pid 4242]"));
        Assert.That(lines[2], Is.EqualTo("└── web.partition/"));
        Assert.That(lines[3], Is.EqualTo("    └── lxc-16923-db.libvirt-lxc  [libvirt db, running, pid 16923]"));
        Assert.That(r.Out, Does.Contain("not started").And.Contain("lxc alpha, prepared"));
        Assert.That(r.Out, Does.Contain("outside the shared root:").And.Contain("lxc rogue").And.Contain("/lxc.payload.rogue"));
    }

    [Test]
    public async Task Tree_json_nests_partitions()
    {
        var h = new CliHarness();
        h.Properties = h.Properties with { SharedRoot = "/machine" };
        h.Containers(Db, Web);
        var r = await h.RunAsync("tree", "--json");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        var root = doc.RootElement;
        Assert.That(root.GetProperty("shared_root").GetString(), Is.EqualTo("/machine"));
        var children = root.GetProperty("children").EnumerateArray().ToList();
        Assert.That(children.Select(c => c.GetProperty("name").GetString()), Is.EqualTo(new[] { "lxc.payload.web", "web.partition" }));
        Assert.That(children[0].GetProperty("kind").GetString(), Is.EqualTo("container"));
        Assert.That(children[0].GetProperty("manager").GetString(), Is.EqualTo("lxc"));
        Assert.That(children[1].GetProperty("kind").GetString(), Is.EqualTo("partition"));
        var leaf = children[1].GetProperty("children")[0];
        Assert.That(leaf.GetProperty("path").GetString(), Is.EqualTo("/machine/web.partition/lxc-16923-db.libvirt-lxc"));
        Assert.That(leaf.GetProperty("container").GetString(), Is.EqualTo("db"));
        Assert.That(leaf.GetProperty("leader").GetInt32(), Is.EqualTo(16923));
    }

    [Test]
    public async Task Setup_prints_actions_or_nothing_to_do()
    {
        var h = new CliHarness();
        IReadOnlyList<string> actions = ["cpuset: created /machine", "cpuset: clone_children=1 on /machine"];
        IReadOnlyList<string> none = [];
        h.Service.SetupAsync(default).ReturnsForAnyArgs(Task.FromResult(actions), Task.FromResult(none));

        var first = await h.RunAsync("setup");
        var second = await h.RunAsync("setup");

        Assert.That(first.Code, Is.EqualTo(0));
        Assert.That(first.Out, Is.EqualTo("cpuset: created /machine\ncpuset: clone_children=1 on /machine\n"));
        Assert.That(second.Out, Is.EqualTo("nothing to do\n"));
    }

    [Test]
    public async Task Setup_json_lists_the_actions()
    {
        var h = new CliHarness();
        h.Service.SetupAsync(default).ReturnsForAnyArgs(["cpuset: created /machine"]);
        var r = await h.RunAsync("--json", "setup");

        using var doc = JsonDocument.Parse(r.Out);
        Assert.That(doc.RootElement.GetProperty("actions").EnumerateArray().Select(a => a.GetString()), Is.EqualTo(new[] { "cpuset: created /machine" }));
    }

    [TestCase(true, "would remove /machine/lxc.payload.old")]
    [TestCase(false, "removed /machine/lxc.payload.old")]
    public async Task Prune_passes_dry_run_and_prints_the_dirs(bool dryRun, string expected)
    {
        var h = new CliHarness();
        h.Service.PruneAsync(dryRun, Arg.Any<CancellationToken>()).Returns(["/machine/lxc.payload.old"]);
        var r = await h.RunAsync(dryRun ? ["prune", "--dry-run"] : ["prune"]);

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Is.EqualTo(expected + "\n"));
        await h.Service.Received(1).PruneAsync(dryRun, Arg.Any<CancellationToken>());
    }

    [Test]
    public async Task Prune_json_and_nothing_to_prune()
    {
        var h = new CliHarness();
        h.Service.PruneAsync(true, Arg.Any<CancellationToken>()).Returns(["/machine/a"]);
        h.Service.PruneAsync(false, Arg.Any<CancellationToken>()).Returns([]);

        var json = await h.RunAsync("prune", "--dry-run", "--json");
        var text = await h.RunAsync("prune");

        using var doc = JsonDocument.Parse(json.Out);
        Assert.That(doc.RootElement.GetProperty("dry_run").GetBoolean(), Is.True);
        Assert.That(doc.RootElement.GetProperty("dirs")[0].GetString(), Is.EqualTo("/machine/a"));
        Assert.That(text.Out, Is.EqualTo("nothing to prune\n"));
    }

    [Test]
    public async Task Get_prints_the_value_and_json()
    {
        var h = new CliHarness();
        h.Containers(Web, Db);
        h.Service.GetValueAsync(Manager.Lxc, "web", "memory.limit_in_bytes", Arg.Any<CancellationToken>()).Returns("536870912\n");

        var text = await h.RunAsync("get", "web", "memory.limit_in_bytes");
        var json = await h.RunAsync("get", "web", "memory.limit_in_bytes", "--manager", "lxc", "--json");

        Assert.That(text.Code, Is.EqualTo(0), text.ToString());
        Assert.That(text.Out, Is.EqualTo("536870912\n"));
        using var doc = JsonDocument.Parse(json.Out);
        Assert.That(doc.RootElement.GetProperty("manager").GetString(), Is.EqualTo("lxc"));
        Assert.That(doc.RootElement.GetProperty("key").GetString(), Is.EqualTo("memory.limit_in_bytes"));
        Assert.That(doc.RootElement.GetProperty("value").GetString(), Is.EqualTo("536870912"));
    }

    [Test]
    public async Task Set_writes_through_the_service()
    {
        var h = new CliHarness();
        var r = await h.RunAsync("set", "db", "cpu.shares", "512", "--manager", "libvirt");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Is.Empty);
        await h.Service.Received(1).SetValueAsync(Manager.Libvirt, "db", "cpu.shares", "512", Arg.Any<CancellationToken>());
    }

    [Test]
    public async Task Set_on_a_name_under_both_managers_changes_nothing()
    {
        var h = new CliHarness();
        h.Containers(Web, WebVirt);
        var r = await h.RunAsync("set", "web", "cpu.shares", "512");

        Assert.That(r.Code, Is.EqualTo(2), r.ToString());
        await h.Service.DidNotReceiveWithAnyArgs().SetValueAsync(default, default!, default!, default!, default);
    }

    [Test]
    public async Task Bus_option_wins_over_environment_and_config()
    {
        var h = new CliHarness();
        h.Variables["INTEROP_BUS_ADDRESS"] = "unix:path=/env";
        h.Files["/etc/interop/interop.yaml"] = "bus: unix:path=/conf\n";
        h.Containers();

        await h.RunAsync("list", "--bus", "unix:path=/opt");
        await h.RunAsync("list");
        h.Variables.Remove("INTEROP_BUS_ADDRESS");
        await h.RunAsync("list");

        Assert.That(h.Connections, Is.EqualTo(new[] { "unix:path=/opt", "unix:path=/env", "unix:path=/conf" }));
    }

    [Test]
    public async Task A_broken_config_is_one_line_naming_file_line_and_column()
    {
        var h = new CliHarness();
        h.Files["/etc/interop/interop.yaml"] = "shared_root: machine\n";
        var r = await h.RunAsync("list");

        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.ErrorLines[0], Does.StartWith("interopctl: /etc/interop/interop.yaml:1:"));
        Assert.That(h.Connections, Is.Empty);
    }
}
