using System.Net;
using System.Net.Sockets;
using Interop.Core;
using Interop.Core.Adapters;
using Interop.Core.Config;
using Interop.Core.Model;
using Interop.Linux.Cgroups;
using Interop.Service.Metrics;
using NSubstitute;

namespace Interop.Service.Tests.Metrics;

/// <summary>The exposition: names, types, labels, escaping, units, series coming and going, the service's counters.</summary>
public sealed class InteropMetricsTests
{
    private readonly List<Mapping> _containers = [];
    private readonly Dictionary<string, ContainerUsage> _usage = [];

    [SetUp]
    public void Clear()
    {
        // NUnit runs every test on one instance of the fixture.
        _containers.Clear();
        _usage.Clear();
    }

    private static Mapping Container(Manager manager, string name, string cgroup, ContainerState state = ContainerState.Running) =>
        new(manager, name, "", state, cgroup.Length == 0 ? 0 : 4242, cgroup, new Dictionary<string, string>(), 0, CgroupNamespaceKind.Host, MappingSource.Hook);

    private InteropMetrics Metrics() => new(() => [.. _containers], m => _usage.GetValueOrDefault(m.Name, ContainerUsage.None));

    [Test]
    public async Task Every_family_has_its_type_help_and_base_unit_name()
    {
        var text = await Metrics().ExportTextAsync();

        foreach (var (name, type) in new[]
        {
            ("interop_container_info", "gauge"),
            ("interop_container_cpu_seconds_total", "counter"),
            ("interop_container_memory_bytes", "gauge"),
            ("interop_container_memory_limit_bytes", "gauge"),
            ("interop_container_pids", "gauge"),
            ("interop_container_io_read_bytes_total", "counter"),
            ("interop_container_io_written_bytes_total", "counter"),
            ("interop_containers", "gauge"),
            ("interop_hook_calls_total", "counter"),
            ("interop_hook_duration_seconds", "histogram"),
            ("interop_reconcile_duration_seconds", "gauge"),
            ("interop_state_write_failures_total", "counter"),
            ("interop_reaper_removed_dirs_total", "counter"),
        })
        {
            Assert.That(text, Does.Contain($"# TYPE {name} {type}\n"), name);
            Assert.That(text, Does.Contain($"# HELP {name} "), name);
        }
    }

    [Test]
    public async Task A_container_has_an_info_series_labelled_like_cadvisor_and_its_figures_in_base_units()
    {
        _containers.Add(Container(Manager.Lxc, "web", "/machine/lxc.payload.web"));
        _usage["web"] = new ContainerUsage(12.5, 1048576, 67108864, 3, 4096, 8192);

        var text = await Metrics().ExportTextAsync();

        const string Labels = "manager=\"lxc\",name=\"web\",id=\"/machine/lxc.payload.web\"";
        Assert.That(text, Does.Contain("interop_container_info{manager=\"lxc\",name=\"web\",state=\"running\",unit=\"\",id=\"/machine/lxc.payload.web\"} 1\n"));
        Assert.That(text, Does.Contain($"interop_container_cpu_seconds_total{{{Labels}}} 12.5\n"));
        Assert.That(text, Does.Contain($"interop_container_memory_bytes{{{Labels}}} 1048576\n"));
        Assert.That(text, Does.Contain($"interop_container_memory_limit_bytes{{{Labels}}} 67108864\n"));
        Assert.That(text, Does.Contain($"interop_container_pids{{{Labels}}} 3\n"));
        Assert.That(text, Does.Contain($"interop_container_io_read_bytes_total{{{Labels}}} 4096\n"));
        Assert.That(text, Does.Contain($"interop_container_io_written_bytes_total{{{Labels}}} 8192\n"));
        Assert.That(text, Does.Contain("interop_containers{manager=\"lxc\",state=\"running\"} 1\n"));
        Assert.That(text, Does.Contain("interop_containers{manager=\"libvirt\",state=\"running\"} 0\n"));
    }

    [Test]
    public async Task On_a_systemd_host_the_info_series_names_the_containers_unit()
    {
        // The scope libvirt's machined registration gives a domain: systemd's escaping kept as it is in the label.
        _containers.Add(Container(Manager.Libvirt, "web", "/machine.slice/machine-lxc\\x2d812\\x2dweb.scope/libvirt") with { Unit = "machine-lxc\\x2d812\\x2dweb.scope" });

        var text = await Metrics().ExportTextAsync();

        Assert.That(text, Does.Contain("unit=\"machine-lxc\\\\x2d812\\\\x2dweb.scope\",id=\"/machine.slice/machine-lxc\\\\x2d812\\\\x2dweb.scope/libvirt\"} 1\n"));
    }

    [Test]
    public async Task Label_values_are_escaped()
    {
        // Names may hold a quote or a backslash (only '/', NUL and control characters are refused).
        _containers.Add(Container(Manager.Libvirt, "we\"b\\1", "/machine/lxc-1-web1.libvirt-lxc"));

        var text = await Metrics().ExportTextAsync();

        Assert.That(text, Does.Contain("name=\"we\\\"b\\\\1\""));
    }

    [Test]
    public async Task A_figure_no_hierarchy_has_and_no_limit_give_no_series()
    {
        _containers.Add(Container(Manager.Lxc, "web", "/machine/lxc.payload.web"));
        _usage["web"] = new ContainerUsage(1, 4096, null, null, null, null);

        var text = await Metrics().ExportTextAsync();

        Assert.That(text, Does.Contain("interop_container_memory_bytes{"));
        Assert.That(text, Does.Not.Contain("interop_container_memory_limit_bytes{"));
        Assert.That(text, Does.Not.Contain("interop_container_pids{"));
        Assert.That(text, Does.Not.Contain("interop_container_io_read_bytes_total{"));
    }

    [Test]
    public async Task A_prepared_container_has_info_but_no_figures()
    {
        _containers.Add(Container(Manager.Lxc, "web", "", ContainerState.Prepared));

        var text = await Metrics().ExportTextAsync();

        Assert.That(text, Does.Contain("interop_container_info{manager=\"lxc\",name=\"web\",state=\"prepared\",unit=\"\",id=\"\"} 1\n"));
        Assert.That(text, Does.Not.Contain("interop_container_cpu_seconds_total{"));
    }

    [Test]
    public async Task Series_of_a_container_that_left_or_changed_state_are_gone_and_a_reset_counter_starts_over()
    {
        var metrics = Metrics();
        _containers.Add(Container(Manager.Lxc, "web", "/machine/lxc.payload.web"));
        _containers.Add(Container(Manager.Lxc, "db", "/machine/lxc.payload.db"));
        _usage["web"] = new ContainerUsage(50, 1, null, 1, null, null);
        _usage["db"] = new ContainerUsage(5, 1, null, 1, null, null);
        await metrics.ExportTextAsync();

        _containers.RemoveAt(1);
        _containers[0] = _containers[0] with { State = ContainerState.Stopping };
        _usage["web"] = new ContainerUsage(2, 1, null, 1, null, null);
        var text = await metrics.ExportTextAsync();

        Assert.That(text, Does.Not.Contain("name=\"db\""));
        Assert.That(text, Does.Not.Contain("state=\"running\",unit"));
        Assert.That(text, Does.Contain("interop_container_info{manager=\"lxc\",name=\"web\",state=\"stopping\""));
        Assert.That(text, Does.Contain("interop_container_cpu_seconds_total{manager=\"lxc\",name=\"web\",id=\"/machine/lxc.payload.web\"} 2\n"));
    }

    [Test]
    public async Task Hook_calls_are_counted_by_event_and_result_with_a_latency_histogram()
    {
        var metrics = Metrics();
        metrics.HookCall("prepare", "ok", TimeSpan.FromMilliseconds(3));
        metrics.HookCall("prepare", "ok", TimeSpan.FromMilliseconds(0.2));
        metrics.HookCall("started", "refused", TimeSpan.FromMilliseconds(1));
        metrics.StateWriteFailed();
        metrics.ReaperRemoved(4);
        metrics.Reconciled(TimeSpan.FromMilliseconds(250));

        var text = await metrics.ExportTextAsync();

        Assert.That(text, Does.Contain("interop_hook_calls_total{event=\"prepare\",result=\"ok\"} 2\n"));
        Assert.That(text, Does.Contain("interop_hook_calls_total{event=\"started\",result=\"refused\"} 1\n"));
        Assert.That(text, Does.Contain("interop_hook_duration_seconds_bucket{event=\"prepare\",result=\"ok\",le=\"0.0005\"} 1\n"));
        Assert.That(text, Does.Contain("interop_hook_duration_seconds_bucket{event=\"prepare\",result=\"ok\",le=\"+Inf\"} 2\n"));
        Assert.That(text, Does.Contain("interop_hook_duration_seconds_count{event=\"prepare\",result=\"ok\"} 2\n"));
        Assert.That(text, Does.Contain("interop_state_write_failures_total 1\n"));
        Assert.That(text, Does.Contain("interop_reaper_removed_dirs_total 4\n"));
        Assert.That(text, Does.Contain("interop_reconcile_duration_seconds 0.25\n"));
    }

    [Test]
    public async Task The_service_counts_its_lifecycle_calls_ok_and_refused()
    {
        var dir = Directory.CreateTempSubdirectory("interop-metrics-").FullName;
        try
        {
            var host = Substitute.For<ICgroupHost>();
            host.Hierarchies.Returns([("cpuset", "/sys/fs/cgroup/cpuset")]);
            host.Setup("machine").Returns([]);
            host.ListChildren(Arg.Any<string>()).Returns(new HashSet<string>());
            host.ListChildren(Arg.Any<string>(), Arg.Any<Func<string, bool>>()).Returns(c => host.ListChildren(c.ArgAt<string>(0)).Where(c.ArgAt<Func<string, bool>>(1)).ToList());
            var metrics = Metrics();
            var state = Path.Combine(dir, "state.yaml");
            using var service = new InteropService(host, new InteropConfig { StateFile = state }, new StateStore(state),
                new Dictionary<Manager, IContainerLayout> { [Manager.Lxc] = new Interop.Core.Adapters.Lxc.LxcLayout() }, metrics: metrics);

            await service.PrepareContainerAsync(Manager.Lxc, "web", new Dictionary<string, string>());
            Assert.ThrowsAsync<InvalidInputException>(() => service.RegisterContainerAsync(Manager.Lxc, "web", 999999, new Dictionary<string, string>()));
            await service.StopContainerAsync(Manager.Lxc, "web", new Dictionary<string, string>());
            var text = await metrics.ExportTextAsync();

            Assert.That(text, Does.Contain("interop_hook_calls_total{event=\"prepare\",result=\"ok\"} 1\n"));
            Assert.That(text, Does.Contain("interop_hook_calls_total{event=\"started\",result=\"refused\"} 1\n"));
            Assert.That(text, Does.Contain("interop_hook_calls_total{event=\"stopped\",result=\"ok\"} 1\n"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public async Task The_server_serves_the_registry_at_metrics()
    {
        _containers.Add(Container(Manager.Lxc, "web", "/machine/lxc.payload.web"));
        var port = FreePort();
        await using var server = MetricsServer.Start($"127.0.0.1:{port}", Metrics().Registry);
        using var http = new HttpClient();

        var text = await http.GetStringAsync(server.Url);

        Assert.That(server.Url, Is.EqualTo($"http://127.0.0.1:{port}/metrics"));
        Assert.That(text, Does.Contain("interop_container_info{manager=\"lxc\",name=\"web\""));
    }

    [Test]
    public void A_port_in_use_is_one_clear_error()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var e = Assert.Throws<IOException>(() => MetricsServer.Start($"127.0.0.1:{port}", Metrics().Registry));

        Assert.That(e!.Message, Is.EqualTo($"cannot serve metrics on http://127.0.0.1:{port}/metrics: port {port} is already in use (another exporter? choose another port in metrics_listen)"));
    }

    [Test]
    public void An_address_not_on_this_host_is_one_clear_error()
    {
        var e = Assert.Throws<IOException>(() => MetricsServer.Start("192.0.2.1:9925", Metrics().Registry));

        Assert.That(e!.Message, Does.StartWith("cannot serve metrics on http://192.0.2.1:9925/metrics: "));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
