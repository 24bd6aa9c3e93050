using Interop.DBus;
using Interop.ReliabilityTests.Infra;

namespace Interop.ReliabilityTests;

/// <summary>One daemon per state (issue 12, point 5): a second interopd finds the state locked and exits with one line.</summary>
[TestFixture]
[NonParallelizable]
public sealed class SecondDaemonTests
{
    [Test]
    public async Task A_second_interopd_on_the_same_state_exits_with_one_line_before_touching_anything()
    {
        using var rig = Rig.Start();
        var (scratch, bus, daemon, life) = rig;
        var c = Lifecycles.Make(0, "sd-");
        await using (var client = await InteropClient.ConnectAsync(bus.Address))
        {
            await life.StartAsync(client, c);
        }

        // Something a second daemon's reconcile would rewrite if it ran: a leftover state entry whose leader is gone.
        var stateDir = Path.GetDirectoryName(rig.StatePath)!;
        var before = Directory.GetFiles(stateDir, "state.yaml*").Where(f => !f.EndsWith(".lock", StringComparison.Ordinal))
            .ToDictionary(f => f, f => (File.ReadAllBytes(f), File.GetLastWriteTimeUtc(f)), StringComparer.Ordinal);
        var dirsBefore = scratch.SnapshotDirs();

        var second = Cmd.Run(Binaries.Interopd, ["--config", rig.ConfigPath, "--bus", bus.Address, "--log-config", Path.Combine(scratch.TempDir, "no-nlog.config")], timeout: TimeSpan.FromSeconds(30));
        var lines = second.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        var after = Directory.GetFiles(stateDir, "state.yaml*").Where(f => !f.EndsWith(".lock", StringComparison.Ordinal))
            .ToDictionary(f => f, f => (File.ReadAllBytes(f), File.GetLastWriteTimeUtc(f)), StringComparer.Ordinal);
        var unchanged = before.Count == after.Count && before.All(b => after.TryGetValue(b.Key, out var a) && a.Item1.SequenceEqual(b.Value.Item1) && a.Item2 == b.Value.Item2);
        await using var check = await InteropClient.ConnectAsync(bus.Address);
        var registry = await check.ListContainersAsync();

        // The lock goes with the process, kill -9 included: a restart is never blocked by a stale lock file.
        daemon.Kill();
        daemon.StartServing();
        await using var again = await InteropClient.ConnectAsync(bus.Address);
        var restarted = await again.ListContainersAsync();
        Figures.Report("second-daemon", $"second interopd on the same state: exit {second.ExitCode}, {lines.Length} stderr line(s): '{lines.FirstOrDefault()}'; state files unchanged: {unchanged}; first daemon still serving {registry.Count} container(s); after kill -9 of the first a new one starts and serves {restarted.Count}");
        Assert.Multiple(() =>
        {
            Assert.That(second.ExitCode, Is.EqualTo(1));
            Assert.That(lines, Has.Length.EqualTo(1), second.Stderr);
            Assert.That(lines.FirstOrDefault(), Does.Contain("another interopd (pid ").And.Contain(".lock"));
            Assert.That(second.Stdout, Is.Empty);
            Assert.That(unchanged, Is.True, "the second daemon neither read-modified nor wrote the state");
            Assert.That(scratch.SnapshotDirs(), Is.EqualTo(dirsBefore));
            Assert.That(registry.Select(m => m.Name), Is.EqualTo(new[] { c.Name }));
            Assert.That(restarted.Select(m => m.Name), Is.EqualTo(new[] { c.Name }));
        });
        await life.ReleaseAsync(again, c);
    }
}
