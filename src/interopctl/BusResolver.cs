using Interop.Core.Config;

namespace Interop.Ctl;

/// <summary>
/// Where the daemon is: --bus, else $INTEROP_BUS_ADDRESS, else the config file's 'bus', else the system bus.
/// The config file is read only when it is needed (hooks run on every container start, and libvirt scrubs
/// the hook environment, which is why the file is the fallback).
/// </summary>
internal static class BusResolver
{
    public const string BusVariable = "INTEROP_BUS_ADDRESS";
    public const string ConfigVariable = "INTEROP_CONFIG";

    public static string Resolve(CliContext context, string? busOption)
    {
        if (!string.IsNullOrEmpty(busOption))
        {
            return busOption;
        }

        var fromEnv = context.GetVariable(BusVariable);
        return !string.IsNullOrEmpty(fromEnv) ? fromEnv : LoadConfig(context).Bus;
    }

    /// <summary>The config file (a missing file means defaults).</summary>
    /// <exception cref="ConfigException">the file is broken: names file:line:column.</exception>
    public static InteropConfig LoadConfig(CliContext context)
    {
        var path = ConfigPath(context);
        var text = context.ReadFile(path);
        return text is null ? new InteropConfig() : ConfigLoader.Parse(text, path);
    }

    public static string ConfigPath(CliContext context)
    {
        var path = context.GetVariable(ConfigVariable);
        return string.IsNullOrEmpty(path) ? InteropConfig.DefaultPath : path;
    }
}
