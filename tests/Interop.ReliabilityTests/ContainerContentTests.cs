using Interop.Core.Model;
using Interop.DBus;
using Interop.ReliabilityTests.Infra;

namespace Interop.ReliabilityTests;

/// <summary>
/// What containers do to their own cgroups and to each other's names (issue 12, points 1-3): hostile names,
/// depth and count inside a container; init moved into a child of its own cgroup; containers whose names
/// read like another's leftovers. Real cgroupfs, real bus, real interopd, restarts with and without the state file.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ContainerContentTests
{
    /// <summary>Names the kernel accepts (it refuses only '/' and '\n'), escaped in every message.</summary>
    private static readonly string[] HostileNames = ["evil\u0001x", "tab\tx", "\u001b[31mred", "del\u007fx", "\u0085nel"];

    private const string LongName = "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL";

    [Test]
    public async Task Hostile_names_depth_and_count_inside_a_container_never_stop_interopd_reconcile_or_prune()
    {
        var count = Tools.Soak ? 10_000 : 2_000;
        const int depth = 40; // 40 x 201 bytes: far past PATH_MAX (4096), reachable only by relative paths
        using var rig = Rig.Start();
        var (scratch, bus, daemon, life) = rig;
        var deep = new List<string>(); // the scratch cgroup removes these chains with the rest (through dir fds, by short paths)
        var web = new SimContainer(Manager.Lxc, "web");
        await using (var client = await InteropClient.ConnectAsync(bus.Address))
        {
            await life.StartAsync(client, web);
        }

        // Inside the live container: hostile names in every hierarchy, a deep chain and thousands of dirs in one.
        var first = scratch.LeaderHierarchies.First();
        foreach (var h in scratch.Hierarchies)
        {
            foreach (var n in HostileNames)
            {
                Directory.CreateDirectory(scratch.Dir(h, $"{web.Child}/{n}"));
            }

            // And at the shared root, where no container owns them: still never removed.
            Directory.CreateDirectory(scratch.Dir(h, "evil\u0001top"));
            Directory.CreateDirectory(scratch.Dir(h, "lxc.payload.gone/\u0002inner"));
            Directory.CreateDirectory(scratch.Dir(h, "lxc.payload.leftover"));
        }

        for (var i = 0; i < count; i++)
        {
            Directory.CreateDirectory(scratch.Dir(first, $"{web.Child}/n{i:D5}"));
        }

        deep.Add(scratch.Dir(first, web.Child));
        deep.Add(scratch.Dir(first, "lxc.payload.deep-gone"));
        Directory.CreateDirectory(deep[1]);
        foreach (var d in deep)
        {
            Assert.That(Shell($"cd -P '{d}' && for i in $(seq {depth}); do mkdir {LongName} && cd -P {LongName} || exit 1; done").ExitCode, Is.Zero, "making the deep chain");
        }

        var before = Existing(scratch, web.Child);
        var pruned = new List<string>();
        await using (var client = await InteropClient.ConnectAsync(bus.Address))
        {
            pruned.AddRange(await client.PruneAsync(dryRun: true).WaitAsync(TimeSpan.FromSeconds(60)));
            pruned.AddRange(await client.PruneAsync(dryRun: false).WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.That(await client.GetTasksAsync(Manager.Lxc, "web"), Does.Contain((uint)web.Leader!.Pid));
        }

        var firstLog = daemon.Log;

        // Restart without the state file: everything comes from cgroupfs, hostile content included.
        daemon.Kill();
        File.Delete(rig.StatePath);
        File.Delete(rig.StatePath + ".journal");
        daemon.StartServing();
        IReadOnlyList<ContainerSummary> registry;
        await using (var client = await InteropClient.ConnectAsync(bus.Address))
        {
            registry = await client.ListContainersAsync();
            pruned.AddRange(await client.PruneAsync(dryRun: false).WaitAsync(TimeSpan.FromSeconds(60)));
        }

        var after = Existing(scratch, web.Child);
        var deepLeft = deep.Count(d => Shell($"cd -P '{d}' && for i in $(seq {depth}); do cd -P {LongName} || exit 1; done").ExitCode == 0);
        var warned = firstLog.Split('\n').Count(l => l.Contains("WARN", StringComparison.Ordinal) && l.Contains("evil\\x01top", StringComparison.Ordinal));
        Figures.Report("hostile-content", $"inside a live container: {HostileNames.Length} hostile names x {scratch.Hierarchies.Count} hierarchies, a chain {depth} deep ({depth * (LongName.Length + 1)} bytes), {count} dirs; two prunes, kill -9, restart without the state file, prune: daemon up {daemon.Running}, {registry.Count} adopted, {before.Count - after.Count} hostile dirs removed, {deepLeft} of {deep.Count} deep chains left, {pruned.Count} ordinary leftovers pruned, {warned} warning(s) for one hostile dir over two passes");
        Assert.Multiple(() =>
        {
            Assert.That(daemon.Running, Is.True, daemon.Log);
            Assert.That(registry.Select(m => $"{m.Manager.ToWire()}/{m.Name}@{m.CgroupPath}"), Is.EqualTo(new[] { $"lxc/web@{scratch.SharedRoot}/{web.Child}" }), daemon.Log);
            Assert.That(after, Is.EquivalentTo(before), "no hostile dir is removed");
            Assert.That(deepLeft, Is.EqualTo(deep.Count), "deep chains are never removed");
            Assert.That(Directory.GetDirectories(scratch.Dir(first, web.Child)), Has.Length.EqualTo(count + HostileNames.Length + 1));
            Assert.That(pruned.Where(p => p.Contains("lxc.payload.leftover", StringComparison.Ordinal)), Is.Not.Empty, "the pass still prunes ordinary leftovers");
            Assert.That(pruned.Where(p => p.Contains("evil", StringComparison.Ordinal) || p.Contains(web.Child, StringComparison.Ordinal)), Is.Empty);
            Assert.That(warned, Is.EqualTo(1), firstLog);
        });
    }

    [Test]
    public async Task A_container_whose_name_reads_like_another_ones_leftover_never_loses_its_dirs()
    {
        using var rig = Rig.Start();
        var (scratch, bus, daemon, life) = rig;
        await using var client = await InteropClient.ConnectAsync(bus.Address);

        // Running web-7; prepared web-3 whose payload LXC has made and not filled yet; running libvirt a_b
        // (machine name filtered to "ab"); and one real leftover of web: an empty retry dir no container claims.
        var web7 = new SimContainer(Manager.Lxc, "web-7");
        await life.StartAsync(client, web7);
        var web3 = new SimContainer(Manager.Lxc, "web-3") { Child = "lxc.payload.web-3" };
        await life.PrepareAsync(client, web3);
        var aUnderB = new SimContainer(Manager.Libvirt, "a_b");
        await life.PrepareAsync(client, aUnderB);
        SpawnAs(scratch, aUnderB, pid => $"lxc-{pid}-ab.libvirt-lxc");
        await life.RegisterAsync(client, aUnderB);
        foreach (var h in scratch.LeaderHierarchies)
        {
            Directory.CreateDirectory(scratch.Dir(h, web3.Child));
            Directory.CreateDirectory(scratch.Dir(h, "lxc.payload.web-1"));
        }

        var others = new[] { web7.Child, web3.Child, aUnderB.Child };
        var web = new SimContainer(Manager.Lxc, "web");
        var ab = new SimContainer(Manager.Libvirt, "ab");
        var refused = new List<string>();
        foreach (var c in new[] { web, ab })
        {
            try
            {
                await life.PrepareAsync(client, c);
            }
            catch (Exception e) when (e is Interop.Core.InteropException)
            {
                refused.Add($"{c.Name}: {e.Message}");
            }
        }

        var afterPrepare = others.Where(o => scratch.LeaderHierarchies.All(h => Directory.Exists(scratch.Dir(h, o)))).ToList();
        var leftoverGone = scratch.LeaderHierarchies.All(h => !Directory.Exists(scratch.Dir(h, "lxc.payload.web-1")));
        if (refused.Count == 0)
        {
            life.Spawn(web);
            await life.RegisterAsync(client, web);
            SpawnAs(scratch, ab, pid => $"lxc-{pid}-ab.libvirt-lxc");
            await life.RegisterAsync(client, ab);
            await life.ReleaseAsync(client, web);
            await life.ReleaseAsync(client, ab);
        }

        var afterRelease = others.Where(o => scratch.LeaderHierarchies.All(h => Directory.Exists(scratch.Dir(h, o)))).ToList();
        var registry = (await client.ListContainersAsync()).Select(m => $"{m.Manager.ToWire()}/{m.Name}/{m.State.ToWire()}").Order(StringComparer.Ordinal).ToList();
        Figures.Report("stale-dirs", $"web prepared while web-7 runs and web-3 is prepared, ab while a_b runs: {refused.Count} refused, {afterPrepare.Count} of 3 other containers' dirs kept after prepare, {afterRelease.Count} of 3 after web and ab were released, web's own retry leftover removed: {leftoverGone}");
        Assert.Multiple(() =>
        {
            Assert.That(refused, Is.Empty);
            Assert.That(afterPrepare, Is.EqualTo(others));
            Assert.That(afterRelease, Is.EqualTo(others));
            Assert.That(leftoverGone, Is.True, "an empty retry dir no container claims is still web's leftover");
            Assert.That(registry, Is.EqualTo(new[] { "libvirt/a_b/running", "lxc/web-3/prepared", "lxc/web-7/running" }));
        });
    }

    [Test]
    public async Task A_container_whose_init_moved_into_a_child_of_its_cgroup_is_kept_adopted_and_never_pruned_below()
    {
        using var rig = Rig.Start();
        var (scratch, bus, daemon, life) = rig;
        var web = new SimContainer(Manager.Lxc, "web");
        await using (var client = await InteropClient.ConnectAsync(bus.Address))
        {
            await life.StartAsync(client, web);
        }

        // A systemd guest: PID 1 moves into init.scope of its own cgroup, in every hierarchy (v1 and the v2 mount),
        // and makes empty siblings (system.slice) it will fill later.
        foreach (var h in scratch.LeaderHierarchies)
        {
            Directory.CreateDirectory(scratch.Dir(h, web.Child + "/system.slice"));
            Directory.CreateDirectory(scratch.Dir(h, web.Child + "/init.scope"));
            File.WriteAllText(scratch.Dir(h, web.Child + "/init.scope/cgroup.procs"), web.Leader!.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var expected = $"lxc/web@{scratch.SharedRoot}/{web.Child} leader {web.Leader!.Pid}";
        var seen = new List<string>();
        foreach (var withState in new[] { true, false })
        {
            daemon.Kill();
            if (!withState)
            {
                File.Delete(rig.StatePath);
                File.Delete(rig.StatePath + ".journal");
            }

            daemon.StartServing();
            await using var client = await InteropClient.ConnectAsync(bus.Address);
            var registry = await client.ListContainersAsync();
            seen.Add(string.Join(", ", registry.Select(m => $"{m.Manager.ToWire()}/{m.Name}@{m.CgroupPath} leader {m.Leader}")));
            await client.PruneAsync(dryRun: false);
        }

        var kept = scratch.LeaderHierarchies.Count(h => Directory.Exists(scratch.Dir(h, web.Child + "/system.slice")));
        Figures.Report("init-moved", $"init in {web.Child}/init.scope in {scratch.LeaderHierarchies.Count()} hierarchies: restart with the state file: [{seen[0]}]; without: [{seen[1]}]; empty system.slice kept after two prunes in {kept} of {scratch.LeaderHierarchies.Count()} hierarchies");
        Assert.Multiple(() =>
        {
            Assert.That(seen, Is.EqualTo(new[] { expected, expected }), daemon.Log);
            Assert.That(kept, Is.EqualTo(scratch.LeaderHierarchies.Count()), "nothing below a live container's dir is pruned");
        });
    }

    [Test]
    public async Task GetTasks_over_a_huge_container_tree_is_bounded_and_hook_calls_go_on_meanwhile()
    {
        var count = Tools.Soak ? 15_000 : 5_000;
        using var rig = Rig.Start();
        var (scratch, bus, daemon, life) = rig;
        await using var admin = await InteropClient.ConnectAsync(bus.Address);
        var big = new SimContainer(Manager.Lxc, "big");
        await life.StartAsync(admin, big);
        var cpu = scratch.LeaderHierarchies.First(h => h.Key == "cpuset"); // GetTasks reads the primary hierarchy
        for (var i = 0; i < count; i++)
        {
            Directory.CreateDirectory(scratch.Dir(cpu, $"{big.Child}/n{i:D5}"));
        }

        var nested = string.Join('/', Enumerable.Repeat("d", 10));
        Directory.CreateDirectory(scratch.Dir(cpu, $"{big.Child}/{nested}"));
        var inner = scratch.StartLeader();
        File.WriteAllText(scratch.Dir(cpu, $"{big.Child}/{nested}/cgroup.procs"), inner.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));

        // Walkers: 4 clients asking GetTasks back to back; meanwhile one client runs whole lifecycles.
        using var stop = new CancellationTokenSource();
        var walks = new List<double>();
        var walkErrors = new List<string>();
        var walkers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            await using var c = await InteropClient.ConnectAsync(bus.Address);
            while (!stop.IsCancellationRequested)
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                var tasks = await c.GetTasksAsync(Manager.Lxc, "big");
                lock (walks)
                {
                    walks.Add(sw.Elapsed.TotalMilliseconds);
                    if (!tasks.Contains((uint)big.Leader!.Pid) || !tasks.Contains((uint)inner.Pid) || tasks.Count > Interop.Linux.Cgroups.CgroupTree.MaxTasks)
                    {
                        walkErrors.Add($"GetTasks gave {tasks.Count} pids");
                    }
                }
            }
        })).ToList();

        var hooks = new List<double>();
        await using (var hook = await InteropClient.ConnectAsync(bus.Address))
        {
            for (var i = 0; i < 20; i++)
            {
                var c = Lifecycles.Make(i, "gt-");
                var sw = System.Diagnostics.Stopwatch.StartNew();
                await life.PrepareAsync(hook, c);
                hooks.Add(sw.Elapsed.TotalMilliseconds);
                life.Spawn(c);
                sw.Restart();
                await life.RegisterAsync(hook, c);
                hooks.Add(sw.Elapsed.TotalMilliseconds);
                sw.Restart();
                await life.ReleaseAsync(hook, c);
                hooks.Add(sw.Elapsed.TotalMilliseconds);
            }
        }

        await stop.CancelAsync();
        await Task.WhenAll(walkers);
        hooks.Sort();
        walks.Sort();
        Figures.Report("get-tasks", $"GetTasks of a container with {count} dirs and a task 10 levels down, 4 clients back to back ({walks.Count} walks, p50 {Figures.Percentile(walks, 50):F0} ms, max {walks.LastOrDefault():F0} ms; one at a time, off the read loop; bounds {Interop.Linux.Cgroups.CgroupTree.MaxTasks} pids, {Interop.Linux.Cgroups.CgroupTree.MaxDirs} dirs, {Interop.Linux.Cgroups.CgroupTree.MaxDepth} levels) while 20 lifecycles ran: {hooks.Count} hook calls, p50 {Figures.Percentile(hooks, 50):F1} ms, p99 {Figures.Percentile(hooks, 99):F1} ms, max {hooks.LastOrDefault():F1} ms");
        Assert.Multiple(() =>
        {
            Assert.That(walkErrors, Is.Empty);
            Assert.That(walks, Is.Not.Empty);
            Assert.That(hooks, Has.Count.EqualTo(60));
            Assert.That(daemon.Running, Is.True);
        });
    }

    private static void SpawnAs(ScratchRoot scratch, SimContainer c, Func<int, string> child)
    {
        var leader = scratch.StartLeader();
        c.Child = child(leader.Pid);
        scratch.Enter(leader, c.Child);
        c.Leader = leader;
    }

    private static SortedSet<string> Existing(ScratchRoot scratch, string child)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var h in scratch.Hierarchies)
        {
            foreach (var n in HostileNames.Select(n => $"{child}/{n}").Append("evil\u0001top").Append("lxc.payload.gone/\u0002inner"))
            {
                if (Directory.Exists(scratch.Dir(h, n)))
                {
                    set.Add($"{h.Key}:{n}");
                }
            }
        }

        return set;
    }

    private static CmdResult Shell(string script) => Cmd.Run("sh", ["-c", script], timeout: TimeSpan.FromSeconds(120));
}
