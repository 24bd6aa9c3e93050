using System.CommandLine;
using System.Globalization;
using Interop.Core.Model;
using Interop.DBus;
using Interop.Ctl.Output;
using Interop.Linux.Cgroups;

namespace Interop.Ctl.Commands;

/// <summary>
/// <c>interopctl top</c>: every container of both managers with what it uses, refreshed like top. Usage is read here,
/// straight from cgroupfs (world-readable), at the dirs the registry gives: interopd pays nothing for it.
/// </summary>
internal static class TopCommand
{
    private const string Clear = "\u001b[H\u001b[2J";

    private static readonly Dictionary<string, string> NoPaths = [];

    public static Command Create(CliContext context, GlobalOptions globals)
    {
        var iterations = new Option<int>("--iterations", "-n")
        {
            Description = "Frames to print, then exit (default: until q, or forever in batch mode).",
            HelpName = "N",
        };
        var delay = new Option<double>("--delay", "-d")
        {
            Description = "Seconds between frames; --json takes its two samples this far apart.",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => 2,
        };
        var sort = new Option<string>("--sort", "-s")
        {
            Description = "The column to sort by (keys change it while running: c cpu, m memory, p pids, i io, n name, g manager, s state, < >; q quits).",
            HelpName = "COLUMN",
            DefaultValueFactory = _ => "cpu",
        };
        sort.AcceptOnlyFromAmong([.. Enum.GetValues<TopSort>().Select(TopView.Word)]);
        var batch = new Option<bool>("--batch", "-b") { Description = "Plain frames, no screen control (the default when stdout is not a terminal)." };
        var command = new Command("top", "Show every container's CPU %, memory, pids and block I/O, refreshed like top; --json prints one snapshot.")
        {
            iterations,
            delay,
            sort,
            batch,
        };
        command.SetAction((parseResult, ct) => ServiceCommand.RunAsync(
            context,
            globals,
            parseResult,
            (service, json) => RunAsync(
                context, service, json, parseResult.GetValue(iterations), parseResult.GetValue(delay),
                TopView.Parse(parseResult.GetValue(sort)!) ?? TopSort.Cpu, parseResult.GetValue(batch) || !context.Interactive, ct),
            ct,
            () => Validate(parseResult.GetValue(iterations), parseResult.GetValue(delay))));
        return command;
    }

    internal static void Validate(int iterations, double delay)
    {
        if (iterations < 0)
        {
            throw new UsageException($"-n {iterations.ToString(CultureInfo.InvariantCulture)}: the number of frames must be 0 (no limit) or more");
        }

        if (!(delay >= 0.1 && delay <= 3600))
        {
            throw new UsageException($"-d {delay.ToString(CultureInfo.InvariantCulture)}: the delay must be from 0.1 to 3600 seconds");
        }
    }

    internal static async Task<int> RunAsync(CliContext context, IInteropClient service, bool json, int iterations, double delay, TopSort sort, bool batch, CancellationToken ct)
    {
        var properties = await service.GetPropertiesAsync(ct).ConfigureAwait(false);
        var hierarchies = (properties.Hierarchies ?? []).Select(h => (h.Controllers, h.MountPoint)).ToList();
        var (before, t0) = await SampleAsync(context, service, hierarchies, ct).ConfigureAwait(false);

        // The first frame comes soon (CPU % needs two samples); the next ones every delay.
        var wait = json ? delay : Math.Min(delay, 0.5);
        var frames = 0;
        List<TopRow> last = [];
        while (true)
        {
            var pressed = await WaitAsync(context, TimeSpan.FromSeconds(wait), batch, ct).ConfigureAwait(false);
            if (pressed == 'q')
            {
                return ExitCodes.Ok;
            }

            if (pressed is { } key && TopView.ForKey(key, sort) is { } newSort)
            {
                // A key redraws the last frame at once, in the new order; the sampling interval keeps running.
                sort = newSort;
                Draw(context, TopView.Sort(last, sort), sort, wait, batch);
                continue;
            }

            var (now, t1) = await SampleAsync(context, service, hierarchies, ct).ConfigureAwait(false);
            var seconds = (t1 - t0).TotalSeconds;
            var rows = TopView.Sort(TopView.Rows(now, before.ToDictionary(x => x.Container.Id, x => (x.Container.CgroupPath, x.Usage)), seconds), sort);
            if (json)
            {
                Json.Write(context.Out, new TopJson(Time.Iso((ulong)(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000)), seconds, [.. rows.Select(ToJson)]), CtlJsonContext.Default.TopJson);
                return ExitCodes.Ok;
            }

            Draw(context, rows, sort, seconds, batch);
            last = rows;
            (before, t0) = (now, t1);
            wait = delay;
            if (iterations > 0 && ++frames >= iterations)
            {
                return ExitCodes.Ok;
            }
        }
    }

    private static async Task<(List<(ContainerSummary Container, ContainerUsage Usage)> Sample, TimeSpan At)> SampleAsync(
        CliContext context, IInteropClient service, List<(string, string)> hierarchies, CancellationToken ct)
    {
        var sample = new List<(ContainerSummary, ContainerUsage)>();
        foreach (var m in await service.ListContainersAsync(ct).ConfigureAwait(false))
        {
            // ListContainers carries no per-hierarchy dirs: each is the hierarchy's mount point plus the cgroup path.
            var usage = m.CgroupPath.Length == 0 ? ContainerUsage.None : context.ReadUsage(CgroupUsage.Dirs(NoPaths, hierarchies, m.CgroupPath));
            sample.Add((m, usage));
        }

        return (sample, context.Elapsed());
    }

    private static void Draw(CliContext context, List<TopRow> rows, TopSort sort, double seconds, bool batch)
    {
        var o = context.Out;
        if (!batch)
        {
            o.Write(Clear);
        }

        TopView.Write(o, rows, sort, DateTimeOffset.UtcNow, seconds);
        if (!batch)
        {
            o.WriteLine();
            o.WriteLine("sort: c cpu  m memory  p pids  i io  n name  g manager  s state  < > move;  q quit");
        }
        else
        {
            o.WriteLine();
        }

        o.Flush();
    }

    /// <summary>Waits <paramref name="delay"/>; in a terminal, returns early with the first key pressed.</summary>
    private static async Task<char?> WaitAsync(CliContext context, TimeSpan delay, bool batch, CancellationToken ct)
    {
        if (batch)
        {
            await context.Delay(delay, ct).ConfigureAwait(false);
            return null;
        }

        var end = context.Elapsed() + delay;
        while (true)
        {
            if (context.ReadKey() is { } key)
            {
                return key;
            }

            var left = end - context.Elapsed();
            if (left <= TimeSpan.Zero)
            {
                return null;
            }

            await context.Delay(left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false);
        }
    }

    private static TopContainerJson ToJson(TopRow r) => new(
        r.Manager,
        r.Name,
        r.State,
        r.CgroupPath,
        r.CpuPercent is { } p ? Math.Round(p, 3) : null,
        r.Usage.CpuSeconds,
        r.Usage.MemoryBytes,
        r.Usage.MemoryLimitBytes,
        r.Usage.Pids,
        r.Usage.IoReadBytes,
        r.Usage.IoWriteBytes);
}
