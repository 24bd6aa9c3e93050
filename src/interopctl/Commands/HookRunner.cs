using Interop.Core;
using Interop.Core.Config;
using Interop.Core.Model;
using Interop.DBus;

namespace Interop.Ctl.Commands;

/// <summary>
/// Acts on one parsed hook call (DESIGN.md section 7) with the exit semantics the managers rely on:
/// prepare/started/reconnect fail with 1 (refused) or 3 (daemon unreachable); stop/released never fail
/// (exit 0 and one warning line). Ignored and start calls exit 0 without touching the bus.
/// One call per hook: on interopd's private socket when it takes us and no bus is named, else on the bus; the config
/// file is read only when neither the socket, --bus nor $INTEROP_BUS_ADDRESS decides.
/// </summary>
internal static class HookRunner
{
    public static async Task<int> DispatchAsync(CliContext context, HookCall call, string? busOption, CancellationToken cancellationToken)
    {
        if (call.Event is LifecycleEvent.Ignored or LifecycleEvent.Start)
        {
            return ExitCodes.Ok;
        }

        var what = $"{call.Manager.ToWire()} {call.HookType} hook for '{Printable.Of(call.Name)}'";
        try
        {
            ILifecycleClient service;
            if (busOption is null && context.GetVariable(BusChoice.Variable) is null && context.ConnectPrivate?.Invoke() is { } direct)
            {
                // A root hook on an installed host: interopd's own socket, and no configuration file to parse (YAML
                // would cost about as much as the call itself).
                service = direct;
            }
            else
            {
                var bus = BusResolver.Resolve(context, busOption);
                service = context.ConnectLifecycle is { } connect
                    ? connect(bus)
                    : await context.Connect(bus, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                switch (call.Event)
                {
                    case LifecycleEvent.Prepare:
                        await service.PrepareContainerAsync(call.Manager, call.Name, call.Facts, cancellationToken).ConfigureAwait(false);
                        break;
                    case LifecycleEvent.Started:
                    case LifecycleEvent.Reconnect:
                        var leader = call.Leader ?? throw new InvalidInputException("pid", "the manager passed no leader pid");
                        await service.RegisterContainerAsync(call.Manager, call.Name, (uint)leader, call.Facts, cancellationToken).ConfigureAwait(false);
                        break;
                    case LifecycleEvent.Stopped:
                        await service.StopContainerAsync(call.Manager, call.Name, call.Facts, cancellationToken).ConfigureAwait(false);
                        break;
                    case LifecycleEvent.Released:
                        if (!await service.ReleaseContainerAsync(call.Manager, call.Name, call.Facts, cancellationToken).ConfigureAwait(false))
                        {
                            // Not an error (release never fails the manager), but the admin should see it in the manager's log.
                            Errors.Warn(context, $"{what}: interopd had no mapping for it (never prepared, or outside the shared root); nothing was released");
                        }

                        break;
                }
            }
            finally
            {
                await ServiceCommand.DisposeAsync(service).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        }
        catch (Exception ex)
        {
            if (call.IsEndOfLife)
            {
                Errors.Warn(context, $"{what}: {Errors.Classify(ex, hook: true).Message} (the container was not held up)");
                return ExitCodes.Ok;
            }

            return Errors.Report(context, ex, hook: true, what: what + " refused");
        }
    }

    /// <summary>Bad input from the manager: refuse (1), unless the call claims to be an end-of-life one, which must never fail.</summary>
    public static int BadInput(CliContext context, string manager, InvalidInputException ex, LifecycleEvent claimed)
    {
        if (claimed.IsEndOfLife())
        {
            Errors.Warn(context, $"{manager} hook ignored: {ex.Message}");
            return ExitCodes.Ok;
        }

        Errors.WriteLine(context, $"{manager} hook refused: {ex.Message}");
        return ExitCodes.Failed;
    }
}
