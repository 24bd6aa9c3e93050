using System.CommandLine;
using Interop.Core;
using Interop.Core.Model;
using Interop.DBus;

namespace Interop.Ctl.Commands;

/// <summary>The frame of every admin command that talks to the daemon: resolve the bus, connect, run, report.</summary>
internal static class ServiceCommand
{
    public static async Task<int> RunAsync(
        CliContext context,
        GlobalOptions globals,
        ParseResult parseResult,
        Func<IInteropClient, bool, Task<int>> body,
        CancellationToken cancellationToken,
        Action? validate = null)
    {
        try
        {
            // Arguments are checked before anything is connected: bad input changes nothing.
            validate?.Invoke();
            var bus = BusResolver.Resolve(context, parseResult.GetValue(globals.Bus));
            var service = await context.Connect(bus, cancellationToken).ConfigureAwait(false);
            try
            {
                return await body(service, parseResult.GetValue(globals.Json)).ConfigureAwait(false);
            }
            finally
            {
                await DisposeAsync(service).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            return Errors.Report(context, ex);
        }
    }

    public static async ValueTask DisposeAsync(ILifecycleClient service)
    {
        if (service is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            service.Dispose();
        }
    }

    /// <summary>
    /// ListContainers, each row with its unit and machine from ListUnits (systemd hosts; a daemon without
    /// ListUnits leaves them empty).
    /// </summary>
    public static async Task<IReadOnlyList<ListedContainer>> ListAsync(IInteropClient service, CancellationToken cancellationToken)
    {
        var list = await service.ListContainersAsync(cancellationToken).ConfigureAwait(false);
        var units = (await service.ListUnitsAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(u => u.Id);
        return [.. list.Select(c => units.TryGetValue(c.Id, out var u) ? new ListedContainer(c, u.Unit, u.Machine) : new ListedContainer(c, string.Empty, string.Empty))];
    }

    /// <summary>
    /// The manager of <paramref name="name"/>: the --manager value, else the only manager that has that name.
    /// </summary>
    /// <exception cref="NoSuchContainerException">no manager has it.</exception>
    /// <exception cref="UsageException">both have it.</exception>
    public static async Task<Manager> ResolveManagerAsync(IInteropClient service, string name, string? managerOption, CancellationToken cancellationToken)
    {
        if (managerOption is not null)
        {
            return ManagerNames.Parse(managerOption);
        }

        Manager? found = null;
        foreach (var m in await service.ListContainersAsync(cancellationToken).ConfigureAwait(false))
        {
            if (m.Name != name)
            {
                continue;
            }

            if (found is not null && found != m.Manager)
            {
                throw new UsageException($"'{Printable.Of(name)}' exists under both lxc and libvirt: pass --manager lxc or --manager libvirt");
            }

            found = m.Manager;
        }

        return found ?? throw new NoSuchContainerException(name);
    }
}

/// <summary>A ListContainers row with the unit and machine ListUnits gives it (empty when none): what list, tree and top show.</summary>
internal sealed record ListedContainer(ContainerSummary Summary, string Unit, string Machine)
{
    public ContainerId Id => Summary.Id;

    public Manager Manager => Summary.Manager;

    public string Name => Summary.Name;

    public ContainerState State => Summary.State;

    /// <summary>The leader pid as the tables and JSON print it (0: none).</summary>
    public int Leader => (int)Math.Min(Summary.Leader, int.MaxValue);

    public string CgroupPath => Summary.CgroupPath;
}
