using System.CommandLine;
using Interop.Core;
using Interop.Core.Model;
using Interop.DBus;
using Interop.Ctl.Output;
using Interop.Linux.Cgroups;

namespace Interop.Ctl.Commands;

/// <summary><c>interopctl show NAME [--manager M]</c>: every property of one mapping.</summary>
internal static class ShowCommand
{
    public static Command Create(CliContext context, GlobalOptions globals)
    {
        var name = new Argument<string>("NAME") { Description = "The container (LXC) or domain (libvirt) name." };
        var manager = GlobalOptions.ManagerOption();
        var command = new Command("show", "Show everything interopd knows about one container: state, leader, cgroup, per-hierarchy dirs, since when.")
        {
            name,
            manager,
        };
        command.SetAction((parseResult, ct) => ServiceCommand.RunAsync(
            context,
            globals,
            parseResult,
            (service, json) => RunAsync(context, service, json, parseResult.GetValue(name)!, parseResult.GetValue(manager), ct),
            ct,
            () => Names.ValidateComponent(parseResult.GetValue(name), "name")));
        return command;
    }

    internal static async Task<int> RunAsync(CliContext context, IInteropClient service, bool json, string name, string? manager, CancellationToken cancellationToken)
    {
        Names.ValidateComponent(name, "name");
        var resolved = await ServiceCommand.ResolveManagerAsync(service, name, manager, cancellationToken).ConfigureAwait(false);
        var mapping = await service.GetContainerAsync(resolved, name, cancellationToken).ConfigureAwait(false);
        Print(context, mapping, json, await ReadUsageAsync(context, service, mapping, cancellationToken).ConfigureAwait(false));
        return ExitCodes.Ok;
    }

    /// <summary>Prints a full mapping ('show' and 'whois').</summary>
    internal static void Print(CliContext context, Mapping m, bool json, ContainerUsage? usage = null)
    {
        if (json)
        {
            Json.Write(context.Out, Json.Full(m, usage), CtlJsonContext.Default.ContainerJson);
            return;
        }

        var o = context.Out;
        o.WriteLine($"Manager:          {m.Manager.ToWire()}");
        o.WriteLine($"Name:             {m.Name}");
        o.WriteLine($"Uuid:             {Dash(m.Uuid)}");
        o.WriteLine($"State:            {m.State.ToWire()}");
        o.WriteLine($"Leader:           {(m.Leader == 0 ? "-" : m.Leader.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
        o.WriteLine($"CgroupPath:       {Dash(m.CgroupPath)}");
        o.WriteLine($"Since:            {Time.Readable(m.Since)}");
        o.WriteLine($"CgroupNamespace:  {Dash(m.CgroupNamespace.ToWire())}");
        o.WriteLine($"Source:           {Dash(m.Source.ToWire())}");
        if (m.Unit.Length > 0 || m.Machine.Length > 0)
        {
            o.WriteLine($"Unit:             {Dash(m.Unit)}");
            o.WriteLine($"Machine:          {Dash(m.Machine)}");
        }

        o.WriteLine(m.Paths.Count == 0 ? "Paths:            -" : "Paths:");
        foreach (var path in m.Paths.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            o.WriteLine($"  {path.Key}: {path.Value}");
        }

        if (usage is not null)
        {
            var cpu = usage.CpuSeconds is { } s ? s.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture) + " s" : "-";
            o.WriteLine($"CpuTime:          {cpu}");
            o.WriteLine($"Memory:           {Bytes(usage.MemoryBytes)}");
            o.WriteLine($"MemoryLimit:      {(usage.MemoryLimitBytes is null && usage.MemoryBytes is not null ? "none" : Bytes(usage.MemoryLimitBytes))}");
            o.WriteLine($"Pids:             {usage.Pids?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}");
            o.WriteLine($"IoRead:           {Bytes(usage.IoReadBytes)}");
            o.WriteLine($"IoWritten:        {Bytes(usage.IoWriteBytes)}");
        }
    }

    /// <summary>The container's usage now, read from its dirs (null before it has a cgroup).</summary>
    internal static async Task<ContainerUsage?> ReadUsageAsync(CliContext context, IInteropClient service, Mapping m, CancellationToken cancellationToken)
    {
        if (m.CgroupPath.Length == 0)
        {
            return null;
        }

        var properties = await service.GetPropertiesAsync(cancellationToken).ConfigureAwait(false);
        var hierarchies = (properties.Hierarchies ?? []).Select(h => (h.Controllers, h.MountPoint));
        return context.ReadUsage(CgroupUsage.Dirs(m.Paths, hierarchies, m.CgroupPath));
    }

    /// <summary>Bytes with the exact figure and a readable one: "1048576 (1.0M)"; "-" when unknown.</summary>
    private static string Bytes(ulong? bytes) =>
        bytes is { } b ? $"{b.ToString(System.Globalization.CultureInfo.InvariantCulture)} ({TopView.Bytes(b)})" : "-";

    private static string Dash(string value) => value.Length == 0 ? "-" : value;
}
