using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
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
        using var scratch = new ScratchRoot();
        var path = Path.Combine(scratch.TempDir, "trickle-bus");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(4);
        using var stop = new CancellationTokenSource();
        var signals = 0;
        var peer = Task.Run(async () =>
        {
            using var s = await listener.AcceptAsync(stop.Token);
            var buffer = new byte[4096];
            var seen = new List<byte>();
            while (seen.ToArray().AsSpan().IndexOf("BEGIN\r\n"u8) < 0)
            {
                var n = await s.ReceiveAsync(buffer, stop.Token);
                if (n == 0)
                {
                    return;
                }

                seen.AddRange(buffer.AsSpan(0, n));
            }

            await s.SendAsync("OK 0123456789abcdef0123456789abcdef\r\n"u8.ToArray(), stop.Token);
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    await s.SendAsync(Signal(), stop.Token);
                    Interlocked.Increment(ref signals);
                    await Task.Delay(200, stop.Token);
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                // interopctl gave up and closed the connection, or the test ended.
            }
        });

        var started = Stopwatch.StartNew();
        var hook = Tools.Run(Tools.Interopctl, ["hook", "lxc", "web", "lxc", "pre-start"],
            env: new Dictionary<string, string> { ["INTEROP_BUS_ADDRESS"] = "unix:path=" + path }, timeoutMs: 90_000);
        var elapsed = started.Elapsed;
        await stop.CancelAsync();
        await peer.WaitAsync(TimeSpan.FromSeconds(10));
        var lines = hook.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Figures.Report("hook-deadline", $"interopctl hook lxc pre-start against a bus trickling a signal every 200 ms: gave up after {elapsed.TotalSeconds:F1} s ({signals} signals meanwhile), exit {hook.Exit}, {lines.Length} stderr line(s): '{lines.FirstOrDefault()}'");
        Assert.Multiple(() =>
        {
            Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(45)), "one deadline (30 s) for the whole call");
            Assert.That(hook.Exit, Is.Not.Zero, "a pre-start that got no answer aborts the start");
            Assert.That(lines, Has.Length.EqualTo(1), hook.Stderr);
            Assert.That(hook.Stderr, Does.Contain("timed out"));
        });
    }

    /// <summary>A little-endian SIGNAL with a member field and no body (what a bus may send at any time).</summary>
    private static byte[] Signal()
    {
        var m = new byte[32];
        m[0] = (byte)'l';
        m[1] = 4;
        m[3] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(8), 3);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(12), 13);
        m[16] = 3;
        m[17] = 1;
        m[18] = (byte)'s';
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(20), 4);
        "Ping"u8.CopyTo(m.AsSpan(24));
        return m;
    }
}
