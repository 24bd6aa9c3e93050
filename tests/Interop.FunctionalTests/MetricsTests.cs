using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Interop.Core.Model;
using Interop.FunctionalTests.Support;

namespace Interop.FunctionalTests;

/// <summary>
/// interopd's metrics end to end: /metrics over HTTP, the same families over D-Bus (interopctl metrics, textfile),
/// interopctl top and show reading the real cgroupfs, and the start-up errors of a bad listen address.
/// </summary>
[TestFixture]
public class MetricsTests
{
    private static readonly Dictionary<string, string> NoFacts = [];

    [Test]
    public async Task Http_and_the_textfile_carry_the_same_families_for_a_running_container()
    {
        var port = FreePort();
        using var rig = Rig.Start(extraConfig: $"metrics_listen: 127.0.0.1:{port}\n");
        Sync.Run(rig.Client.PrepareContainerAsync(Manager.Lxc, "m1", NoFacts));
        _ = rig.StartLxcTasks("m1");

        // interopd registers it when its init enters its cgroup (this host mounts cgroup2), as on a real start: one
        // "started" call. A RegisterContainer from the test as well would race that watch and count two.
        Assert.That(Poll.Until(() => Sync.Run(rig.Client.ListContainersAsync()).Any(m => m.Name == "m1" && m.State == ContainerState.Running)), Is.True, rig.Daemon.Log);
        var id = $"{rig.SharedRoot}/lxc.payload.m1";

        using var http = new HttpClient();
        var scraped = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        var textfile = Directory.CreateTempSubdirectory("interop-ft-textfile-").FullName;
        try
        {
            var written = Cmd.Run(Binaries.Interopctl, ["--bus", rig.Address, "metrics", "--textfile", textfile]);
            Assert.That(written.ExitCode, Is.EqualTo(0), written.ToString());
            var file = File.ReadAllText(Path.Combine(textfile, "interop.prom"));

            Assert.That(scraped, Does.Contain($"interop_container_info{{manager=\"lxc\",name=\"m1\",state=\"running\",unit=\"\",id=\"{id}\"}} 1"));
            Assert.That(scraped, Does.Contain($"interop_container_pids{{manager=\"lxc\",name=\"m1\",id=\"{id}\"}} 2"), "the shell and its sleep");
            Assert.That(scraped, Does.Contain($"interop_container_cpu_seconds_total{{manager=\"lxc\",name=\"m1\",id=\"{id}\"}} "));
            Assert.That(scraped, Does.Contain("interop_hook_calls_total{event=\"started\",result=\"ok\"} 1"));
            Assert.That(Families(file), Is.EqualTo(Families(scraped)));
            Assert.That(file, Does.Contain($"interop_container_info{{manager=\"lxc\",name=\"m1\",state=\"running\",unit=\"\",id=\"{id}\"}} 1"));
        }
        finally
        {
            Directory.Delete(textfile, recursive: true);
        }
    }

    [Test]
    public async Task A_start_host_hook_after_interopds_own_registration_is_not_a_second_start()
    {
        // An include with a start-host hook (lxc-config --start-host yes) on a host with cgroup2: interopd registers
        // the container when its init enters its cgroup, and the hook then registers the same leader again.
        var port = FreePort();
        using var rig = Rig.Start(extraConfig: $"metrics_listen: 127.0.0.1:{port}\n");
        Sync.Run(rig.Client.PrepareContainerAsync(Manager.Lxc, "m2", NoFacts));
        var (leader, _) = rig.StartLxcTasks("m2");
        Assert.That(Poll.Until(() => Sync.Run(rig.Client.ListContainersAsync()).Any(m => m.Name == "m2" && m.State == ContainerState.Running)), Is.True, rig.Daemon.Log);

        Sync.Run(rig.Client.RegisterContainerAsync(Manager.Lxc, "m2", (uint)leader, NoFacts));
        using var http = new HttpClient();
        var scraped = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");

        Assert.That(scraped, Does.Contain("interop_hook_calls_total{event=\"started\",result=\"ok\"} 1\n"), scraped);
    }

    [Test]
    public void Top_and_show_read_the_containers_usage_from_cgroupfs()
    {
        using var rig = Rig.Start();
        Sync.Run(rig.Client.PrepareContainerAsync(Manager.Lxc, "t1", NoFacts));
        var (leader, _) = rig.StartLxcTasks("t1");
        Sync.Run(rig.Client.RegisterContainerAsync(Manager.Lxc, "t1", (uint)leader, NoFacts));

        var top = Cmd.Run(Binaries.Interopctl, ["--bus", rig.Address, "--json", "top", "-d", "0.2"]);
        var batch = Cmd.Run(Binaries.Interopctl, ["--bus", rig.Address, "top", "-n", "2", "-d", "0.2"]);
        var show = Cmd.Run(Binaries.Interopctl, ["--bus", rig.Address, "show", "t1"]);

        Assert.That(top.ExitCode, Is.EqualTo(0), top.ToString());
        using var doc = JsonDocument.Parse(top.Stdout);
        var t1 = doc.RootElement.GetProperty("containers").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "t1");
        Assert.That(t1.GetProperty("pids").GetUInt64(), Is.EqualTo(2));
        Assert.That(t1.GetProperty("cpu_seconds").GetDouble(), Is.GreaterThanOrEqualTo(0));
        Assert.That(t1.GetProperty("cpu_percent").ValueKind, Is.EqualTo(JsonValueKind.Number));
        Assert.That(batch.ExitCode, Is.EqualTo(0), batch.ToString());
        Assert.That(batch.Stdout.Split('\n').Count(l => l.StartsWith("interopctl top - ", StringComparison.Ordinal)), Is.EqualTo(2));
        Assert.That(batch.Stdout, Does.Not.Contain("\u001b["));
        Assert.That(show.ExitCode, Is.EqualTo(0), show.ToString());
        Assert.That(show.Stdout, Does.Contain("Pids:             2"));
    }

    [Test]
    public void Any_user_may_read_the_metrics_over_the_bus()
    {
        using var rig = Rig.Start();

        var r = Cmd.Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", Binaries.Interopctl, "--bus", rig.Address, "metrics"]);

        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Stdout, Does.Contain("# TYPE interop_container_info gauge"));
    }

    [Test]
    public void A_port_in_use_stops_interopd_at_start_with_one_line_and_changes_nothing()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var rig = Rig.WithoutDaemon($"metrics_listen: 127.0.0.1:{port}\n");
        using var daemon = InteropdRunner.Launch(rig.Address, rig.ConfigPath);

        Assert.That(Poll.Until(() => daemon.HasExited, TimeSpan.FromSeconds(30)), Is.True, "interopd kept running");
        daemon.Kill(); // it has exited: this only reaps it, after which its stderr has been read to the end
        Assert.That(daemon.ExitCode, Is.EqualTo(1));
        var errors = daemon.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("FATAL", StringComparison.Ordinal)).ToList();
        Assert.That(errors, Has.Count.EqualTo(1), daemon.Log);
        Assert.That(errors[0], Does.Contain($"cannot serve metrics on http://127.0.0.1:{port}/metrics: port {port} is already in use"));
        Assert.That(Directory.Exists(rig.RootDir("cpuset")), Is.False, "setup did not run");
        Assert.That(File.Exists(rig.StatePath), Is.False, "no state was written");
    }

    [TestCase("300.1.2.3:9925", 2, "metrics_listen '300.1.2.3:9925' must be 'off', 'on'")]
    [TestCase("192.0.2.1:9925", 1, "cannot serve metrics on http://192.0.2.1:9925/metrics: ")]
    public void A_bad_listen_address_stops_interopd_at_start_and_changes_nothing(string listen, int exitCode, string message)
    {
        using var rig = Rig.WithoutDaemon($"metrics_listen: {listen}\n");
        using var daemon = InteropdRunner.Launch(rig.Address, rig.ConfigPath);

        Assert.That(Poll.Until(() => daemon.HasExited, TimeSpan.FromSeconds(30)), Is.True, "interopd kept running");
        daemon.Kill(); // it has exited: this only reaps it, after which its stderr has been read to the end
        Assert.That(daemon.ExitCode, Is.EqualTo(exitCode));
        var errors = daemon.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("FATAL", StringComparison.Ordinal)).ToList();
        Assert.That(errors, Has.Count.EqualTo(1), daemon.Log);
        Assert.That(errors[0], Does.Contain(message));
        Assert.That(Directory.Exists(rig.RootDir("cpuset")), Is.False, "setup did not run");
        Assert.That(File.Exists(rig.StatePath), Is.False, "no state was written");
    }

    /// <summary>The "# TYPE" lines: which families there are and of what type.</summary>
    private static List<string> Families(string exposition) =>
        [.. exposition.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
