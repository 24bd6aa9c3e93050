using System.CommandLine;
using Interop.Core;
using Interop.Core.Adapters.Lxc;
using Interop.Core.Model;

namespace Interop.Ctl.Commands;

/// <summary>
/// <c>interopctl hook lxc [args...]</c>: what the lxc.hook.pre-start, start-host, stop and post-stop lines of
/// the include file run. The words after "hook lxc" are LXC's, passed verbatim (Cli inserts "--" so that
/// version 0's "NAME lxc TYPE mnt:/proc/..." is never read as options).
/// </summary>
internal static class HookLxcCommand
{
    public static Command Create(CliContext context, GlobalOptions globals)
    {
        var args = new Argument<string[]>("ARGS")
        {
            Description = "What LXC passes: 'NAME lxc TYPE [ns args...]' (lxc.hook.version 0) or nothing (version 1: LXC_NAME, LXC_HOOK_TYPE).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command(
            "lxc",
            "Run by LXC's hooks (lxc.hook.pre-start, start-host, stop, post-stop; see 'interopctl lxc-config'). " +
            "pre-start and start-host exit non-zero to abort the start; stop and post-stop never fail.")
        {
            args,
        };
        command.SetAction((parseResult, ct) => RunAsync(context, parseResult.GetValue(args) ?? [], parseResult.GetValue(globals.Bus), ct));
        return command;
    }

    internal static async Task<int> RunAsync(CliContext context, IReadOnlyList<string> args, string? busOption, CancellationToken cancellationToken)
    {
        var env = context.GetLxcEnvironment();
        HookCall call;
        try
        {
            call = LxcHook.Parse(args, env);
        }
        catch (InvalidInputException ex)
        {
            return HookRunner.BadInput(context, "lxc", ex, LxcHook.ClaimedEvent(args, env));
        }

        if (call.Event == LifecycleEvent.Prepare && context.GetParentPid?.Invoke() is > 1 and var parent)
        {
            call = call with { Facts = new Dictionary<string, string>(call.Facts, StringComparer.Ordinal) { [FactKeys.ParentPid] = parent.ToString(System.Globalization.CultureInfo.InvariantCulture) } };
        }

        return await HookRunner.DispatchAsync(context, call, busOption, cancellationToken).ConfigureAwait(false);
    }
}
