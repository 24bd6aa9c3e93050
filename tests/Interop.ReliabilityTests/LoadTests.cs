using System.Diagnostics;
using Interop.Core;
using Interop.DBus;
using Interop.ReliabilityTests.Infra;

namespace Interop.ReliabilityTests;

/// <summary>Container lifecycles from 8 parallel clients mixed with readers; the registry must equal cgroupfs and /proc.</summary>
[TestFixture]
[NonParallelizable]
public sealed class LoadTests
{
    private const int Clients = 8;

    [Test]
    public async Task Parallel_lifecycles_leave_the_registry_equal_to_the_truth()
    {
        var n = Tools.Soak ? 240 : 50;
        using var rig = Rig.Start();
        var (scratch, bus, daemon, life) = rig;
        var containers = Enumerable.Range(0, n).Select(i => Lifecycles.Make(i, "rl-")).ToList();

        // The last container of each client stays running, so the final comparison has live containers in it.
        var keep = Enumerable.Range(0, Clients).Select(w => containers.Where((_, i) => i % Clients == w).Last()).ToHashSet();
        using var done = new CancellationTokenSource();
        var listLatency = new List<double>();
        var byPidLatency = new List<double>();
        var readerErrors = new List<string>();
        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(() => ReadAsync(bus.Address, life, r == 0 ? listLatency : byPidLatency, r == 0, readerErrors, done.Token))).ToList();

        var sw = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, Clients).Select(w => Task.Run(async () =>
        {
            await using var client = await InteropClient.ConnectAsync(bus.Address);
            foreach (var c in containers.Where((_, i) => i % Clients == w))
            {
                await life.PrepareAsync(client, c);
                life.Spawn(c);
                var m = await life.RegisterAsync(client, c);
                Assert.That(m.Leader, Is.EqualTo(c.Leader!.Pid));
                if (!keep.Contains(c))
                {
                    await life.ReleaseAsync(client, c);
                }
            }
        })).ToList();
        await Task.WhenAll(workers);
        sw.Stop();
        await done.CancelAsync();
        await Task.WhenAll(readers);

        await using var check = await InteropClient.ConnectAsync(bus.Address);
        var live = life.Compare(await check.ListContainersAsync());
        foreach (var c in keep)
        {
            await life.ReleaseAsync(check, c);
        }

        var afterRelease = life.Compare(await check.ListContainersAsync());
        listLatency.Sort();
        byPidLatency.Sort();
        Figures.Report("load", $"{n} lifecycles (prepare, started, stop, released; half lxc, half libvirt) from {Clients} clients in {sw.Elapsed.TotalSeconds:F2} s: {n / sw.Elapsed.TotalSeconds:F1} lifecycles/s");
        Figures.Report("load", $"ListContainers during load: {listLatency.Count} calls, p50 {Figures.Percentile(listLatency, 50):F2} ms, p99 {Figures.Percentile(listLatency, 99):F2} ms, max {listLatency.LastOrDefault():F2} ms");
        Figures.Report("load", $"GetContainerByPid during load: {byPidLatency.Count} calls, p50 {Figures.Percentile(byPidLatency, 50):F2} ms, p99 {Figures.Percentile(byPidLatency, 99):F2} ms, max {byPidLatency.LastOrDefault():F2} ms");
        Figures.Report("load", $"registry vs cgroupfs+/proc with {keep.Count} live: {live.Count} differences; after releasing them: {afterRelease.Count} differences; reader errors: {readerErrors.Count}");
        Assert.Multiple(() =>
        {
            Assert.That(live, Is.Empty, "with live containers");
            Assert.That(afterRelease, Is.Empty, "after every release");
            Assert.That(readerErrors, Is.Empty);
            Assert.That(daemon.Running, Is.True);
        });
    }

    private static async Task ReadAsync(string address, Lifecycles life, List<double> latency, bool list, List<string> errors, CancellationToken token)
    {
        await using var client = await InteropClient.ConnectAsync(address);
        var random = new Random(7);
        while (!token.IsCancellationRequested)
        {
            var sw = Stopwatch.StartNew();
            try
            {
                if (list)
                {
                    _ = await client.ListContainersAsync();
                }
                else
                {
                    var live = life.Live.Values.ToList();
                    if (live.Count == 0)
                    {
                        _ = await client.ListContainersAsync();
                        continue;
                    }

                    var c = live[random.Next(live.Count)];
                    var m = await client.GetContainerByPidAsync((uint)c.Leader!.Pid);
                    if (m.Name != c.Name || m.Manager != c.Manager)
                    {
                        lock (errors)
                        {
                            errors.Add($"pid {c.Leader.Pid} of {Lifecycles.Key(c)} answered as {m.Manager}/{m.Name}");
                        }
                    }
                }

                latency.Add(sw.Elapsed.TotalMilliseconds);
            }
            catch (NoSuchContainerException)
            {
                // Released between the pick and the call.
                latency.Add(sw.Elapsed.TotalMilliseconds);
            }
            catch (Exception e) when (e is InteropException or IOException)
            {
                lock (errors)
                {
                    errors.Add(e.Message);
                }
            }
        }
    }
}
