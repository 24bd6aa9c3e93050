using BenchmarkDotNet.Attributes;
using Interop.Core.Adapters;
using Interop.Core.Adapters.Libvirt;
using Interop.Core.Adapters.Lxc;
using Interop.Core.Config;
using Interop.Core.Model;
using Interop.Service;

namespace Interop.Benchmarks;

/// <summary>
/// interopd's read paths in process, over the real <see cref="LinuxCgroupHost"/> and a registry loaded by the
/// real reconcile from the state file tools/bench.sh generated for live leaders (one thread per container).
/// </summary>
/// <remarks>
/// Set by tools/bench.sh: INTEROP_BENCH_SHARED_ROOT, INTEROP_BENCH_BOUNDARY, INTEROP_BENCH_STATE (a copy:
/// reconcile rewrites it) and INTEROP_BENCH_PID (a leader in the middle of the registry).
/// </remarks>
public class RegistryBenchmarks : IDisposable
{
    private InteropService? _service;
    private uint _pid;

    [GlobalSetup]
    public void Setup()
    {
        var config = new InteropConfig
        {
            SharedRoot = Required("INTEROP_BENCH_SHARED_ROOT"),
            Boundary = Required("INTEROP_BENCH_BOUNDARY"),
            StateFile = Required("INTEROP_BENCH_STATE"),
            ReaperInterval = TimeSpan.Zero,
        };
        _pid = uint.Parse(Required("INTEROP_BENCH_PID"), System.Globalization.CultureInfo.InvariantCulture);
        var layouts = new Dictionary<Manager, IContainerLayout>
        {
            [Manager.Lxc] = new LxcLayout(),
            [Manager.Libvirt] = new LibvirtLayout(LibvirtNames.ControllerTokens(File.ReadAllText("/proc/cgroups"))),
        };
        _service = new InteropService(LinuxCgroupHost.FromHost(config.SharedRoot, config.Boundary), config, new StateStore(config.StateFile), layouts);
        var report = _service.ReconcileAsync().GetAwaiter().GetResult();
        if (report.Kept.Count == 0)
        {
            throw new InvalidOperationException($"reconcile kept no container from {config.StateFile}");
        }

        // Fail here, not in a measured call, when the pid is not registered.
        _ = _service.GetContainerByPid(_pid);
    }

    [Benchmark]
    public Mapping GetContainerByPid() => _service!.GetContainerByPid(_pid);

    [Benchmark]
    public int ListContainers() => _service!.ListContainers().Count;

    [GlobalCleanup]
    public void Cleanup() => Dispose();

    public void Dispose()
    {
        _service?.Dispose();
        _service = null;
        GC.SuppressFinalize(this);
    }

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : throw new InvalidOperationException($"{name} is not set (run tools/bench.sh)");
}
