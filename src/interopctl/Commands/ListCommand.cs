using System.CommandLine;
using Interop.Core.Model;
using Interop.DBus;
using Interop.Ctl.Output;

namespace Interop.Ctl.Commands;

/// <summary><c>interopctl list</c>: every registered container, sorted by manager then name.</summary>
internal static class ListCommand
{
    public static Command Create(CliContext context, GlobalOptions globals)
    {
        var command = new Command("list", "List every container interopd knows (LXC and libvirt), sorted by manager then name.");
        command.SetAction((parseResult, ct) => ServiceCommand.RunAsync(context, globals, parseResult, (service, json) => RunAsync(context, service, json, ct), ct));
        return command;
    }

    internal static async Task<int> RunAsync(CliContext context, IInteropClient service, bool json, CancellationToken cancellationToken)
    {
        var mappings = (await ServiceCommand.ListAsync(service, cancellationToken).ConfigureAwait(false)).ToList();
        mappings.Sort(static (a, b) =>
        {
            var byManager = string.CompareOrdinal(a.Manager.ToWire(), b.Manager.ToWire());
            return byManager != 0 ? byManager : string.CompareOrdinal(a.Name, b.Name);
        });

        if (json)
        {
            Json.Write(context.Out, mappings.Select(Json.Summary).ToList(), CtlJsonContext.Default.ListContainerSummaryJson);
            return ExitCodes.Ok;
        }

        var rows = mappings.Select(m => new[]
        {
            m.Manager.ToWire(),
            m.Name,
            m.State.ToWire(),
            m.Leader == 0 ? "-" : m.Leader.ToString(System.Globalization.CultureInfo.InvariantCulture),
            m.CgroupPath.Length == 0 ? "-" : m.CgroupPath,
        }).ToList();

        // A systemd host: each container's unit and machine (hosts without systemd keep the table as it was).
        if (mappings.Any(m => m.Unit.Length > 0 || m.Machine.Length > 0))
        {
            for (var i = 0; i < rows.Count; i++)
            {
                rows[i] = [.. rows[i], mappings[i].Unit.Length == 0 ? "-" : mappings[i].Unit, mappings[i].Machine.Length == 0 ? "-" : mappings[i].Machine];
            }

            Table.Write(context.Out, ["MANAGER", "NAME", "STATE", "LEADER", "CGROUP", "UNIT", "MACHINE"], rows);
            return ExitCodes.Ok;
        }

        Table.Write(context.Out, ["MANAGER", "NAME", "STATE", "LEADER", "CGROUP"], rows);
        return ExitCodes.Ok;
    }
}
