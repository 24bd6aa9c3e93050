using Interop.Core;
using Interop.Core.Config;
using Interop.DBus;

namespace Interop.Ctl;

/// <summary>A command line that parsed but makes no sense (e.g. a name under both managers without --manager): exit 2.</summary>
internal sealed class UsageException : Exception
{
    public UsageException(string message)
        : base(message)
    {
    }
}

/// <summary>Turns every failure into ONE stderr line that says what to do, and an exit code. Never a stack trace.</summary>
internal static class Errors
{
    public const string Prefix = "interopctl: ";

    /// <summary>Reports <paramref name="ex"/>; <paramref name="hook"/> makes bad input a refusal (1) instead of a usage error (2).</summary>
    public static int Report(CliContext context, Exception ex, bool hook = false, string? what = null)
    {
        var (code, message) = Classify(ex, hook);
        WriteLine(context, what is null ? message : $"{what}: {message}");
        return code;
    }

    public static (int Code, string Message) Classify(Exception ex, bool hook) => ex switch
    {
        UsageException => (ExitCodes.Usage, ex.Message),
        InvalidInputException => (hook ? ExitCodes.Failed : ExitCodes.Usage, ex.Message),
        DaemonUnreachableException => (ExitCodes.Unreachable, ex.Message),
        NoSuchContainerException => (ExitCodes.NotFound, ex.Message + " (see 'interopctl list')"),
        AccessDeniedException => (ExitCodes.Failed, ex.Message + " (run it as root or as a user in allowed_users of /etc/interop/interop.yaml)"),
        ConfigException => (ExitCodes.Failed, ex.Message + " (fix the file, or pass --bus)"),
        InteropException => (ExitCodes.Failed, ex.Message),
        OperationCanceledException => (ExitCodes.Failed, "interrupted"),
        IOException or UnauthorizedAccessException => (ExitCodes.Failed, ex.Message),
        _ => (ExitCodes.Failed, $"unexpected error ({ex.GetType().Name}): {ex.Message}; please report it"),
    };

    public static void WriteLine(CliContext context, string message) => context.Error.WriteLine(Prefix + OneLine(message));

    public static void Warn(CliContext context, string message) => context.Error.WriteLine(Prefix + "warning: " + OneLine(message));

    public static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
