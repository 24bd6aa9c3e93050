using System.Diagnostics;
using System.Threading.Channels;
using Interop.Core;
using Interop.Core.Model;
using Interop.Core.Service;
using Interop.DBus;
using Interop.ReliabilityTests.Infra;
using Interop.Service;

namespace Interop.ReliabilityTests;

/// <summary>kill -9 of interopd mid-burst, a bad state file, an unwritable state dir, cgroupfs writes the kernel refuses.</summary>
[TestFixture]
[NonParallelizable]
public sealed class FaultTests
{
    private const int Seed = 20_240_611;

    [Test]
    public async Task Kill9_at_random_points_loses_no_live_mapping_and_leaks_no_dir()
    {
        var kills = Tools.Soak ? 50 : 6;
        var n = Tools.Soak ? 200 : 32;
        using var rig = Rig.Start();
        var (scratch, bus, daemon, life) = rig;
        var containers = Enumerable.Range(0, n).Select(i => Lifecycles.Make(i, "rk-")).ToList();
        var random = new Random(Seed);

        // Kill points: after the k-th completed hook call (2 per container: started, released), plus 0-30 ms.
        var points = Enumerable.Range(0, kills).Select(_ => random.Next(1, 2 * n)).Order().ToList();
        var ops = Channel.CreateUnbounded<int>();
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        up.SetResult();
        var state = new DaemonGate(up.Task);
        var lost = new List<string>();
        var restartMs = new List<double>();
        var retries = 0;
        var compared = 0;

        var killer = Task.Run(async () =>
        {
            var count = 0;
            foreach (var point in points)
            {
                while (count < point && await ops.Reader.WaitToReadAsync())
                {
                    while (count < point && ops.Reader.TryRead(out _))
                    {
                        count++;
                    }
                }

                await Task.Delay(random.Next(0, 30));
                var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                state.Up = gate.Task;

                // What must survive: told registered, release not begun.
                var mustSurvive = containers.Where(c => c.Registered && c.Leader is { Alive: true }).ToList();
                daemon.Kill();
                var sw = Stopwatch.StartNew();
                daemon.StartServing();
                restartMs.Add(sw.Elapsed.TotalMilliseconds);
                await using (var probe = await InteropClient.ConnectAsync(bus.Address))
                {
                    // The whole record, not only name, leader and path (which adoption rebuilds anyway): uuid, source,
                    // since, namespace, state and every hierarchy's dir must be what the hook was told.
                    foreach (var c in mustSurvive)
                    {
                        string now;
                        try
                        {
                            now = Lifecycles.Whole(await probe.GetContainerAsync(c.Manager, c.Name));
                        }
                        catch (NoSuchContainerException)
                        {
                            now = "(not registered)";
                        }

                        if (c.Registered && c.Leader is { Alive: true } && now != Lifecycles.Whole(c.Told!))
                        {
                            lock (lost)
                            {
                                lost.Add($"kill at op {point}: {Lifecycles.Key(c)}: told {Lifecycles.Whole(c.Told!)}, now {now}");
                            }
                        }

                        compared++;
                    }
                }

                gate.SetResult();
            }
        });

        async Task Step(Func<IInteropClient, Task> call, ClientHolder holder)
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await call(await holder.GetAsync());
                    return;
                }
                catch (Exception e) when (e is DaemonUnreachableException or DaemonErrorException or Tmds.DBus.Protocol.DBusConnectionClosedException or Tmds.DBus.Protocol.DBusErrorReplyException or IOException or ObjectDisposedException && attempt < 50)
                {
                    Interlocked.Increment(ref retries);
                    await holder.ResetAsync();
                    await state.Up;
                }
            }
        }

        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            await using var holder = new ClientHolder(bus.Address);
            var mine = containers.Where((_, i) => i % 4 == w).ToList();
            foreach (var c in mine)
            {
                await Step(cl => life.PrepareAsync(cl, c), holder);
                life.Spawn(c);
                await Step(cl => life.RegisterAsync(cl, c), holder);
                await ops.Writer.WriteAsync(1);
            }

            foreach (var c in mine)
            {
                c.Registered = false;
                await Step(cl => life.ReleaseAsync(cl, c), holder);
                await ops.Writer.WriteAsync(1);
            }
        })).ToList();

        await Task.WhenAll(workers);
        ops.Writer.Complete();
        await killer;
        await using var check = await InteropClient.ConnectAsync(bus.Address);
        var after = life.Compare(await check.ListContainersAsync());
        restartMs.Sort();
        Figures.Report("faults", $"kill -9 of interopd {restartMs.Count} times (seed {Seed}) during {n} lifecycles from 4 clients: {compared} whole records compared after restarts, {lost.Count} lost or changed, {after.Count} differences after all releases, {retries} client retries, restart to serving p50 {Figures.Percentile(restartMs, 50):F0} ms, max {restartMs.LastOrDefault():F0} ms");
        Assert.Multiple(() =>
        {
            Assert.That(restartMs, Has.Count.EqualTo(kills));
            Assert.That(lost, Is.Empty, string.Join("\n", lost));
            Assert.That(after, Is.Empty);
        });
    }

    /// <remarks>
    /// A file cut at a line boundary can still be valid YAML with fewer entries; the snapshot's trailing entry count
    /// is what tells it from a shorter registry, so every damage below is detected and kept aside. The journal of
    /// the changes after that snapshot is kept aside with it (it would apply to a snapshot that is gone).
    /// </remarks>
    [TestCase("truncated-at-a-line", true)]
    [TestCase("garbage", true)]
    [TestCase("cut-inside-a-mapping", true)]
    public async Task A_bad_state_file_is_kept_aside_and_the_registry_rebuilt_from_cgroupfs(string damage, bool detectable)
    {
        using var rig = Rig.Start();
        var (scratch, bus, daemon, life) = rig;
        var containers = Enumerable.Range(0, 4).Select(i => Lifecycles.Make(i, "rs-")).ToList();
        await using (var client = await InteropClient.ConnectAsync(bus.Address))
        {
            foreach (var c in containers)
            {
                await life.StartAsync(client, c);
            }
        }

        daemon.Kill();
        var text = await File.ReadAllTextAsync(rig.StatePath);
        var bad = damage switch
        {
            "truncated-at-a-line" => text[..(text.IndexOf('\n', text.Length / 2) + 1)],
            "garbage" => "\u0001\u0002{[: :not yaml\u0000\n\t- - ]]\n",
            _ => text[..text.IndexOf('\n', text.Length / 3)] + "\n  - manager: [\n",
        };
        await File.WriteAllTextAsync(rig.StatePath, bad);
        daemon.StartServing();
        await using var check = await InteropClient.ConnectAsync(bus.Address);
        var registry = await check.ListContainersAsync();
        var differences = life.Compare(registry);
        var aside = Directory.GetFiles(Path.GetDirectoryName(rig.StatePath)!, "state.yaml.corrupt-*");
        Figures.Report("faults", $"state file {damage} ({bad.Length} bytes): kept aside as {aside.Length} file(s), {registry.Count} of {containers.Count} live containers back, {differences.Count} differences; log: {daemon.Log.Split('\n').LastOrDefault(l => l.Contains("reconcile: kept", StringComparison.Ordinal))?.Trim()}");
        Assert.Multiple(() =>
        {
            Assert.That(differences, Is.Empty, daemon.Log);
            if (detectable)
            {
                Assert.That(aside, Has.Length.EqualTo(1), daemon.Log);
                Assert.That(aside.Length == 1 ? File.ReadAllText(aside[0]) : null, Is.EqualTo(bad));
                Assert.That(daemon.Log, Does.Contain("kept at"));
            }
        });

        foreach (var c in containers)
        {
            await life.ReleaseAsync(check, c);
        }

        Assert.That(life.Compare(await check.ListContainersAsync()), Is.Empty);
    }

    [Test]
    public async Task A_crash_between_the_snapshot_rename_and_the_journal_removal_never_brings_back_older_state()
    {
        using var rig = Rig.Start();
        var (scratch, bus, daemon, life) = rig;
        var a = Lifecycles.Make(0, "rg-");
        var b = Lifecycles.Make(1, "rg-");
        await using (var client = await InteropClient.ConnectAsync(bus.Address))
        {
            foreach (var c in new[] { a, b })
            {
                await life.StartAsync(client, c);
            }
        }

        // The journal as it stands (b running), then a restart whose first change rewrites the snapshot (b stopping).
        daemon.Kill();
        var journal = rig.StatePath + ".journal";
        var oldJournal = await File.ReadAllBytesAsync(journal);
        daemon.StartServing();
        await using (var client = await InteropClient.ConnectAsync(bus.Address))
        {
            await client.StopContainerAsync(b.Manager, b.Name, life.FactsOf(b));
        }

        // A crash between the snapshot's rename and the journal's removal leaves the old journal beside the new snapshot.
        daemon.Kill();
        var removed = !File.Exists(journal);
        await File.WriteAllBytesAsync(journal, oldJournal);
        daemon.StartServing();
        await using var check = await InteropClient.ConnectAsync(bus.Address);
        var state = (await check.GetContainerAsync(b.Manager, b.Name)).State;
        Figures.Report("faults", $"old journal ({oldJournal.Length} bytes) beside a newer snapshot after a crash between rename and removal: {b.Name} reads back as {state.ToWire()} (was stopping), journal removed by the rewrite: {removed}; log: {daemon.Log.Split('\n').LastOrDefault(l => l.Contains("passed over", StringComparison.Ordinal))?.Trim()}");
        Assert.Multiple(() =>
        {
            Assert.That(removed, Is.True);
            Assert.That(state, Is.EqualTo(ContainerState.Stopping), daemon.Log);
        });

        await life.ReleaseAsync(check, a);
        await life.ReleaseAsync(check, b);
    }

    [TestCase("read-only")]
    [TestCase("full")]
    public async Task An_unwritable_state_dir_fails_no_call_and_keeps_the_registry_right(string how)
    {
        // Its own dir, so it can be mounted on before the rig starts and unmounted after the rig stopped.
        var stateDir = Directory.CreateTempSubdirectory("interop-rel-state-").FullName;
        var mounted = false;
        try
        {
            if (how == "full")
            {
                Mount("-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", stateDir);
                mounted = true;
            }

            using var rig = Rig.Start(stateDir: stateDir);
            var (_, bus, daemon, life) = rig;
            await using var client = await InteropClient.ConnectAsync(bus.Address);
            var first = Lifecycles.Make(0, "rw-");
            await life.StartAsync(client, first);
            var saved = await File.ReadAllTextAsync(rig.StatePath);

            if (how == "full")
            {
                Fill(Path.Combine(stateDir, "filler"));

                // A journal record can still fit in the journal's last page of a full file system; a daemon
                // (re)started there must write a whole snapshot first, and that cannot fit.
                daemon.Kill();
                daemon.StartServing();
            }
            else
            {
                Mount("--bind", stateDir, stateDir);
                mounted = true;
                Mount("-o", "remount,bind,ro", stateDir);
            }

            var second = Lifecycles.Make(1, "rw-");
            await life.StartAsync(client, second);
            var whileBroken = life.Compare(await client.ListContainersAsync());
            var byPid = await client.GetContainerByPidAsync((uint)second.Leader!.Pid);
            await life.ReleaseAsync(client, first);
            var afterRelease = life.Compare(await client.ListContainersAsync());
            var logged = daemon.Log.Split('\n').Count(l => l.Contains("cannot write", StringComparison.Ordinal));
            var writableWhileBroken = (await client.GetPropertiesAsync()).StateWritable;
            var statusWhileBroken = Cmd.Run(Binaries.Interopctl, ["--bus", bus.Address, "status"]);
            Figures.Report("faults", $"state dir {how}: 3 mutating calls answered, {logged} write failures logged, StateWritable {writableWhileBroken} and status DEGRADED: {statusWhileBroken.Stdout.Contains("DEGRADED", StringComparison.Ordinal)}, registry differences {whileBroken.Count}/{afterRelease.Count}, snapshot unchanged: {await File.ReadAllTextAsync(rig.StatePath) == saved}, daemon up: {daemon.Running}");
            Assert.Multiple(() =>
            {
                Assert.That(whileBroken, Is.Empty);
                Assert.That(afterRelease, Is.Empty);
                Assert.That(byPid.Name, Is.EqualTo(second.Name));
                Assert.That(logged, Is.GreaterThanOrEqualTo(2), daemon.Log);
                Assert.That(File.ReadAllText(rig.StatePath), Is.EqualTo(saved), "the old snapshot stays whole");
                Assert.That(() => new StateStore(rig.StatePath).Load(), Throws.Nothing, "what a restart would read is never torn");
                Assert.That(daemon.Running, Is.True);
                Assert.That(writableWhileBroken, Is.False, "the daemon says it is degraded");
                Assert.That(statusWhileBroken.Stdout, Does.Contain("DEGRADED"), statusWhileBroken.Stdout + statusWhileBroken.Stderr);
                Assert.That(statusWhileBroken.ExitCode, Is.EqualTo(1));
            });

            // Writable again: the next change writes the whole registry.
            if (how == "full")
            {
                File.Delete(Path.Combine(stateDir, "filler"));
            }
            else
            {
                Unmount(stateDir, how);
                mounted = false;
            }

            await life.ReleaseAsync(client, second);
            var snapshot = await File.ReadAllTextAsync(rig.StatePath);
            var caughtUp = Same(new StateStore(rig.StatePath).Load(), await client.ListContainersAsync());
            var writableAfter = (await client.GetPropertiesAsync()).StateWritable;
            Assert.Multiple(() =>
            {
                Assert.That(snapshot, Is.Not.EqualTo(saved), "the next change wrote a whole snapshot");
                Assert.That(caughtUp, Is.True, "the files on disk caught up");
                Assert.That(writableAfter, Is.True, "no longer degraded once a write succeeded");
                Assert.That(Cmd.Run(Binaries.Interopctl, ["--bus", bus.Address, "status"]).Stdout, Does.Contain("state file:   written"));
            });
        }
        finally
        {
            if (mounted)
            {
                Unmount(stateDir, how);
            }

            Directory.Delete(stateDir, recursive: true);
        }
    }

    [TestCase("cpuset.cpus", "999", 34)]
    [TestCase("pids.max", "lots", 22)]
    public async Task A_write_the_kernel_refuses_is_a_Cgroup_error_naming_file_and_errno(string key, string value, int errno)
    {
        using var rig = Rig.Start();
        var (scratch, bus, daemon, life) = rig;
        await using var client = await InteropClient.ConnectAsync(bus.Address);
        var c = Lifecycles.Make(0, "rc-");
        await life.StartAsync(client, c);
        var before = await client.GetValueAsync(c.Manager, c.Name, key).WaitAsync(TimeSpan.FromSeconds(20));

        var ex = Assert.ThrowsAsync<CgroupException>(() => client.SetValueAsync(c.Manager, c.Name, key, value).WaitAsync(TimeSpan.FromSeconds(20)));

        // The same call as any bus client sees it: the error name and a message naming the file and errno.
        var raw = Cmd.Run("dbus-send", ["--bus=" + bus.Address, "--print-reply", "--type=method_call", "--reply-timeout=10000", "--dest=org.interop.Interop1",
            ObjectPaths.ForContainer(c.Manager, c.Name), "org.interop.Interop1.Container.SetValue", "string:" + key, "string:" + value]);
        var after = await client.GetValueAsync(c.Manager, c.Name, key).WaitAsync(TimeSpan.FromSeconds(20));
        Figures.Report("faults", $"SetValue {key}='{value}': {raw.Stderr.Trim()} (value before/after: '{before}'/'{after}')");
        Assert.Multiple(() =>
        {
            Assert.That(ex!.ErrorName, Is.EqualTo("org.interop.Interop1.Error.Cgroup"));
            Assert.That(ex.Message, Does.Contain(key).And.Contain($"errno {errno}").Or.Contain("Invalid argument"));
            Assert.That(raw.ExitCode, Is.Not.Zero);
            Assert.That(raw.Stderr, Does.Contain("org.interop.Interop1.Error.Cgroup"), "what any bus client sees");
            Assert.That(after, Is.EqualTo(before), "nothing half done");
            Assert.That(daemon.Running, Is.True);
        });
        await life.ReleaseAsync(client, c);
    }

    private static void Mount(params string[] args)
    {
        var r = Cmd.Run("mount", args);
        Assert.That(r.ExitCode, Is.Zero, $"mount {string.Join(' ', args)}: {r.Stderr}");
    }

    private static void Unmount(string dir, string how)
    {
        var r = Cmd.Run("umount", [dir]);
        Assert.That(r.ExitCode, Is.Zero, $"umount {dir} ({how}): {r.Stderr}");
    }

    private static bool Same(IEnumerable<Mapping> a, IEnumerable<ContainerSummary> b)
        => a.Select(m => $"{m.Manager.ToWire()}/{m.Name}/{m.State.ToWire()}").Order(StringComparer.Ordinal)
            .SequenceEqual(b.Select(m => $"{m.Manager.ToWire()}/{m.Name}/{m.State.ToWire()}").Order(StringComparer.Ordinal));

    private static void Fill(string file)
    {
        using var f = File.Create(file);
        var block = new byte[4096];
        try
        {
            for (var i = 0; i < 1024; i++)
            {
                f.Write(block);
                f.Flush();
            }
        }
        catch (IOException)
        {
            // ENOSPC: full, as wanted.
            return;
        }

        Assert.Fail("the 64k tmpfs never filled up");
    }

    private sealed class DaemonGate
    {
        public DaemonGate(Task up)
        {
            Up = up;
        }

        public Task Up { get; set; }
    }

    /// <summary>A client connection that is made again after the daemon went away.</summary>
    private sealed class ClientHolder : IAsyncDisposable
    {
        private readonly string _address;
        private InteropClient? _client;

        public ClientHolder(string address)
        {
            _address = address;
        }

        public async Task<IInteropClient> GetAsync() => _client ??= await InteropClient.ConnectAsync(_address);

        public async Task ResetAsync()
        {
            if (_client is not null)
            {
                await _client.DisposeAsync();
                _client = null;
            }
        }

        public ValueTask DisposeAsync() => new(ResetAsync());
    }
}
