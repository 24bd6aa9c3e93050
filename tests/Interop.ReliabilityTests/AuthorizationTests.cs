using Interop.Core.Model;
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
        using var rig = Rig.Start(shippedPolicy ? BusPolicy.ShippedSystemPolicy : BusPolicy.Open);
        var (scratch, bus, daemon, life) = rig;
        var c = Lifecycles.Make(0, "ra-");
        await using var client = await InteropClient.ConnectAsync(bus.Address);
        await life.StartAsync(client, c);
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
        var pidsMaxBefore = await client.GetValueAsync(c.Manager, c.Name, "pids.max");
        var logBefore = daemon.Log.Length;
        var problems = new List<string>();
        foreach (var (path, member, args) in mutations)
        {
            var r = AsNobody(bus.Address, path, member, args);
            var line = r.Stderr.Trim();
            var fromInteropd = line.Contains($"uid {Nobody}", StringComparison.Ordinal);
            var fromBus = line.Contains("Rejected send message", StringComparison.Ordinal);
            if (r.ExitCode == 0 || !line.StartsWith("Error " + AccessDenied, StringComparison.Ordinal) || (shippedPolicy ? !fromBus || fromInteropd : !fromInteropd))
            {
                problems.Add($"{member}: exit {r.ExitCode}: {line}");
            }
        }

        foreach (var (path, member, args) in reads)
        {
            var r = AsNobody(bus.Address, path, member, args);
            if (r.ExitCode != 0)
            {
                problems.Add($"{member} (read): exit {r.ExitCode}: {r.Stderr.Trim()}");
            }
        }

        var logDuring = daemon.Log[logBefore..];
        var registry = await client.ListContainersAsync();
        Figures.Report("authorization", $"{(shippedPolicy ? "system-bus defaults + shipped policy" : "open bus, interopd's own check")}: uid {Nobody} called {mutations.Length} mutating methods and {reads.Length} reads: {problems.Count} wrong answers; interopd log lines meanwhile: {logDuring.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length}");
        var pidsMaxAfter = await client.GetValueAsync(c.Manager, c.Name, "pids.max");
        Assert.Multiple(() =>
        {
            Assert.That(problems, Is.Empty);
            Assert.That(registry.Select(m => m.Name), Is.EqualTo(new[] { name }), "nothing registered, stopped or released by uid 65534");
            Assert.That(registry[0].State, Is.EqualTo(Core.Model.ContainerState.Running));
            Assert.That(pidsMaxAfter, Is.EqualTo(pidsMaxBefore));
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

    [Test]
    public async Task An_allowed_non_root_user_changes_only_containers_it_runs_and_nobody_writes_more_than_resource_settings()
    {
        using var rig = Rig.Start(allowedUsers: "[root, nobody]");
        var (scratch, bus, daemon, life) = rig;
        await using var client = await InteropClient.ConnectAsync(bus.Address);
        var roots = Lifecycles.Make(0, "rn-");
        await life.StartAsync(client, roots);
        var nobodys = new SimContainer(Core.Model.Manager.Lxc, "rn-nobody") { Child = "lxc.payload.rn-nobody" };
        await life.PrepareAsync(client, nobodys);
        nobodys.Leader = scratch.StartLeaderAs(65534);
        await Task.Delay(200); // setpriv has dropped to uid 65534 and exec'd sleep
        scratch.Enter(nobodys.Leader, nobodys.Child);
        await life.RegisterAsync(client, nobodys);
        const string C = "org.interop.Interop1.Container";
        const string M = "org.interop.Interop1.Manager";

        // uid 65534 is in allowed_users (by name, through NSS): it may change the container it runs, not root's.
        var own = AsNobody(bus.Address, ObjectPaths.ForContainer(nobodys.Manager, nobodys.Name), C + ".SetValue", ["string:pids.max", "string:10"]);
        var other = AsNobody(bus.Address, ObjectPaths.ForContainer(roots.Manager, roots.Name), C + ".SetValue", ["string:pids.max", "string:10"]);
        var stopOther = AsNobody(bus.Address, "/org/interop/Interop1", M + ".StopContainer", ["string:" + roots.Manager.ToWire(), "string:" + roots.Name, "dict:string:string:hook,stop"]);
        var prepare = AsNobody(bus.Address, "/org/interop/Interop1", M + ".PrepareContainer", ["string:lxc", "string:rn-new", "dict:string:string:hook,pre-start"]);

        // Root itself writes resource settings only.
        string[] refusedKeys = ["cgroup.kill", "cgroup.freeze", "devices.deny", "devices.allow", "freezer.state", "cgroup.procs", "tasks", "release_agent", "notify_on_release", "cpu.stat", "memory.force_empty", "cgroup.max.depth"];
        var wrong = new List<string>();
        foreach (var key in refusedKeys)
        {
            try
            {
                await client.SetValueAsync(roots.Manager, roots.Name, key, key.StartsWith("devices", StringComparison.Ordinal) ? "a" : "1").WaitAsync(TimeSpan.FromSeconds(20));
                wrong.Add($"{key}: accepted");
            }
            catch (Core.InvalidInputException)
            {
                // refused as bad input
            }
            catch (Exception e)
            {
                wrong.Add($"{key}: {e.GetType().Name}: {e.Message}");
            }
        }

        await client.SetValueAsync(roots.Manager, roots.Name, "pids.max", "77");
        var registry = await client.ListContainersAsync();
        Figures.Report("authorization", $"uid 65534 in allowed_users (resolved through NSS): SetValue on its own container exit {own.ExitCode}, on root's container: {other.Stderr.Trim()}; StopContainer of root's: exit {stopOther.ExitCode}; PrepareContainer of a new one: exit {prepare.ExitCode}; root's SetValue of {refusedKeys.Length} non-resource keys: {refusedKeys.Length - wrong.Count} refused as InvalidArgument");
        var nobodysPidsMax = await client.GetValueAsync(nobodys.Manager, nobodys.Name, "pids.max");
        var rootsPidsMax = await client.GetValueAsync(roots.Manager, roots.Name, "pids.max");
        Assert.Multiple(() =>
        {
            Assert.That(own.ExitCode, Is.Zero, own.Stderr);
            Assert.That(nobodysPidsMax, Is.EqualTo("10"));
            Assert.That(other.Stderr, Does.Contain(AccessDenied).And.Contain("neither runs it nor owns its cgroup"));
            Assert.That(stopOther.Stderr, Does.Contain(AccessDenied));
            Assert.That(prepare.ExitCode, Is.Zero, "lifecycle of a container not yet registered: allowed users may " + prepare.Stderr);
            Assert.That(rootsPidsMax, Is.EqualTo("77"));
            Assert.That(registry.Single(m => m.Name == roots.Name).State, Is.EqualTo(Core.Model.ContainerState.Running));
            Assert.That(wrong, Is.Empty);
            Assert.That(roots.Leader!.Alive, Is.True);
        });

        await client.ReleaseContainerAsync(Core.Model.Manager.Lxc, "rn-new", new Dictionary<string, string>());
        await life.ReleaseAsync(client, roots);
        await life.ReleaseAsync(client, nobodys);
    }

    private static CmdResult AsNobody(string address, string path, string member, string[] args) =>
        Cmd.Run("setpriv", [
            "--reuid=" + Nobody, "--regid=" + Nobody, "--clear-groups", "dbus-send", "--bus=" + address, "--print-reply", "--type=method_call",
            "--reply-timeout=10000", "--dest=org.interop.Interop1", path, member, .. args,
        ]);
}
