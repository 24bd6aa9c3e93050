namespace Interop.Core.Config;

/// <summary>
/// Which bus interopd serves on and interopctl calls: an explicit --bus, else $INTEROP_BUS_ADDRESS, else the
/// configuration's <c>bus</c> (system by default). The one home of that order: both programs ask it, so the two
/// ends agree. The configuration is asked for only when neither of the first two is set (the hook runs on
/// every container start; libvirt scrubs its hooks' environment, which is why the file is the fallback).
/// </summary>
public static class BusChoice
{
    /// <summary>The environment variable that names the bus when --bus is not given.</summary>
    public const string Variable = "INTEROP_BUS_ADDRESS";

    /// <summary>The bus: <paramref name="option"/>, else <paramref name="fromEnvironment"/>, else <paramref name="configured"/>().</summary>
    public static string Resolve(string? option, string? fromEnvironment, Func<string> configured)
    {
        ArgumentNullException.ThrowIfNull(configured);
        return !string.IsNullOrEmpty(option) ? option
            : !string.IsNullOrEmpty(fromEnvironment) ? fromEnvironment
            : configured();
    }
}
