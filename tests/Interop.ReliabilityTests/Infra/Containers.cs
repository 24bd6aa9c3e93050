using System.Collections.Concurrent;
using Interop.Core.Model;
using Interop.DBus;

namespace Interop.ReliabilityTests.Infra;

/// <summary>One simulated container: half LXC-style (lxc.payload.NAME), half libvirt-style (lxc-PID-NAME.libvirt-lxc).</summary>
internal sealed class SimContainer
{
    public SimContainer(Manager manager, string name)
    {
        Manager = manager;
        Name = name;
    }

    public Manager Manager { get; }

    public string Name { get; }

    public Leader? Leader { get; set; }

    public string Child { get; set; } = "";

    public bool Registered { get; set; }

    /// <summary>The whole record the daemon answered RegisterContainer with: what must survive, field by field.</summary>
    public Mapping? Told { get; set; }
}

/// <summary>Drives the hook sequence a manager would: prepare, the manager's own mkdir + move, started, stop, release.</summary>
internal sealed class Lifecycles
{
    private readonly ScratchRoot _scratch;

    public Lifecycles(ScratchRoot scratch)
    {
        _scratch = scratch;
        LibvirtFacts = new Dictionary<string, string> { [FactKeys.Partition] = scratch.SharedRoot };
    }

    public IReadOnlyDictionary<string, string> LibvirtFacts { get; }

    public ConcurrentDictionary<string, SimContainer> Live { get; } = new(StringComparer.Ordinal);

    /// <summary>libvirt's facts: the partition, and a uuid per domain (a field adoption cannot rebuild).</summary>
    public IReadOnlyDictionary<string, string> FactsOf(SimContainer c) => c.Manager == Manager.Libvirt
        ? new Dictionary<string, string>(LibvirtFacts) { [FactKeys.Uuid] = UuidOf(c.Name) }
        : new Dictionary<string, string>();

    public static string UuidOf(string name) =>
        new Guid(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(name))).ToString();

    /// <summary>Every field of a mapping, paths sorted: two records are the same when these are.</summary>
    public static string Whole(Mapping m) =>
        $"{m.Manager.ToWire()}/{m.Name} uuid={m.Uuid} state={m.State.ToWire()} leader={m.Leader} path={m.CgroupPath} since={m.Since} ns={m.CgroupNamespace} source={m.Source} paths=[{string.Join(",", m.Paths.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value))}]";

    public static SimContainer Make(int i, string prefix) =>
        new(i % 2 == 0 ? Manager.Lxc : Manager.Libvirt, $"{prefix}{i:D4}");

    public async Task PrepareAsync(IInteropClient client, SimContainer c) =>
        await client.PrepareContainerAsync(c.Manager, c.Name, FactsOf(c));

    /// <summary>What the manager itself does between prepare and started: make the dirs, put the leader in.</summary>
    public void Spawn(SimContainer c)
    {
        if (c.Leader is not null)
        {
            return;
        }

        var leader = _scratch.StartLeader();
        c.Child = c.Manager == Manager.Lxc ? $"lxc.payload.{c.Name}" : $"lxc-{leader.Pid}-{c.Name}.libvirt-lxc";
        _scratch.Enter(leader, c.Child);
        c.Leader = leader;
    }

    /// <summary>A container start as its manager runs it: the prepare hook, <see cref="Spawn"/>, the started hook.</summary>
    public async Task<Mapping> StartAsync(IInteropClient client, SimContainer c)
    {
        await PrepareAsync(client, c);
        Spawn(c);
        return await RegisterAsync(client, c);
    }

    public async Task<Mapping> RegisterAsync(IInteropClient client, SimContainer c)
    {
        await client.RegisterContainerAsync(c.Manager, c.Name, (uint)c.Leader!.Pid, FactsOf(c));
        // RegisterContainer answers with the object path; the whole record is what the daemon then says it holds.
        c.Told = await client.GetContainerAsync(c.Manager, c.Name);
        c.Registered = true;
        Live[Key(c)] = c;
        return c.Told;
    }

    /// <summary>The manager's stop: the leader dies and is reaped, then stop and release hooks run.</summary>
    public async Task ReleaseAsync(IInteropClient client, SimContainer c)
    {
        c.Leader?.Stop();
        await client.StopContainerAsync(c.Manager, c.Name, FactsOf(c));
        await client.ReleaseContainerAsync(c.Manager, c.Name, FactsOf(c));
        Live.TryRemove(Key(c), out _);
        c.Registered = false;
    }

    public static string Key(SimContainer c) => $"{c.Manager.ToWire()}/{c.Name}";

    /// <summary>
    /// The registry against the truth: every live leader registered with its real path (read from /proc), nothing
    /// registered that is gone, and the shared root holds exactly the live containers' dirs. Returns the problems.
    /// </summary>
    public List<string> Compare(IReadOnlyList<ContainerSummary> registry)
    {
        var problems = new List<string>();
        var byKey = registry.ToDictionary(m => $"{m.Manager.ToWire()}/{m.Name}", StringComparer.Ordinal);
        foreach (var c in Live.Values)
        {
            var key = Key(c);
            if (c.Leader is not { Alive: true })
            {
                continue;
            }

            if (!byKey.TryGetValue(key, out var m))
            {
                problems.Add($"lost: {key} (leader {c.Leader.Pid}) is alive but not registered");
                continue;
            }

            var expected = $"{_scratch.SharedRoot}/{c.Child}";
            var proc = File.ReadAllLines($"/proc/{c.Leader.Pid}/cgroup");
            if (!proc.Any(l => l.EndsWith(":" + expected, StringComparison.Ordinal)))
            {
                problems.Add($"{key}: /proc/{c.Leader.Pid}/cgroup does not show {expected}");
            }

            if (m.Leader != c.Leader.Pid || m.CgroupPath != expected)
            {
                problems.Add($"{key}: registered as leader {m.Leader} at {m.CgroupPath}, truth is {c.Leader.Pid} at {expected}");
            }
        }

        foreach (var m in registry)
        {
            var key = $"{m.Manager.ToWire()}/{m.Name}";
            if (!Live.TryGetValue(key, out var c) || c.Leader is not { Alive: true })
            {
                problems.Add($"ghost: {key} is registered (leader {m.Leader}, {m.CgroupPath}) but is gone");
            }
        }

        var expectedDirs = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var c in Live.Values.Where(c => c.Leader is { Alive: true }))
        {
            foreach (var h in _scratch.LeaderHierarchies)
            {
                expectedDirs.Add($"{h.Key}:{c.Child}");
            }
        }

        var actual = _scratch.ChildrenOfSharedRoot();
        foreach (var leak in actual.Except(expectedDirs))
        {
            problems.Add($"leaked dir under the shared root: {leak}");
        }

        foreach (var missing in expectedDirs.Except(actual))
        {
            problems.Add($"missing dir of a live container: {missing}");
        }

        return problems;
    }
}
