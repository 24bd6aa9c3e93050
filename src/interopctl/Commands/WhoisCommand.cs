using System.CommandLine;
using Interop.Core;
using Interop.DBus;

namespace Interop.Ctl.Commands;

/// <summary><c>interopctl whois PID</c>: the container whose cgroup subtree holds a pid.</summary>
internal static class WhoisCommand
{
    public static Command Create(CliContext context, GlobalOptions globals)
    {
        var pid = new Argument<string>("PID") { Description = "A process id on this host (any process inside a container, not only its leader)." };
        var command = new Command("whois", "Tell which container owns a process, and who started it.") { pid };
        command.SetAction((parseResult, ct) => ServiceCommand.RunAsync(
            context,
            globals,
            parseResult,
            (service, json) => RunAsync(context, service, json, parseResult.GetValue(pid)!, ct),
            ct,
            () => Names.ParsePid(parseResult.GetValue(pid), "pid")));
        return command;
    }

    internal static async Task<int> RunAsync(CliContext context, IInteropClient service, bool json, string pidText, CancellationToken cancellationToken)
    {
        var pid = Names.ParsePid(pidText, "pid");
        ShowCommand.Print(context, await service.GetContainerByPidAsync((uint)pid, cancellationToken).ConfigureAwait(false), json);
        return ExitCodes.Ok;
    }
}
