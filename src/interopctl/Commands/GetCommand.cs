using System.CommandLine;
using Interop.Core;
using Interop.Core.Model;
using Interop.Core.Service;
using Interop.Ctl.Output;

namespace Interop.Ctl.Commands;

/// <summary><c>interopctl get NAME KEY [--manager M]</c>: reads one cgroup file of a container.</summary>
internal static class GetCommand
{
    public static Command Create(CliContext context, GlobalOptions globals)
    {
        var name = new Argument<string>("NAME") { Description = "The container or domain name." };
        var key = new Argument<string>("KEY") { Description = "A cgroup file, controller.setting (e.g. memory.limit_in_bytes)." };
        var manager = GlobalOptions.ManagerOption();
        var command = new Command("get", "Read one cgroup setting of a container (e.g. memory.limit_in_bytes).") { name, key, manager };
        command.SetAction((parseResult, ct) => ServiceCommand.RunAsync(
            context,
            globals,
            parseResult,
            (service, json) => Task.FromResult(Run(context, service, json, parseResult.GetValue(name)!, parseResult.GetValue(key)!, parseResult.GetValue(manager))),
            ct,
            () => Validate(parseResult.GetValue(name), parseResult.GetValue(key))));
        return command;
    }

    internal static void Validate(string? name, string? key)
    {
        Names.ValidateComponent(name, "name");
        Names.ValidateKey(key);
    }

    internal static int Run(CliContext context, IInteropService service, bool json, string name, string key, string? manager)
    {
        Validate(name, key);
        var resolved = ServiceCommand.ResolveManager(service, name, manager);
        var value = service.GetValue(resolved, name, key).TrimEnd('\n');
        if (json)
        {
            Json.Write(context.Out, new ValueJson(resolved.ToWire(), name, key, value), CtlJsonContext.Default.ValueJson);
        }
        else
        {
            context.Out.WriteLine(value);
        }

        return ExitCodes.Ok;
    }
}
