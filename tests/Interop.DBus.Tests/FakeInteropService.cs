using Interop.Core;
using Interop.Core.Model;
using Interop.Core.Service;

namespace Interop.DBus.Tests;

/// <summary>A registry in memory that records the mutating calls it receives.</summary>
internal sealed class FakeInteropService : IInteropService
{
    public List<Mapping> Containers { get; } = [];

    public List<string> Calls { get; } = [];

    public Exception? ThrowOnNextCall { get; set; }

    public string Version { get; set; } = "0.1.0";

    public string CgroupMode { get; set; } = "hybrid";

    public string SharedRoot { get; set; } = "/machine";

    public IReadOnlyList<HierarchyInfo> Hierarchies { get; set; } =
        [new("cpuset", "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/cpuset/machine"), new("name=systemd", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/systemd/machine")];

    public uint ContainerCount => (uint)Containers.Count;

    public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

    public event EventHandler<ContainerEventArgs>? ContainerAdded;

    public event EventHandler<ContainerEventArgs>? ContainerRemoved;

    public event EventHandler<ContainerEventArgs>? ContainerChanged;

    public static Mapping Sample(Manager manager, string name, int leader = 4242) => new(
        manager,
        name,
        manager == Manager.Libvirt ? "0c9f1c4e-6f7d-4a4b-9a51-2f2d0e1f9a10" : string.Empty,
        ContainerState.Running,
        leader,
        $"/machine/lxc.payload.{name}",
        new Dictionary<string, string> { ["cpuset"] = $"/sys/fs/cgroup/cpuset/machine/lxc.payload.{name}", ["name=systemd"] = $"/sys/fs/cgroup/systemd/machine/lxc.payload.{name}" },
        1_700_000_000_000_000UL,
        CgroupNamespaceKind.Private,
        MappingSource.Hook);

    public void RaiseAdded(Mapping m) => ContainerAdded?.Invoke(this, new ContainerEventArgs(m));

    public void RaiseRemoved(Mapping m) => ContainerRemoved?.Invoke(this, new ContainerEventArgs(m));

    public void RaiseChanged(Mapping m) => ContainerChanged?.Invoke(this, new ContainerEventArgs(m));

    /// <summary>The name of the thread the last ListContainers ran on.</summary>
    public string? ListedOn { get; private set; }

    public IReadOnlyList<Mapping> ListContainers()
    {
        ListedOn = Thread.CurrentThread.Name;
        MaybeThrow();
        return Containers.ToList();
    }

    public Mapping GetContainer(Manager manager, string name)
    {
        MaybeThrow();
        return Containers.FirstOrDefault(m => m.Manager == manager && m.Name == name)
            ?? throw new NoSuchContainerException($"{manager.ToWire()}/{name}");
    }

    public Mapping GetContainerByPid(uint pid)
    {
        MaybeThrow();
        return Containers.FirstOrDefault(m => m.Leader == pid) ?? throw new NoSuchContainerException($"pid {pid}");
    }

    public Mapping GetContainerByCgroup(string path)
    {
        MaybeThrow();
        return Containers.FirstOrDefault(m => path.StartsWith(m.CgroupPath, StringComparison.Ordinal)) ?? throw new NoSuchContainerException($"cgroup {path}");
    }

    /// <summary>When set, Prepare waits for it (as the real service waits for its turn), honouring the call's token.</summary>
    public TaskCompletionSource? PrepareTurn { get; set; }

    /// <summary>Completes when a Prepare call starts waiting for <see cref="PrepareTurn"/>.</summary>
    public TaskCompletionSource PrepareWaiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task PrepareContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default)
    {
        Record($"Prepare {manager.ToWire()} {name} {Facts(facts)}");
        if (PrepareTurn is { } turn)
        {
            PrepareWaiting.TrySetResult();
            await turn.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<Mapping> RegisterContainerAsync(Manager manager, string name, uint leader, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default)
    {
        Record($"Register {manager.ToWire()} {name} {leader} {Facts(facts)}");
        await Task.Yield();
        var mapping = Sample(manager, name, (int)leader);
        Containers.Add(mapping);
        return mapping;
    }

    public Task<bool> ReleaseContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default)
    {
        Record($"Release {manager.ToWire()} {name} {Facts(facts)}");
        return Task.FromResult(Containers.RemoveAll(m => m.Manager == manager && m.Name == name) > 0);
    }

    public Task StopContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default)
    {
        Record($"Stop {manager.ToWire()} {name} {Facts(facts)}");
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> SetupAsync(CancellationToken cancellationToken = default)
    {
        Record("Setup");
        return Task.FromResult<IReadOnlyList<string>>(["cpuset: created /machine", "cpuset: clone_children=1 on /machine"]);
    }

    public Task<IReadOnlyList<string>> PruneAsync(bool dryRun, CancellationToken cancellationToken = default)
    {
        Record($"Prune {dryRun}");
        return Task.FromResult<IReadOnlyList<string>>(["/sys/fs/cgroup/cpuset/machine/lxc.payload.old"]);
    }

    public string GetValue(Manager manager, string name, string key)
    {
        MaybeThrow();
        GetContainer(manager, name);
        return Values.TryGetValue(key, out var v) ? v : throw new InvalidInputException("key", $"'{key}' is not a cgroup key");
    }

    public Task SetValueAsync(Manager manager, string name, string key, string value, CancellationToken cancellationToken = default)
    {
        Record($"SetValue {manager.ToWire()} {name} {key}={value}");
        GetContainer(manager, name);
        Values[key] = value;
        return Task.CompletedTask;
    }

    public IReadOnlyList<uint> GetTasks(Manager manager, string name)
    {
        MaybeThrow();
        var m = GetContainer(manager, name);
        return [(uint)m.Leader, (uint)m.Leader + 1];
    }

    private static string Facts(IReadOnlyDictionary<string, string> facts)
        => string.Join(",", facts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));

    private void Record(string call)
    {
        lock (Calls)
        {
            Calls.Add(call);
        }

        MaybeThrow();
    }

    private void MaybeThrow()
    {
        var ex = ThrowOnNextCall;
        if (ex is not null)
        {
            ThrowOnNextCall = null;
            throw ex;
        }
    }
}
