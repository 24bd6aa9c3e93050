using System.CommandLine;
using Interop.Core.Adapters.Lxc;

namespace Interop.Ctl.Commands;

/// <summary><c>interopctl lxc-config</c>: prints the LXC include file (no daemon needed).</summary>
internal static class LxcConfigCommand
{
    public static Command Create(CliContext context)
    {
        var ctl = new Option<string>("--interopctl")
        {
            Description = "Absolute path of interopctl for the hook lines. Default: this executable.",
            HelpName = "PATH",
        };
        var root = new Option<string>("--shared-root")
        {
            Description = "The shared root (e.g. /machine). Default: shared_root in /etc/interop/interop.yaml, else /machine.",
            HelpName = "PATH",
        };
        var command = new Command(
            "lxc-config",
            $"Print the LXC include file (lxc.cgroup.dir and the pre-start, start-host, stop and post-stop hooks). 'make install' writes it to {LxcConfig.IncludePath}; containers use it with 'lxc.include = {LxcConfig.IncludePath}'.")
        {
            ctl,
            root,
        };
        command.SetAction(parseResult => Run(context, parseResult.GetValue(ctl), parseResult.GetValue(root)));
        return command;
    }

    internal static int Run(CliContext context, string? interopctlPath, string? sharedRoot)
    {
        try
        {
            var path = string.IsNullOrEmpty(interopctlPath) ? context.ProcessPath ?? string.Empty : interopctlPath;
            var root = string.IsNullOrEmpty(sharedRoot) ? BusResolver.LoadConfig(context).SharedRoot : sharedRoot;
            context.Out.Write(LxcConfig.IncludeFile(root, path));
            return ExitCodes.Ok;
        }
        catch (Exception ex)
        {
            return Errors.Report(context, ex);
        }
    }
}
