// Implementation notes
// - The one definition of Interop's metric families (docs/metrics.md). Both ways out export this registry: interopd's
//   /metrics (MetricsServer) and the D-Bus method GetMetrics, which `interopctl metrics` writes to stdout or to
//   node_exporter's textfile dir. So the HTTP scrape and the textfile cannot drift, and interopctl (NativeAOT) never
//   links prometheus-net.
// - Per-container figures are read on scrape, in a before-collect callback: between scrapes they cost nothing. The
//   callback takes a snapshot of the registry (a short lock, never the hooks' gate) and reads cgroupfs outside it, so
//   a scrape never delays a hook. Scrapes are serialized among themselves (one lock around the callback).
// - A container that went away, or whose labels changed (state, a libvirt restart's new cgroup), has its old series
//   removed; a counter that went backwards (the cgroup was recreated) is recreated, so it never decreases.
using System.Diagnostics;
using System.Text;
using Interop.Core.Model;
using Interop.Linux.Cgroups;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace Interop.Service.Metrics;

/// <summary>Interop's metric families in a prometheus-net registry, and the service's counters.</summary>
public sealed class InteropMetrics : IServiceMetrics
{
    /// <summary>Labels of every per-container value series.</summary>
    public static readonly string[] ContainerLabels = ["manager", "name", "id"];

    /// <summary>Labels of interop_container_info.</summary>
    public static readonly string[] InfoLabels = ["manager", "name", "state", "unit", "id"];

    private readonly ILogger _log;
    private static readonly string[] States = ["prepared", "running", "stopping"];

    private readonly Func<IReadOnlyList<Mapping>> _containers;
    private readonly Func<Mapping, ContainerUsage> _usage;
    private readonly Action? _afterRead;
    private readonly Lock _collect = new();
    private readonly Dictionary<ContainerId, Series> _known = [];

    private readonly Gauge _info;
    private readonly Counter _cpu;
    private readonly Gauge _memory;
    private readonly Gauge _memoryLimit;
    private readonly Gauge _pids;
    private readonly Counter _ioRead;
    private readonly Counter _ioWrite;
    private readonly Gauge _containersByState;
    private readonly Counter _hookCalls;
    private readonly Histogram _hookDuration;
    private readonly Gauge _reconcile;
    private readonly Counter _stateWriteFailures;
    private readonly Counter _reaperRemoved;
    private readonly Gauge _collectDuration;

    /// <param name="containers">The registry right now (a snapshot; InteropService.ListContainers).</param>
    /// <param name="usage">Reads a container's usage (<see cref="ForHost"/> on the real host; tests hand in figures).</param>
    /// <param name="afterRead">Runs after each scrape's reads (UsageReader.Sweep: close the files of containers that are gone).</param>
    /// <param name="log">Where it logs (nothing when null).</param>
    public InteropMetrics(Func<IReadOnlyList<Mapping>> containers, Func<Mapping, ContainerUsage> usage, Action? afterRead = null, ILogger<InteropMetrics>? log = null)
    {
        _log = log ?? NullLogger<InteropMetrics>.Instance;
        _afterRead = afterRead;
        _containers = containers;
        _usage = usage;
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        _info = f.CreateGauge("interop_container_info", "A container Interop knows, always 1; id is its cgroup path as cAdvisor labels it.", InfoLabels);
        _cpu = f.CreateCounter("interop_container_cpu_seconds_total", "CPU time the container's cgroup used.", ContainerLabels);
        _memory = f.CreateGauge("interop_container_memory_bytes", "Memory charged to the container's cgroup, page cache included.", ContainerLabels);
        _memoryLimit = f.CreateGauge("interop_container_memory_limit_bytes", "The container's memory limit; absent when it has none.", ContainerLabels);
        _pids = f.CreateGauge("interop_container_pids", "Tasks in the container's cgroup.", ContainerLabels);
        _ioRead = f.CreateCounter("interop_container_io_read_bytes_total", "Bytes the container read from block devices.", ContainerLabels);
        _ioWrite = f.CreateCounter("interop_container_io_written_bytes_total", "Bytes the container wrote to block devices.", ContainerLabels);
        _containersByState = f.CreateGauge("interop_containers", "Registered containers by manager and state.", "manager", "state");
        _hookCalls = f.CreateCounter("interop_hook_calls_total", "Lifecycle (hook) calls by event and result.", "event", "result");
        _hookDuration = f.CreateHistogram("interop_hook_duration_seconds", "Time interopd took to answer a lifecycle call, waiting for the gate included.",
            new HistogramConfiguration { LabelNames = ["event", "result"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });
        _reconcile = f.CreateGauge("interop_reconcile_duration_seconds", "How long the start-up reconcile took.");
        _stateWriteFailures = f.CreateCounter("interop_state_write_failures_total", "Writes of the state file or journal that failed.");
        _reaperRemoved = f.CreateCounter("interop_reaper_removed_dirs_total", "Empty, unowned dirs the reaper removed.");
        _collectDuration = f.CreateGauge("interop_metrics_collect_duration_seconds", "How long reading the containers' usage took for this scrape.");
        Registry.AddBeforeCollectCallback(Collect);
    }

    /// <summary>The prometheus-net registry both ways out export.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>Reads usage from a mapping's dirs on the real host, keeping the files open between scrapes (<see cref="UsageReader"/>).</summary>
    public static Func<Mapping, ContainerUsage> ForHost(IReadOnlyList<(string Key, string MountPoint)> hierarchies, UsageReader reader) =>
        m => m.CgroupPath.Length == 0 ? ContainerUsage.None : reader.Read(CgroupUsage.Dirs(m.Paths, hierarchies, m.CgroupPath));

    /// <summary>The Prometheus text exposition (format 0.0.4) of every family, collected now.</summary>
    public async Task<string> ExportTextAsync(CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream();
        await Registry.CollectAndExportAsTextAsync(stream, cancellationToken).ConfigureAwait(false);
        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    public void HookCall(string lifecycleEvent, string result, TimeSpan elapsed)
    {
        _hookCalls.WithLabels(lifecycleEvent, result).Inc();
        _hookDuration.WithLabels(lifecycleEvent, result).Observe(elapsed.TotalSeconds);
    }

    public void StateWriteFailed() => _stateWriteFailures.Inc();

    public void ReaperRemoved(int dirs) => _reaperRemoved.Inc(dirs);

    public void Reconciled(TimeSpan elapsed) => _reconcile.Set(elapsed.TotalSeconds);

    private void Collect()
    {
        lock (_collect)
        {
            var sw = Stopwatch.StartNew();
            var seen = new HashSet<ContainerId>();
            var counts = new Dictionary<(string Manager, string State), int>();
            var containers = _containers();
            var usages = ReadAll(containers);
            _afterRead?.Invoke();
            for (var i = 0; i < containers.Count; i++)
            {
                var m = containers[i];
                seen.Add(m.Id);
                var manager = m.Manager.ToWire();
                var state = m.State.ToWire();
                counts[(manager, state)] = counts.GetValueOrDefault((manager, state)) + 1;
                Update(m, manager, state, usages[i]);
            }

            foreach (var gone in _known.Keys.Where(id => !seen.Contains(id)).ToList())
            {
                RemoveSeries(_known[gone]);
                _known.Remove(gone);
            }

            foreach (var manager in new[] { Manager.Lxc.ToWire(), Manager.Libvirt.ToWire() })
            {
                foreach (var state in States)
                {
                    _containersByState.WithLabels(manager, state).Set(counts.GetValueOrDefault((manager, state)));
                }
            }

            _collectDuration.Set(sw.Elapsed.TotalSeconds);
        }
    }

    /// <summary>
    /// Every container's usage: some 5 small cgroupfs files each, one pread apiece once kept open. Spread over half
    /// the CPUs (1 to 4 threads), so a scrape never takes every CPU from the hooks.
    /// </summary>
    private ContainerUsage[] ReadAll(IReadOnlyList<Mapping> containers)
    {
        var usages = new ContainerUsage[containers.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(Environment.ProcessorCount / 2, 1, 4) };
        Parallel.For(0, containers.Count, options, i =>
        {
            try
            {
                usages[i] = _usage(containers[i]);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.LogDebug("usage of {0}: {1}", containers[i].Id, e.Message);
                usages[i] = ContainerUsage.None;
            }
        });
        return usages;
    }

    private void Update(Mapping m, string manager, string state, ContainerUsage usage)
    {
        string[] info = [manager, m.Name, state, m.Unit, m.CgroupPath];
        string[] labels = [manager, m.Name, m.CgroupPath];
        if (_known.TryGetValue(m.Id, out var old) && (!old.Info.SequenceEqual(info) || !old.Labels.SequenceEqual(labels)))
        {
            RemoveSeries(old);
            old = null;
        }

        var series = old ?? new Series(info, labels);
        _known[m.Id] = series;
        _info.WithLabels(info).Set(1);
        if (m.CgroupPath.Length == 0)
        {
            return;
        }

        series.Cpu = SetCounter(_cpu, labels, series.Cpu, usage.CpuSeconds);
        series.IoRead = SetCounter(_ioRead, labels, series.IoRead, usage.IoReadBytes);
        series.IoWrite = SetCounter(_ioWrite, labels, series.IoWrite, usage.IoWriteBytes);
        series.Memory = SetGauge(_memory, labels, series.Memory, usage.MemoryBytes);
        series.MemoryLimit = SetGauge(_memoryLimit, labels, series.MemoryLimit, usage.MemoryLimitBytes);
        series.Pids = SetGauge(_pids, labels, series.Pids, usage.Pids);
    }

    /// <summary>Sets a counter to <paramref name="value"/>: absent when null, recreated when it went backwards.</summary>
    private static double? SetCounter(Counter counter, string[] labels, double? last, double? value)
    {
        if (value is not { } v)
        {
            if (last is not null)
            {
                counter.RemoveLabelled(labels);
            }

            return null;
        }

        if (last is { } l && v < l)
        {
            counter.RemoveLabelled(labels);
        }

        counter.WithLabels(labels).IncTo(v);
        return v;
    }

    private static double? SetCounter(Counter counter, string[] labels, double? last, ulong? value) =>
        SetCounter(counter, labels, last, value is { } v ? (double?)v : null);

    /// <summary>Sets a gauge, or removes it when the figure is gone; returns whether it exists now.</summary>
    private static bool SetGauge(Gauge gauge, string[] labels, bool exists, ulong? value)
    {
        if (value is { } v)
        {
            gauge.WithLabels(labels).Set(v);
            return true;
        }

        if (exists)
        {
            gauge.RemoveLabelled(labels);
        }

        return false;
    }

    private void RemoveSeries(Series s)
    {
        _info.RemoveLabelled(s.Info);
        _cpu.RemoveLabelled(s.Labels);
        _memory.RemoveLabelled(s.Labels);
        _memoryLimit.RemoveLabelled(s.Labels);
        _pids.RemoveLabelled(s.Labels);
        _ioRead.RemoveLabelled(s.Labels);
        _ioWrite.RemoveLabelled(s.Labels);
    }

    private sealed class Series(string[] info, string[] labels)
    {
        public string[] Info { get; } = info;

        public string[] Labels { get; } = labels;

        public double? Cpu { get; set; }

        public double? IoRead { get; set; }

        public double? IoWrite { get; set; }

        public bool Memory { get; set; }

        public bool MemoryLimit { get; set; }

        public bool Pids { get; set; }
    }
}
