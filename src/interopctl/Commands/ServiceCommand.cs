using System.CommandLine;
using Interop.Core;
using Interop.Core.Model;
using Interop.Core.Service;

namespace Interop.Ctl.Commands;

/// <summary>The frame of every admin command that talks to the daemon: resolve the bus, connect, run, report.</summary>
internal static class ServiceCommand
{
    public static async Task<int> RunAsync(
        CliContext context,
        GlobalOptions globals,
        ParseResult parseResult,
        Func<IInteropService, bool, Task<int>> body,
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

    public static async ValueTask DisposeAsync(ILifecycleService service)
    {
        if (service is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
        }
        else if (service is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    /// <summary>
    /// The manager of <paramref name="name"/>: the --manager value, else the only manager that has that name.
    /// </summary>
    /// <exception cref="NoSuchContainerException">no manager has it.</exception>
    /// <exception cref="UsageException">both have it.</exception>
    public static Manager ResolveManager(IInteropService service, string name, string? managerOption)
    {
        if (managerOption is not null)
        {
            return ManagerNames.Parse(managerOption);
        }

        Manager? found = null;
        foreach (var m in service.ListContainers())
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
