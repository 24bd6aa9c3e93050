using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Interop.Ctl.Commands;

namespace Interop.Ctl;

/// <summary>
/// Builds the command tree and runs one command line against a <see cref="CliContext"/>. Program.Main passes
/// the real process context; tests pass captured writers and a substitute client.
/// </summary>
internal static class Cli
{
    private static readonly string[] HelpTokens = ["-h", "--help", "-?"];

    public static RootCommand Build(CliContext context)
    {
        var globals = new GlobalOptions();
        var hook = new Command("hook", "Entry points for the container managers' hooks; admins do not run these by hand.")
        {
            HookLxcCommand.Create(context, globals),
            HookLibvirtCommand.Create(context, globals),
        };

        var root = new RootCommand(
            "interopctl: query and drive interopd, which lets LXC and libvirt containers share one cgroup hierarchy.\n" +
            "Admins use list, show, whois, tree and status; the managers' hooks run 'interopctl hook ...'.")
        {
            globals.Bus,
            globals.Json,
            ListCommand.Create(context, globals),
            ShowCommand.Create(context, globals),
            WhoisCommand.Create(context, globals),
            TreeCommand.Create(context, globals),
            StatusCommand.Create(context, globals),
            SetupCommand.Create(context, globals),
            PruneCommand.Create(context, globals),
            GetCommand.Create(context, globals),
            SetCommand.Create(context, globals),
            TopCommand.Create(context, globals),
            MetricsCommand.Create(context, globals),
            LxcConfigCommand.Create(context),
            hook,
            GenerateCommand.Create(context),
        };

        foreach (var option in root.Options)
        {
            if (option is HelpOption help && help.Action is HelpAction action)
            {
                help.Action = new EpilogHelpAction(action);
            }
        }

        return root;
    }

    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        if (DirectHook(args, context, cancellationToken) is { } hook)
        {
            return await hook.ConfigureAwait(false);
        }

        RootCommand root;
        ParseResult parseResult;
        try
        {
            root = Build(context);

            // No response files: a hook argument starting with '@' is a name, not a file to expand.
            parseResult = root.Parse(ProtectHookArgs(args), new ParserConfiguration { ResponseFileTokenReplacer = null });
        }
        catch (Exception ex)
        {
            return Errors.Report(context, ex);
        }

        if (parseResult.Errors.Count > 0 && parseResult.Action is not EpilogHelpAction)
        {
            var isHook = args.Contains("hook");
            Errors.WriteLine(context, $"{parseResult.Errors[0].Message} (see 'interopctl --help')");
            return isHook ? ExitCodes.Failed : ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };
        try
        {
            return await parseResult.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return Errors.Report(context, ex);
        }
    }

    /// <summary>
    /// The arguments of "interopctl hook libvirt ..." when this process was started as libvirt's hook itself: libvirt
    /// runs every executable in /etc/libvirt/hooks/lxc.d (or the one file /etc/libvirt/hooks/lxc) by its path, so
    /// argv[0] is a path there, and a link there to interopctl is the hook without a shell in between (one process
    /// fewer on each of the five calls of a domain's start and stop). Null for any other name.
    /// </summary>
    internal static string[]? LibvirtHookArgs(string? argv0, string[] args)
    {
        var dir = Path.GetDirectoryName(argv0);
        if (string.IsNullOrEmpty(dir))
        {
            return null;
        }

        var parent = Path.GetFileName(dir);
        return parent == "lxc.d" || (parent == "hooks" && Path.GetFileName(argv0) == "lxc") ? ["hook", "libvirt", "--", .. args] : null;
    }

    /// <summary>
    /// The managers' hooks run "interopctl hook lxc|libvirt ARGS..." on every container start: that exact shape
    /// goes straight to the hook, without building the whole command tree (a measurable share of the start-up).
    /// Anything else (global options first, a help request) takes the normal parser.
    /// </summary>
    internal static Task<int>? DirectHook(string[] args, CliContext context, CancellationToken cancellationToken)
    {
        if (args.Length < 2 || args[0] != "hook" || (args.Length == 3 && HelpTokens.Contains(args[2])))
        {
            return null;
        }

        var rest = args.Length > 2 && args[2] == "--" ? args[3..] : args[2..];
        return args[1] switch
        {
            "lxc" => HookLxcCommand.RunAsync(context, rest, null, cancellationToken),
            "libvirt" => HookLibvirtCommand.RunAsync(context, rest, null, cancellationToken),
            _ => null,
        };
    }

    /// <summary>
    /// Inserts "--" after "hook lxc" / "hook libvirt" so the managers' words reach the handler verbatim, even
    /// when they look like options ("--x", "-h" as a container name, "@file"). Only the global options may precede
    /// "hook". A lone --help after the hook name still shows help.
    /// </summary>
    internal static string[] ProtectHookArgs(string[] args)
    {
        var i = 0;
        while (i < args.Length)
        {
            if (args[i] == "--bus")
            {
                i += 2;
            }
            else if (args[i] == "--json" || args[i].StartsWith("--bus=", StringComparison.Ordinal) || args[i].StartsWith("--bus:", StringComparison.Ordinal))
            {
                i++;
            }
            else
            {
                break;
            }
        }

        if (i + 1 >= args.Length || args[i] != "hook" || args[i + 1] is not ("lxc" or "libvirt"))
        {
            return args;
        }

        var rest = i + 2;
        if (rest == args.Length || (rest == args.Length - 1 && HelpTokens.Contains(args[rest])))
        {
            return args;
        }

        var result = new string[args.Length + 1];
        Array.Copy(args, result, rest);
        result[rest] = "--";
        Array.Copy(args, rest, result, rest + 1, args.Length - rest);
        return result;
    }

    /// <summary>The standard help, followed by the exit codes and where the bus address comes from.</summary>
    private sealed class EpilogHelpAction(HelpAction inner) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            inner.Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine(ExitCodes.Epilog);
            output.WriteLine();
            return ExitCodes.Ok;
        }
    }
}
