using Interop.Core;

namespace Interop.DBus;

/// <summary>What interopd answers for an exception, on the bus and on the private socket alike: one mapping.</summary>
internal static class BusErrors
{
    internal const string Failed = "org.freedesktop.DBus.Error.Failed";
    internal const string UnknownMethod = "org.freedesktop.DBus.Error.UnknownMethod";

    /// <summary>The D-Bus error name and message for <paramref name="exception"/>.</summary>
    /// <param name="exception">What the call threw.</param>
    /// <param name="unexpected">True for a fault of interopd itself (not a refusal): the caller logs it.</param>
    public static (string Name, string Message) Describe(Exception exception, out bool unexpected)
    {
        unexpected = false;
        switch (exception)
        {
            case InteropException interop:
                return (interop.ErrorName, interop.Message);
            case OperationCanceledException:
                return (Failed, "interopd is shutting down; try again");
            default:
                unexpected = true;
                return (Failed, $"internal error in interopd ({exception.GetType().Name}); see the daemon log");
        }
    }
}
