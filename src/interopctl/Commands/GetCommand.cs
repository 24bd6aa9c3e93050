using System.CommandLine;
using Interop.Core;
using Interop.Core.Model;
using Interop.DBus;
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
            (service, json) => RunAsync(context, service, json, parseResult.GetValue(name)!, parseResult.GetValue(key)!, parseResult.GetValue(manager), ct),
            ct,
            () => Validate(parseResult.GetValue(name), parseResult.GetValue(key))));
        return command;
    }

    internal static void Validate(string? name, string? key)
    {
        Names.ValidateComponent(name, "name");
        Names.ValidateKey(key);
    }

    internal static async Task<int> RunAsync(CliContext context, IInteropClient service, bool json, string name, string key, string? manager, CancellationToken cancellationToken)
    {
        Validate(name, key);
        var resolved = await ServiceCommand.ResolveManagerAsync(service, name, manager, cancellationToken).ConfigureAwait(false);
        var value = (await service.GetValueAsync(resolved, name, key, cancellationToken).ConfigureAwait(false)).TrimEnd('\n');
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
