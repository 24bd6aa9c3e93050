using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Interop.Benchmarks;

/// <summary>
/// Runs <see cref="RegistryBenchmarks"/> in process (no generated project to build: the registry's live
/// leaders belong to tools/bench.sh), or <see cref="StateFileBenchmarks"/> with the argument "state", and ends with one machine-readable line per benchmark:
/// "RESULT NAME MEDIAN_NS".
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(10);
        var config = ManualConfig.CreateMinimumViable().AddJob(job).WithOptions(ConfigOptions.DisableLogFile);
        var summary = args is ["state"]
            ? BenchmarkRunner.Run<StateFileBenchmarks>(config)
            : BenchmarkRunner.Run<RegistryBenchmarks>(config);
        var ok = true;
        foreach (var report in summary.Reports)
        {
            var name = report.BenchmarkCase.Descriptor.WorkloadMethod.Name;
            if (report.ResultStatistics is { } stats)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {name} {stats.Median:F0}"));
            }
            else
            {
                Console.WriteLine($"RESULT {name} failed");
                ok = false;
            }
        }

        return ok ? 0 : 1;
    }
}
