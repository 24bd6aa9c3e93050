using Interop.DBus;
using Interop.ReliabilityTests.Infra;

namespace Interop.ReliabilityTests;

/// <summary>
/// Every mutating method called as uid 65534 is refused, every read is allowed (DESIGN.md section 8):
/// on a bus open to everyone, by interopd's own uid check; on a bus with the system defaults plus the shipped
/// policy file, by the bus itself, before interopd sees the call.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class AuthorizationTests
{
    private const string Nobody = "65534";
    private const string AccessDenied = "org.freedesktop.DBus.Error.AccessDenied";

    [TestCase(false)]
    [TestCase(true)]
    public async Task Uid_65534_may_read_and_may_not_mutate(bool shippedPolicy)
    {
        using var scratch = new ScratchRoot();
        using var bus = new BusRunner(scratch.TempDir, systemPolicy: shippedPolicy);
        using var daemon = new DaemonRunner(scratch, bus.Address);
        daemon.Start();
        var life = new Lifecycles(scratch);
        var c = Lifecycles.Make(0, "ra-");
        await using var client = await InteropClient.ConnectAsync(bus.Address);
        await life.PrepareAsync(client, c);
        life.Spawn(c);
        await life.RegisterAsync(client, c);
        var obj = ObjectPaths.ForContainer(c.Manager, c.Name);
        var name = c.Name;
        var pid = c.Leader!.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        const string M = "org.interop.Interop1.Manager";
        const string C = "org.interop.Interop1.Container";
        const string Mp = "/org/interop/Interop1";
        var mutations = new (string Path, string Member, string[] Args)[]
        {
            (Mp, M + ".PrepareContainer", ["string:lxc", "string:ra-new", "dict:string:string:hook,pre-start"]),
            (Mp, M + ".RegisterContainer", ["string:lxc", "string:" + name, "uint32:" + pid, "dict:string:string:hook,start-host"]),
            (Mp, M + ".StopContainer", ["string:lxc", "string:" + name, "dict:string:string:hook,stop"]),
            (Mp, M + ".ReleaseContainer", ["string:lxc", "string:" + name, "dict:string:string:hook,post-stop"]),
            (Mp, M + ".Setup", []),
            (Mp, M + ".Prune", ["boolean:true"]),
            (obj, C + ".SetValue", ["string:pids.max", "string:10"]),
        };
        var reads = new (string Path, string Member, string[] Args)[]
        {
            (Mp, M + ".ListContainers", []),
            (Mp, M + ".GetContainer", ["string:lxc", "string:" + name]),
            (Mp, M + ".GetContainerByPid", ["uint32:" + pid]),
            (Mp, M + ".GetContainerByCgroup", [$"string:{scratch.SharedRoot}/lxc.payload.{name}"]),
            (Mp, "org.freedesktop.DBus.Properties.Get", ["string:" + M, "string:Version"]),
            (Mp, "org.freedesktop.DBus.Properties.GetAll", ["string:" + M]),
            (obj, "org.freedesktop.DBus.Properties.GetAll", ["string:" + C]),
            (Mp, "org.freedesktop.DBus.Introspectable.Introspect", []),
            (obj, "org.freedesktop.DBus.Introspectable.Introspect", []),
            (obj, C + ".GetValue", ["string:pids.max"]),
            (obj, C + ".GetTasks", []),
            (Mp, "org.freedesktop.DBus.Peer.Ping", []),
        };
        var pidsMaxBefore = client.GetValue(c.Manager, c.Name, "pids.max");
        var logBefore = daemon.Log.Length;
        var problems = new List<string>();
        foreach (var (path, member, args) in mutations)
        {
            var r = AsNobody(bus.Address, path, member, args);
            var line = r.Stderr.Trim();
            var fromInteropd = line.Contains($"uid {Nobody}", StringComparison.Ordinal);
            var fromBus = line.Contains("Rejected send message", StringComparison.Ordinal);
            if (r.Exit == 0 || !line.StartsWith("Error " + AccessDenied, StringComparison.Ordinal) || (shippedPolicy ? !fromBus || fromInteropd : !fromInteropd))
            {
                problems.Add($"{member}: exit {r.Exit}: {line}");
            }
        }

        foreach (var (path, member, args) in reads)
        {
            var r = AsNobody(bus.Address, path, member, args);
            if (r.Exit != 0)
            {
                problems.Add($"{member} (read): exit {r.Exit}: {r.Stderr.Trim()}");
            }
        }

        var logDuring = daemon.Log[logBefore..];
        var registry = await client.ListContainersAsync();
        Figures.Report("authorization", $"{(shippedPolicy ? "system-bus defaults + shipped policy" : "open bus, interopd's own check")}: uid {Nobody} called {mutations.Length} mutating methods and {reads.Length} reads: {problems.Count} wrong answers; interopd log lines meanwhile: {logDuring.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length}");
        Assert.Multiple(() =>
        {
            Assert.That(problems, Is.Empty);
            Assert.That(registry.Select(m => m.Name), Is.EqualTo(new[] { name }), "nothing registered, stopped or released by uid 65534");
            Assert.That(registry[0].State, Is.EqualTo(Core.Model.ContainerState.Running));
            Assert.That(client.GetValue(c.Manager, c.Name, "pids.max"), Is.EqualTo(pidsMaxBefore));
            if (shippedPolicy)
            {
                // The bus refused before delivery: interopd never saw the calls, so it logged nothing about them.
                foreach (var (_, member, _) in mutations)
                {
                    Assert.That(logDuring, Does.Not.Contain(member[(member.LastIndexOf('.') + 1)..]), "interopd logged a call the bus should have stopped");
                }
            }
        });
        await life.ReleaseAsync(client, c);
    }

    private static (int Exit, string Stdout, string Stderr) AsNobody(string address, string path, string member, string[] args) =>
        Tools.Run("setpriv", [
            "--reuid=" + Nobody, "--regid=" + Nobody, "--clear-groups", "dbus-send", "--address=" + address, "--print-reply", "--type=method_call",
            "--reply-timeout=10000", "--dest=org.interop.Interop1", path, member, .. args,
        ]);
}
