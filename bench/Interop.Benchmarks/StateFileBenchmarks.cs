using BenchmarkDotNet.Attributes;
using Interop.Core.Model;
using Interop.Service;

namespace Interop.Benchmarks;

/// <summary>
/// The state file at 10,000 mappings: a snapshot write (<see cref="StateStore.Save"/>: format, temp file, rename)
/// and a read (<see cref="StateStore.Load"/>: what start-up reconcile pays), in a temp dir. Needs no root and no
/// cgroups: `dotnet run -c Release --project bench/Interop.Benchmarks -- state`.
/// </summary>
public class StateFileBenchmarks : IDisposable
{
    private const int Count = 10_000;
    private string _dir = "";
    private StateStore? _store;
    private List<Mapping> _mappings = [];

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("interop-bench-state.").FullName;
        _mappings = [.. Enumerable.Range(0, Count).Select(Make)];
        _store = new StateStore(Path.Combine(_dir, "state.yaml"));
        _store.Save(_mappings);
        _store.Flush();
    }

    [Benchmark]
    public void SaveSnapshot() => _store!.Save(_mappings);

    [Benchmark]
    public int LoadSnapshot() => _store!.Load().Count;

    [GlobalCleanup]
    public void Cleanup() => Dispose();

    public void Dispose()
    {
        if (_dir.Length > 0)
        {
            _store?.Flush();
            Directory.Delete(_dir, recursive: true);
            _dir = "";
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Half LXC, half libvirt, each with a dir in three hierarchies: the shape of the registry make bench builds.</summary>
    private static Mapping Make(int i)
    {
        var lxc = i % 2 == 0;
        var name = $"bench-{i:D5}";
        var cgroup = lxc ? $"/interop/machine.d/lxc.payload.{name}" : $"/interop/machine.d/machine-lxc\\x2d{i}\\x2d{name}.scope";
        var paths = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["cpuset"] = "/sys/fs/cgroup/cpuset" + cgroup,
            ["cpu,cpuacct"] = "/sys/fs/cgroup/cpu,cpuacct" + cgroup,
            ["memory"] = "/sys/fs/cgroup/memory" + cgroup,
        };
        return new Mapping(
            lxc ? Manager.Lxc : Manager.Libvirt,
            name,
            lxc ? "" : $"{i:D8}-7e57-4000-8000-000000000000",
            ContainerState.Running,
            100_000 + i,
            cgroup,
            paths,
            1_764_547_200_000_000UL + (ulong)i,
            CgroupNamespaceKind.Private,
            i % 3 == 0 ? MappingSource.Adopted : MappingSource.Hook);
    }
}
