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
        using var scratch = new ScratchRoot();
        using var bus = new BusRunner(scratch.TempDir, systemPolicy: false);
        using var daemon = new DaemonRunner(scratch, bus.Address);
        var deep = new List<string>();
        try
        {
            daemon.Start();
            var life = new Lifecycles(scratch);
            var web = new SimContainer(Manager.Lxc, "web");
            await using (var client = await InteropClient.ConnectAsync(bus.Address))
            {
                await life.PrepareAsync(client, web);
                life.Spawn(web);
                await life.RegisterAsync(client, web);
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
                Assert.That(Shell($"cd -P '{d}' && for i in $(seq {depth}); do mkdir {LongName} && cd -P {LongName} || exit 1; done").Exit, Is.Zero, "making the deep chain");
            }

            var before = Existing(scratch, web.Child);
            var pruned = new List<string>();
            await using (var client = await InteropClient.ConnectAsync(bus.Address))
            {
                pruned.AddRange(await client.PruneAsync(dryRun: true).WaitAsync(TimeSpan.FromSeconds(60)));
                pruned.AddRange(await client.PruneAsync(dryRun: false).WaitAsync(TimeSpan.FromSeconds(60)));
                Assert.That(client.GetTasks(Manager.Lxc, "web"), Does.Contain((uint)web.Leader!.Pid));
            }

            var firstLog = daemon.Log;

            // Restart without the state file: everything comes from cgroupfs, hostile content included.
            daemon.Kill9();
            File.Delete(daemon.StateFile);
            File.Delete(daemon.StateFile + ".journal");
            daemon.Start();
            IReadOnlyList<Mapping> registry;
            await using (var client = await InteropClient.ConnectAsync(bus.Address))
            {
                registry = await client.ListContainersAsync();
                pruned.AddRange(await client.PruneAsync(dryRun: false).WaitAsync(TimeSpan.FromSeconds(60)));
            }

            var after = Existing(scratch, web.Child);
            var deepLeft = deep.Count(d => Shell($"cd -P '{d}' && for i in $(seq {depth}); do cd -P {LongName} || exit 1; done").Exit == 0);
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
        finally
        {
            foreach (var d in deep)
            {
                Shell($"cd -P '{d}' || exit 0; n=0; while cd -P {LongName} 2>/dev/null; do n=$((n+1)); done; while [ $n -gt 0 ]; do cd -P .. && rmdir {LongName}; n=$((n-1)); done");
            }
        }
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

    private static (int Exit, string Stdout, string Stderr) Shell(string script) => Tools.Run("sh", ["-c", script], timeoutMs: 120_000);
}
