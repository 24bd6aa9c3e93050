using System.CommandLine;
using Interop.Core;
using Interop.Core.Service;

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
            (service, json) => Task.FromResult(Run(context, service, json, parseResult.GetValue(pid)!)),
            ct,
            () => Names.ParsePid(parseResult.GetValue(pid), "pid")));
        return command;
    }

    internal static int Run(CliContext context, IInteropService service, bool json, string pidText)
    {
        var pid = Names.ParsePid(pidText, "pid");
        ShowCommand.Print(context, service.GetContainerByPid((uint)pid), json);
        return ExitCodes.Ok;
    }
}
