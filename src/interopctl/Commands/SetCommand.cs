using System.CommandLine;
using Interop.Core;
using Interop.DBus;

namespace Interop.Ctl.Commands;

/// <summary><c>interopctl set NAME KEY VALUE [--manager M]</c>: writes one cgroup file of a container.</summary>
internal static class SetCommand
{
    public static Command Create(CliContext context, GlobalOptions globals)
    {
        var name = new Argument<string>("NAME") { Description = "The container or domain name." };
        var key = new Argument<string>("KEY") { Description = "A cgroup file, controller.setting (e.g. cpu.shares)." };
        var value = new Argument<string>("VALUE") { Description = "The value to write (one line)." };
        var manager = GlobalOptions.ManagerOption();
        var command = new Command("set", "Write one cgroup setting of a container (e.g. cpu.shares 512). Needs root or an allowed user.")
        {
            name,
            key,
            value,
            manager,
        };
        command.SetAction((parseResult, ct) => ServiceCommand.RunAsync(
            context,
            globals,
            parseResult,
            (service, _) => RunAsync(service, parseResult.GetValue(name)!, parseResult.GetValue(key)!, parseResult.GetValue(value)!, parseResult.GetValue(manager), ct),
            ct,
            () => Validate(parseResult.GetValue(name), parseResult.GetValue(key), parseResult.GetValue(value))));
        return command;
    }

    internal static void Validate(string? name, string? key, string? value)
    {
        GetCommand.Validate(name, key);
        Names.ValidateValue(value);
    }

    internal static async Task<int> RunAsync(IInteropClient service, string name, string key, string value, string? manager, CancellationToken cancellationToken)
    {
        Validate(name, key, value);
        var resolved = await ServiceCommand.ResolveManagerAsync(service, name, manager, cancellationToken).ConfigureAwait(false);
        await service.SetValueAsync(resolved, name, key, value, cancellationToken).ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
