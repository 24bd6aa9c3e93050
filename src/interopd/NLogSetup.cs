using System.Diagnostics.CodeAnalysis;
using NLog;

namespace Interop.Daemon;

/// <summary>
/// interopd's one NLog-specific part: the configuration (/etc/interop/nlog.config) behind the
/// Microsoft.Extensions.Logging loggers that interopd and the libraries log to (NLogLoggerFactory).
/// </summary>
internal static class NLogSetup
{
    /// <summary>Loads <paramref name="path"/> when it exists, else logs Info and above to stderr in the shipped layout.</summary>
    /// <remarks>
    /// interopd is NativeAOT: NLog creates a typed layout of an XML attribute (the Console target's stdErr="true" is a
    /// Layout&lt;bool&gt;) by reflection on its public constructors, which the compiler keeps only for the types named
    /// here. Without them nlog.config's stdErr fails to load (and with throwConfigExceptions, interopd stops).
    /// </remarks>
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(NLog.Layouts.Layout<bool>))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(NLog.Layouts.Layout<int>))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(NLog.Layouts.Layout<long>))]
    public static void Configure(string path)
    {
        if (File.Exists(path))
        {
            // NLog resolves a relative path against the app's base directory, not the working directory.
            LogManager.Setup().LoadConfigurationFromFile(Path.GetFullPath(path));
            return;
        }

        LogManager.Setup().LoadConfiguration(builder =>
            builder.ForLogger().FilterMinLevel(LogLevel.Info).WriteToConsole(
                "${level:uppercase=true:padding=-5} ${logger:shortName=true}: ${message}${onexception:inner= ${exception:format=message}}",
                stderr: true));
    }

    /// <summary>Flushes and closes every target (at exit).</summary>
    public static void Shutdown() => LogManager.Shutdown();
}
