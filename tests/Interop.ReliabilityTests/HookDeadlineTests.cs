using System.Diagnostics;
using Interop.ReliabilityTests.Infra;

namespace Interop.ReliabilityTests;

/// <summary>
/// A hook never blocks a container start without bound (issue 12, point 6): the real interopctl against a "bus"
/// that authenticates and then trickles signals forever, each well within any per-read timeout.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class HookDeadlineTests
{
    [Test]
    public async Task A_hook_against_a_bus_that_trickles_signals_gives_up_at_its_deadline_with_one_line()
    {
        await using var peer = new ScriptedBusPeer(ScriptedBusPeer.AuthOk) { SignalEvery = TimeSpan.FromMilliseconds(200) };
        var started = Stopwatch.StartNew();
        var hook = Cmd.Run(Binaries.Interopctl, ["hook", "lxc", "web", "lxc", "pre-start"],
            env: new Dictionary<string, string?> { ["INTEROP_BUS_ADDRESS"] = peer.Address }, timeout: TimeSpan.FromSeconds(90));
        var elapsed = started.Elapsed;
        var signals = peer.SignalsSent;
        var lines = hook.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Figures.Report("hook-deadline", $"interopctl hook lxc pre-start against a bus trickling a signal every 200 ms: gave up after {elapsed.TotalSeconds:F1} s ({signals} signals meanwhile), exit {hook.ExitCode}, {lines.Length} stderr line(s): '{lines.FirstOrDefault()}'");
        Assert.Multiple(() =>
        {
            Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(45)), "one deadline (30 s) for the whole call");
            Assert.That(hook.ExitCode, Is.Not.Zero, "a pre-start that got no answer aborts the start");
            Assert.That(lines, Has.Length.EqualTo(1), hook.Stderr);
            Assert.That(hook.Stderr, Does.Contain("did not answer").And.Contain("timed out").And.Not.Contain("not running"));
        });
    }
}
