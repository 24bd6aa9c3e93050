using System.CommandLine;
using Interop.Core;
using Interop.DBus;

namespace Interop.Ctl.Commands;

/// <summary>
/// <c>interopctl metrics [--textfile DIR]</c>: Interop's metrics in the Prometheus text format, exactly what interopd's
/// /metrics serves (it asks interopd for them over D-Bus: one definition, and this binary stays free of prometheus-net),
/// to stdout or as DIR/interop.prom for node_exporter's textfile collector (a temp file in DIR, then a rename, so the
/// collector never reads half a file).
/// </summary>
internal static class MetricsCommand
{
    public const string FileName = "interop.prom";

    public static Command Create(CliContext context, GlobalOptions globals)
    {
        var textfile = new Option<string>("--textfile")
        {
            Description = "Write DIR/interop.prom for node_exporter's textfile collector (--collector.textfile.directory) instead of stdout.",
            HelpName = "DIR",
        };
        var command = new Command("metrics", "Print Interop's metrics in the Prometheus text format (the same as interopd's /metrics), or write them for node_exporter.")
        {
            textfile,
        };
        command.SetAction((parseResult, ct) => ServiceCommand.RunAsync(
            context,
            globals,
            parseResult,
            (service, _) => RunAsync(context, service, parseResult.GetValue(textfile), ct),
            ct,
            () => Validate(parseResult.GetValue(textfile))));
        return command;
    }

    internal static void Validate(string? dir)
    {
        if (dir is not null && !Directory.Exists(dir))
        {
            throw new UsageException($"--textfile {Printable.Of(dir)}: no such directory (give node_exporter's --collector.textfile.directory)");
        }
    }

    internal static async Task<int> RunAsync(CliContext context, IInteropClient service, string? dir, CancellationToken ct)
    {
        var text = await service.GetMetricsAsync(ct).ConfigureAwait(false);
        if (dir is null)
        {
            await context.Out.WriteAsync(text).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        var target = Path.Combine(dir, FileName);
        var temp = Path.Combine(dir, $".{FileName}.{Environment.ProcessId}.tmp");
        try
        {
            await File.WriteAllTextAsync(temp, text, ct).ConfigureAwait(false);
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }

        return ExitCodes.Ok;
    }
}
