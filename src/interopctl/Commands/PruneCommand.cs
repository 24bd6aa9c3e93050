using System.CommandLine;
using Interop.DBus;
using Interop.Ctl.Output;

namespace Interop.Ctl.Commands;

/// <summary><c>interopctl prune [--dry-run]</c>: removes empty, unowned dirs under the shared root.</summary>
internal static class PruneCommand
{
    public static Command Create(CliContext context, GlobalOptions globals)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Only print what would be removed." };
        var command = new Command("prune", "Remove empty cgroup dirs under the shared root that no container owns (manager leftovers). Never touches a dir with tasks.")
        {
            dryRun,
        };
        command.SetAction((parseResult, ct) => ServiceCommand.RunAsync(
            context,
            globals,
            parseResult,
            (service, json) => RunAsync(context, service, json, parseResult.GetValue(dryRun), ct),
            ct));
        return command;
    }

    internal static async Task<int> RunAsync(CliContext context, IInteropClient service, bool json, bool dryRun, CancellationToken cancellationToken)
    {
        var dirs = await service.PruneAsync(dryRun, cancellationToken).ConfigureAwait(false);
        if (json)
        {
            Json.Write(context.Out, new PruneJson(dryRun, [.. dirs]), CtlJsonContext.Default.PruneJson);
        }
        else if (dirs.Count == 0)
        {
            context.Out.WriteLine("nothing to prune");
        }
        else
        {
            foreach (var dir in dirs)
            {
                context.Out.WriteLine((dryRun ? "would remove " : "removed ") + dir);
            }
        }

        return ExitCodes.Ok;
    }
}
