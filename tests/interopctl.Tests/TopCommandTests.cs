using System.Text.Json;
using Interop.Core.Model;
using Interop.DBus;
using Interop.Ctl.Output;
using Interop.Linux.Cgroups;
using NSubstitute;

namespace Interop.Ctl.Tests;

/// <summary>top: CPU % from two samples, sort orders, the table, batch frames, --json; metrics; show's usage.</summary>
public class TopCommandTests
{
    private static Mapping Container(Manager manager, string name, string cgroup) =>
        new(manager, name, "", ContainerState.Running, 4242, cgroup, new Dictionary<string, string>(), 0, CgroupNamespaceKind.Host, MappingSource.Hook);

    private static ContainerSummary Row(Mapping m) =>
        new(m.Manager, m.Name, m.State, (uint)m.Leader, m.CgroupPath, ObjectPaths.ForContainer(m.Manager, m.Name));

    private static TopRow Row(string manager, string name, double? cpu, ulong? memory, ulong? pids = null, ulong? read = null, ulong? write = null, string state = "running") =>
        new(manager, name, state, "/machine/" + name, cpu, new ContainerUsage(null, memory, null, pids, read, write));

    [Test]
    public void Cpu_percent_is_the_cpu_time_over_the_interval_with_one_cpu_as_100()
    {
        var web = Container(Manager.Lxc, "web", "/machine/lxc.payload.web");
        var db = Container(Manager.Libvirt, "db", "/machine/lxc-1-db.libvirt-lxc");
        var fresh = Container(Manager.Lxc, "fresh", "/machine/lxc.payload.fresh");
        var restarted = Container(Manager.Libvirt, "re", "/machine/lxc-9-re.libvirt-lxc");
        var before = new Dictionary<ContainerId, (string, ContainerUsage)>
        {
            [web.Id] = (web.CgroupPath, new ContainerUsage(10, null, null, null, null, null)),
            [db.Id] = (db.CgroupPath, new ContainerUsage(3, null, null, null, null, null)),
            [restarted.Id] = ("/machine/lxc-8-re.libvirt-lxc", new ContainerUsage(1, null, null, null, null, null)),
        };
        (ContainerSummary, ContainerUsage)[] now =
        [
            (Row(web), new ContainerUsage(13, null, null, null, null, null)),
            (Row(db), new ContainerUsage(3.5, null, null, null, null, null)),
            (Row(fresh), new ContainerUsage(1, null, null, null, null, null)),
            (Row(restarted), new ContainerUsage(2, null, null, null, null, null)),
        ];

        var rows = TopView.Rows(now, before, 2.0).ToDictionary(r => r.Name, r => r.CpuPercent);

        Assert.That(rows["web"], Is.EqualTo(150.0));
        Assert.That(rows["db"], Is.EqualTo(25.0));
        Assert.That(rows["fresh"], Is.Null, "not in the first sample");
        Assert.That(rows["re"], Is.Null, "a new cgroup: the two figures are of different cgroups");
    }

    [Test]
    public void Numeric_columns_sort_largest_first_with_unknown_last_and_ties_by_manager_then_name()
    {
        TopRow[] rows = [Row("lxc", "b", 5, 100), Row("lxc", "a", null, 300), Row("libvirt", "z", 5, null), Row("lxc", "c", 90, 200)];

        Assert.That(TopView.Sort(rows, TopSort.Cpu).Select(r => r.Name), Is.EqualTo(new[] { "c", "z", "b", "a" }));
        Assert.That(TopView.Sort(rows, TopSort.Memory).Select(r => r.Name), Is.EqualTo(new[] { "a", "c", "b", "z" }));
        Assert.That(TopView.Sort(rows, TopSort.Name).Select(r => r.Name), Is.EqualTo(new[] { "a", "b", "c", "z" }));
        Assert.That(TopView.Sort(rows, TopSort.Manager).Select(r => r.Name), Is.EqualTo(new[] { "z", "a", "b", "c" }));
    }

    [Test]
    public void Io_sorts_by_bytes_read_and_written_together()
    {
        TopRow[] rows = [Row("lxc", "a", null, null, read: 10, write: 10), Row("lxc", "b", null, null, read: 25), Row("lxc", "c", null, null)];

        Assert.That(TopView.Sort(rows, TopSort.Io).Select(r => r.Name), Is.EqualTo(new[] { "b", "a", "c" }));
    }

    [TestCase('c', TopSort.Memory, TopSort.Cpu)]
    [TestCase('P', TopSort.Memory, TopSort.Cpu)]
    [TestCase('M', TopSort.Cpu, TopSort.Memory)]
    [TestCase('p', TopSort.Cpu, TopSort.Pids)]
    [TestCase('i', TopSort.Cpu, TopSort.Io)]
    [TestCase('n', TopSort.Cpu, TopSort.Name)]
    [TestCase('<', TopSort.Cpu, TopSort.State)]
    [TestCase('>', TopSort.Cpu, TopSort.Memory)]
    [TestCase('>', TopSort.Io, TopSort.Io)]
    [TestCase('<', TopSort.Manager, TopSort.Manager)]
    public void Keys_change_the_sort_column(char key, object current, object expected)
    {
        Assert.That(TopView.ForKey(key, (TopSort)current), Is.EqualTo((TopSort)expected));
    }

    [TestCase(null, "-")]
    [TestCase(0UL, "0B")]
    [TestCase(1023UL, "1023B")]
    [TestCase(1536UL, "1.5K")]
    [TestCase(20UL * 1024 * 1024, "20.0M")]
    [TestCase(3435973837UL, "3.2G")]
    public void Bytes_are_shown_in_binary_units(ulong? bytes, string expected)
    {
        Assert.That(TopView.Bytes(bytes), Is.EqualTo(expected));
    }

    [Test]
    public void A_frame_is_a_summary_line_and_a_table_with_the_sort_column_marked()
    {
        var output = new StringWriter();
        TopRow[] rows = [Row("lxc", "web", 12.345, 1536, pids: 4, read: 0, write: 2048), Row("libvirt", "db", null, null)];

        TopView.Write(output, rows, TopSort.Memory, new DateTimeOffset(2026, 11, 30, 23, 5, 7, TimeSpan.Zero), 2);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("interopctl top - 23:05:07 UTC, 2 containers (lxc 1, libvirt 1), interval 2.0 s, sort memory"));
        Assert.That(lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "MANAGER", "NAME", "STATE", "CPU%", "MEM*", "LIMIT", "PIDS", "READ", "WRITE" }));
        Assert.That(lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "lxc", "web", "running", "12.3", "1.5K", "-", "4", "0B", "2.0K" }));
        Assert.That(lines[3].Split(' ', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "libvirt", "db", "running", "-", "-", "-", "-", "-", "-" }));
    }

    [Test]
    public async Task Batch_mode_prints_n_plain_frames_d_seconds_apart_reading_the_registry_dirs()
    {
        var h = new CliHarness();
        var web = Container(Manager.Lxc, "web", "/machine/lxc.payload.web");
        h.Containers(web);
        h.Properties = h.Properties with { Hierarchies = [new HierarchyInfo("cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct", "")] };
        var cpu = 0.0;
        var dirsRead = new List<string>();
        h.Usage = dirs =>
        {
            dirsRead.AddRange(dirs.Values);
            cpu += 1;
            return new ContainerUsage(cpu, 4096, null, 2, null, null);
        };

        var r = await h.RunAsync("top", "-n", "3", "-d", "4");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(h.Delays, Is.EqualTo(new[] { TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(4) }));
        Assert.That(r.Out, Does.Not.Contain("\u001b["), "no screen control when stdout is not a terminal");
        Assert.That(r.Out.Split('\n').Count(l => l.StartsWith("interopctl top - ", StringComparison.Ordinal)), Is.EqualTo(3));
        Assert.That(r.Out, Does.Contain("interval 0.5 s"));
        Assert.That(r.Out, Does.Contain("200.0"), "1 s of CPU in 0.5 s");
        Assert.That(r.Out, Does.Contain("25.0"), "1 s of CPU in 4 s");
        Assert.That(dirsRead, Does.Contain("/sys/fs/cgroup/cpu,cpuacct/machine/lxc.payload.web"));
    }

    [Test]
    public async Task On_a_terminal_top_redraws_the_screen_and_batch_turns_that_off()
    {
        var h = new CliHarness { Interactive = true };
        h.Containers(Container(Manager.Lxc, "web", "/machine/lxc.payload.web"));

        var screen = await h.RunAsync("top", "-n", "1");
        var batch = await h.RunAsync("top", "-n", "1", "--batch");

        Assert.Multiple(() =>
        {
            Assert.That(screen.Code, Is.EqualTo(0), screen.ToString());
            Assert.That(screen.Out, Does.StartWith("\u001b[H\u001b[2J"), "the screen is cleared before each frame");
            Assert.That(batch.Out, Does.Not.Contain("\u001b["));
        });
    }

    [Test]
    public async Task Json_prints_one_snapshot_with_stable_fields_in_base_units()
    {
        var h = new CliHarness();
        h.Containers(Container(Manager.Lxc, "web", "/machine/lxc.payload.web"), Container(Manager.Libvirt, "db", "/machine/x.libvirt-lxc"));
        h.Properties = h.Properties with { Hierarchies = [] };
        var calls = 0;
        h.Usage = _ => ++calls <= 2 ? new ContainerUsage(1, null, null, null, null, null) : new ContainerUsage(2, 1048576, 67108864, 5, 10, 20);

        var r = await h.RunAsync("top", "--json", "-d", "1");

        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        Assert.That(doc.RootElement.GetProperty("interval_seconds").GetDouble(), Is.EqualTo(1.0));
        var first = doc.RootElement.GetProperty("containers")[0];
        Assert.That(first.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[]
        {
            "manager", "name", "state", "cgroup_path", "cpu_percent", "cpu_seconds", "memory_bytes", "memory_limit_bytes", "pids", "io_read_bytes", "io_write_bytes",
        }));
        Assert.That(first.GetProperty("cpu_percent").GetDouble(), Is.EqualTo(100.0));
        Assert.That(first.GetProperty("cpu_seconds").GetDouble(), Is.EqualTo(2.0));
        Assert.That(first.GetProperty("memory_bytes").GetUInt64(), Is.EqualTo(1048576));
        Assert.That(first.GetProperty("memory_limit_bytes").GetUInt64(), Is.EqualTo(67108864));
        Assert.That(doc.RootElement.GetProperty("containers").GetArrayLength(), Is.EqualTo(2));
    }

    [Test]
    public async Task Json_has_null_where_no_hierarchy_has_the_figure()
    {
        var h = new CliHarness();
        h.Containers(Container(Manager.Lxc, "web", "/machine/lxc.payload.web"));
        h.Properties = h.Properties with { Hierarchies = [] };

        var r = await h.RunAsync("top", "--json");

        using var doc = JsonDocument.Parse(r.Out);
        var web = doc.RootElement.GetProperty("containers")[0];
        Assert.That(web.GetProperty("memory_bytes").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(web.GetProperty("cpu_percent").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    [TestCase("-n", "-1", "the number of frames must be 0")]
    [TestCase("-d", "0", "the delay must be from 0.1 to 3600 seconds")]
    [TestCase("--sort", "colour", "colour")]
    public async Task Bad_options_are_a_usage_error_before_connecting(string option, string value, string fragment)
    {
        var h = new CliHarness();

        var r = await h.RunAsync("top", option, value);

        Assert.That(r.Code, Is.EqualTo(2), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.Error, Does.Contain(fragment));
        Assert.That(h.Connections, Is.Empty);
    }

    [Test]
    public async Task Show_includes_usage_and_limits_in_the_table_and_json()
    {
        var h = new CliHarness();
        var web = Container(Manager.Lxc, "web", "/machine/lxc.payload.web");
        h.Containers(web);
        h.Service.GetContainerAsync(Manager.Lxc, "web", Arg.Any<CancellationToken>()).Returns(web);
        h.Properties = h.Properties with { Hierarchies = [] };
        h.Usage = _ => new ContainerUsage(1.5, 1048576, null, 3, null, null);

        var table = await h.RunAsync("show", "web");
        var json = await h.RunAsync("show", "web", "--json");

        Assert.That(table.Out, Does.Contain("CpuTime:          1.500 s"));
        Assert.That(table.Out, Does.Contain("Memory:           1048576 (1.0M)"));
        Assert.That(table.Out, Does.Contain("MemoryLimit:      none"));
        Assert.That(table.Out, Does.Contain("Pids:             3"));
        Assert.That(table.Out, Does.Contain("IoRead:           -"));
        using var doc = JsonDocument.Parse(json.Out);
        var usage = doc.RootElement.GetProperty("usage");
        Assert.That(usage.GetProperty("cpu_seconds").GetDouble(), Is.EqualTo(1.5));
        Assert.That(usage.GetProperty("memory_bytes").GetUInt64(), Is.EqualTo(1048576));
        Assert.That(usage.GetProperty("memory_limit_bytes").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    [Test]
    public async Task Metrics_prints_interopds_exposition_or_writes_the_textfile_by_rename()
    {
        var h = new CliHarness();
        const string Text = "# HELP interop_containers x\n# TYPE interop_containers gauge\ninterop_containers{manager=\"lxc\",state=\"running\"} 1\n";
        h.Service.GetMetricsAsync(default).ReturnsForAnyArgs(Text);
        var dir = Directory.CreateTempSubdirectory("interop-textfile-").FullName;
        try
        {
            var stdout = await h.RunAsync("metrics");
            var file = await h.RunAsync("metrics", "--textfile", dir);

            Assert.That(stdout.Code, Is.EqualTo(0), stdout.ToString());
            Assert.That(stdout.Out, Is.EqualTo(Text));
            Assert.That(file.Code, Is.EqualTo(0), file.ToString());
            Assert.That(File.ReadAllText(Path.Combine(dir, "interop.prom")), Is.EqualTo(Text));
            Assert.That(Directory.GetFiles(dir).Select(Path.GetFileName), Is.EqualTo(new[] { "interop.prom" }), "no temp file left");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public async Task Metrics_to_a_missing_dir_is_a_usage_error_that_writes_nothing()
    {
        var h = new CliHarness();

        var r = await h.RunAsync("metrics", "--textfile", "/nonexistent/textfile");

        Assert.That(r.Code, Is.EqualTo(2));
        Assert.That(r.Error, Does.Contain("no such directory"));
        Assert.That(h.Connections, Is.Empty);
    }
}
