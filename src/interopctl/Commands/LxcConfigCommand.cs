using System.CommandLine;
using Interop.Core.Adapters.Lxc;
using Interop.Core.Config;
using Interop.Core.Systemd;

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
        var host = new Option<string>("--host")
        {
            Description = "Which host the file is for: systemd (lxc.cgroup.relative, a unit per container), plain (lxc.cgroup.dir), or auto (systemd when /run/systemd/system exists).",
            HelpName = "auto|systemd|plain",
            DefaultValueFactory = _ => "auto",
        };
        host.AcceptOnlyFromAmong("auto", "systemd", "plain");
        var startHost = new Option<string>("--start-host")
        {
            Description = "Whether the file has a start-host hook: no (interopd learns the init from the cgroup2 hierarchy: one hook process fewer per start), yes (hosts without cgroup2), or auto (no when this host mounts cgroup2).",
            HelpName = "auto|yes|no",
            DefaultValueFactory = _ => "auto",
        };
        startHost.AcceptOnlyFromAmong("auto", "yes", "no");
        var command = new Command(
            "lxc-config",
            $"Print the LXC include file (lxc.cgroup.dir and the pre-start, stop and post-stop hooks, plus start-host on hosts without cgroup2). 'make install' writes it to {LxcConfig.IncludePath}; containers use it with 'lxc.include = {LxcConfig.IncludePath}'.")
        {
            ctl,
            root,
            host,
            startHost,
        };
        command.SetAction(parseResult => Run(context, parseResult.GetValue(ctl), parseResult.GetValue(root), parseResult.GetValue(host), parseResult.GetValue(startHost)));
        return command;
    }

    internal static int Run(CliContext context, string? interopctlPath, string? sharedRoot, string? host = "plain", string? startHost = "yes")
    {
        try
        {
            var path = string.IsNullOrEmpty(interopctlPath) ? context.ProcessPath ?? string.Empty : interopctlPath;
            var systemd = host == "systemd" || (host == "auto" && context.IsSystemdHost?.Invoke() == true);
            var withStartHost = startHost == "yes" || (startHost == "auto" && context.HasCgroup2?.Invoke() != true);
            var config = string.IsNullOrEmpty(sharedRoot) ? BusResolver.LoadConfig(context) : new InteropConfig { SharedRoot = sharedRoot, SharedRootSet = true };
            if (systemd)
            {
                context.Out.Write(LxcConfig.SystemdIncludeFile(config.ForSystemd().SharedRoot, path, withStartHost));
                return ExitCodes.Ok;
            }

            var root = config.SharedRoot;
            context.Out.Write(LxcConfig.IncludeFile(root, path, withStartHost));
            return ExitCodes.Ok;
        }
        catch (Exception ex)
        {
            return Errors.Report(context, ex);
        }
    }
}
