using Interop.Core.Config;

namespace Interop.Ctl;

/// <summary>
/// Where the daemon is, in the order <see cref="BusChoice"/> owns (--bus, $INTEROP_BUS_ADDRESS, the config
/// file's 'bus'), with the CLI's environment and file reader; the config file is read only when it is needed.
/// </summary>
internal static class BusResolver
{
    public static string Resolve(CliContext context, string? busOption) =>
        BusChoice.Resolve(busOption, context.GetVariable(BusChoice.Variable), () => LoadConfig(context).Bus);

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
        return InteropConfig.PathFrom(context.GetVariable(InteropConfig.PathVariable));
    }
}
