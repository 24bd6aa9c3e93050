using System.CommandLine;
using System.Globalization;
using Interop.Core.Config;
using Interop.Core.Model;
using Interop.Ctl.Output;
using Interop.DBus;

namespace Interop.Ctl.Commands;

/// <summary>
/// <c>interopctl status</c>: the daemon (reachable? version, mode, shared root, hierarchies, count) and the LOCAL
/// health of the shared root (clone_children, cpuset per hierarchy), which is checked even when the daemon is down.
/// Exit 0 healthy, 1 a problem was found, 3 the daemon is unreachable (local health is still printed).
/// Warnings (e.g. the hybrid cgroup2 mount with controllers) are printed but do not change the exit code.
/// </summary>
internal static class StatusCommand
{
    public static Command Create(CliContext context, GlobalOptions globals)
    {
        var command = new Command(
            "status",
            "Check interopd and this host: cgroup mode, hierarchies, and whether the shared root has clone_children=1 and a usable cpuset everywhere. Works without the daemon.");
        command.SetAction((parseResult, ct) => RunAsync(context, parseResult.GetValue(globals.Bus), parseResult.GetValue(globals.Json), ct));
        return command;
    }

    internal static async Task<int> RunAsync(CliContext context, string? busOption, bool json, CancellationToken cancellationToken)
    {
        try
        {
            return await RunCoreAsync(context, busOption, json, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return Errors.Report(context, ex);
        }
    }

    private static async Task<int> RunCoreAsync(CliContext context, string? busOption, bool json, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        InteropConfig? config = null;
        string? bus = null;
        try
        {
            bus = BusResolver.Resolve(context, busOption);
        }
        catch (ConfigException ex)
        {
            problems.Add(ex.Message);
        }

        var daemon = new DaemonJson(false, bus ?? "?", null, null, null, null, [], null);
        var unreachable = false;
        if (bus is not null)
        {
            try
            {
                var service = await context.Connect(bus, cancellationToken).ConfigureAwait(false);
                try
                {
                    daemon = await QueryAsync(service, bus, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    await ServiceCommand.DisposeAsync(service).ConfigureAwait(false);
                }
            }
            catch (DaemonUnreachableException ex)
            {
                unreachable = true;
                daemon = daemon with { Error = ex.Message };
            }
            catch (Exception ex) when (ex is Interop.Core.InteropException or IOException)
            {
                problems.Add(ex.Message);
                daemon = daemon with { Error = ex.Message };
            }
        }

        var sharedRoot = daemon.SharedRoot;
        if (sharedRoot is null)
        {
            try
            {
                config = BusResolver.LoadConfig(context);
            }
            catch (ConfigException ex)
            {
                if (!problems.Contains(ex.Message))
                {
                    problems.Add(ex.Message);
                }
            }

            sharedRoot = config?.SharedRoot ?? new InteropConfig().SharedRoot;
        }

        if (daemon.StateWritable == false)
        {
            problems.Add("interopd cannot write its state file (degraded): free space or fix the state dir; see interopd's log");
        }

        var local = context.ProbeLocal(sharedRoot);
        var healthy = !unreachable && problems.Count == 0 && local.Healthy;
        var localJson = new LocalJson(
            local.CgroupMode,
            local.SharedRoot,
            local.Hierarchies.Select(h => new HierarchyHealthJson(h.Key, h.Dir, h.Exists, h.CloneChildren, h.CpusEmpty, h.MemsEmpty, [.. h.Problems])).ToList(),
            [.. local.Warnings],
            local.Error);

        if (json)
        {
            Json.Write(context.Out, new StatusJson(healthy, daemon, localJson), CtlJsonContext.Default.StatusJson);
        }
        else
        {
            Print(context.Out, daemon, local);
        }

        foreach (var problem in problems)
        {
            Errors.WriteLine(context, problem);
        }

        if (unreachable)
        {
            Errors.WriteLine(context, daemon.Error!);
            return ExitCodes.Unreachable;
        }

        return healthy ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static async Task<DaemonJson> QueryAsync(IInteropClient service, string bus, CancellationToken cancellationToken)
    {
        // One GetAll: it is also the call that proves the daemon is there. StateWritable is null from an older daemon.
        var p = await service.GetPropertiesAsync(cancellationToken).ConfigureAwait(false);
        return new DaemonJson(
            true,
            bus,
            p.Version,
            p.CgroupMode,
            p.SharedRoot,
            p.ContainerCount,
            p.Hierarchies.Select(h => new HierarchyJson(h.Controllers, h.MountPoint, h.SharedDir)).ToList(),
            null,
            p.StateWritable);
    }

    private static void Print(TextWriter o, DaemonJson daemon, LocalHealth local)
    {
        o.WriteLine("Daemon:");
        if (daemon.Reachable)
        {
            o.WriteLine($"  interopd:     reachable on {daemon.Bus}, version {daemon.Version}");
            o.WriteLine($"  cgroup mode:  {daemon.CgroupMode}");
            o.WriteLine($"  shared root:  {daemon.SharedRoot}");
            o.WriteLine($"  containers:   {daemon.ContainerCount?.ToString(CultureInfo.InvariantCulture)}");
            if (daemon.StateWritable is { } writable)
            {
                o.WriteLine(writable ? "  state file:   written" : "  state file:   DEGRADED: the last write failed; changes live in memory only until one succeeds (see interopd's log)");
            }

            o.WriteLine("  hierarchies:");
            var rows = daemon.Hierarchies.Select(h => new[] { h.Controllers, h.MountPoint, h.SharedDir }).ToList();
            var table = new StringWriter();
            Table.Write(table, ["CONTROLLERS", "MOUNT POINT", "SHARED DIR"], rows);
            foreach (var line in table.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                o.WriteLine("    " + line);
            }
        }
        else
        {
            o.WriteLine($"  interopd:     NOT reachable on {daemon.Bus}");
        }

        o.WriteLine($"Local (this host, shared root {local.SharedRoot}):");
        o.WriteLine($"  cgroup mode:  {local.CgroupMode}");
        if (local.Error is not null)
        {
            o.WriteLine($"  PROBLEM: {local.Error}");
        }

        if (local.Hierarchies.Count > 0)
        {
            var rows = local.Hierarchies.Select(h => new[]
            {
                h.Key,
                h.Dir,
                h.CloneChildren?.ToString(CultureInfo.InvariantCulture) ?? "-",
                h.CpusEmpty is null ? "-" : (h.CpusEmpty == true || h.MemsEmpty == true ? "EMPTY" : "ok"),
                h.Healthy ? "ok" : "PROBLEM: " + string.Join("; ", h.Problems),
            }).ToList();
            var table = new StringWriter();
            Table.Write(table, ["HIERARCHY", "SHARED ROOT DIR", "CLONE_CHILDREN", "CPUSET", "HEALTH"], rows);
            foreach (var line in table.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                o.WriteLine("  " + line);
            }
        }

        foreach (var warning in local.Warnings)
        {
            o.WriteLine("WARNING: " + warning);
        }

        o.WriteLine(local.Healthy ? "Local health: ok" : "Local health: PROBLEM (run 'interopctl setup' as root to repair the shared root)");
    }
}
