using System.CommandLine;
using Interop.Core;
using Interop.Core.Adapters.Libvirt;
using Interop.Core.Model;

namespace Interop.Ctl.Commands;

/// <summary>
/// <c>interopctl hook libvirt NAME OP SUBOP EXTRA...</c>: what /etc/libvirt/hooks/lxc.d/interop (a link to interopctl) runs, with the
/// domain XML on stdin (at most 1 MiB is accepted; stdin may be a terminal or /dev/null when run by hand).
/// </summary>
internal static class HookLibvirtCommand
{
    public static Command Create(CliContext context, GlobalOptions globals)
    {
        var args = new Argument<string[]>("NAME OP SUBOP EXTRA")
        {
            Description = "What libvirt passes to its lxc hook, e.g. 'web started begin -'; the domain XML comes on stdin.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command(
            "libvirt",
            "Run by libvirt's LXC driver hook (/etc/libvirt/hooks/lxc.d/interop). prepare, started and reconnect exit " +
            "non-zero to abort the domain; start is accepted; stopped and release never fail.")
        {
            args,
        };
        command.SetAction((parseResult, ct) => RunAsync(context, parseResult.GetValue(args) ?? [], parseResult.GetValue(globals.Bus), ct));
        return command;
    }

    internal static async Task<int> RunAsync(CliContext context, IReadOnlyList<string> args, string? busOption, CancellationToken cancellationToken)
    {
        var rawEvent = args.Count >= 2 ? LibvirtHook.EventOf(args[1]) : LifecycleEvent.Prepare;

        // Nothing to do for these (DESIGN.md section 7: start is accepted as it is), and libvirt runs this on every
        // start: stdin is left unread (libvirtd ignores SIGPIPE and the EPIPE of its write, "child closed stdin
        // early") and the document is not parsed.
        if (args.Count >= 3 && rawEvent is LifecycleEvent.Start or LifecycleEvent.Ignored)
        {
            return ExitCodes.Ok;
        }

        byte[] xml;
        try
        {
            // One byte more than accepted, so that an oversized document is refused instead of cut.
            xml = context.ReadStdin(LibvirtHook.MaxXmlBytes + 1);
        }
        catch (IOException ex) when (rawEvent is not (LifecycleEvent.Start or LifecycleEvent.Ignored))
        {
            return HookRunner.BadInput(context, "libvirt", new InvalidInputException("xml", $"cannot read stdin: {ex.Message}"), rawEvent);
        }
        catch (IOException)
        {
            // Too few arguments to be a start: the parse below says what is wrong.
            xml = [];
        }

        HookCall call;
        try
        {
            call = LibvirtHook.Parse(args, xml);
        }
        catch (InvalidInputException ex)
        {
            return HookRunner.BadInput(context, "libvirt", ex, rawEvent);
        }

        return await HookRunner.DispatchAsync(context, call, busOption, cancellationToken).ConfigureAwait(false);
    }
}
