using System.CommandLine;
using Interop.DBus;
using Interop.Ctl.Output;

namespace Interop.Ctl.Commands;

/// <summary><c>interopctl setup</c>: asks interopd to create/repair the shared root in every hierarchy.</summary>
internal static class SetupCommand
{
    public static Command Create(CliContext context, GlobalOptions globals)
    {
        var command = new Command("setup", "Create or repair the shared root in every cgroup hierarchy (cpuset copied from the parent, clone_children=1). Prints what was done.");
        command.SetAction((parseResult, ct) => ServiceCommand.RunAsync(context, globals, parseResult, (service, json) => RunAsync(context, service, json, ct), ct));
        return command;
    }

    internal static async Task<int> RunAsync(CliContext context, IInteropClient service, bool json, CancellationToken cancellationToken)
    {
        var actions = await service.SetupAsync(cancellationToken).ConfigureAwait(false);
        if (json)
        {
            Json.Write(context.Out, new ActionsJson([.. actions]), CtlJsonContext.Default.ActionsJson);
        }
        else if (actions.Count == 0)
        {
            context.Out.WriteLine("nothing to do");
        }
        else
        {
            foreach (var action in actions)
            {
                context.Out.WriteLine(action);
            }
        }

        return ExitCodes.Ok;
    }
}
