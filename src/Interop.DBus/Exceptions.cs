using Interop.Core;

namespace Interop.DBus;

/// <summary>
/// The daemon cannot be reached: the bus is not there, nobody owns org.interop.Interop1 on it, or no answer came in time.
/// interopctl exits with 3 on this.
/// </summary>
public sealed class DaemonUnreachableException : InteropException
{
    public DaemonUnreachableException(string bus, string detail, Exception? inner = null)
        : this(inner, bus, $"interopd is not running on {bus} ({detail}; start it with 'systemctl start interopd')")
    {
    }

    private DaemonUnreachableException(Exception? inner, string bus, string message)
        : base(message, inner)
    {
        Bus = bus;
    }

    /// <summary>Connected, but no answer came in time: interopd may be there and stuck, so "not running" would mislead.</summary>
    public static DaemonUnreachableException NoAnswer(string bus, string detail, Exception? inner = null) =>
        new(inner, bus, $"interopd did not answer on {bus} ({detail}); it may be stuck or overloaded: see its log ('journalctl -u interopd')");

    /// <summary>The bus as the caller named it ("system", "session" or an address).</summary>
    public string Bus { get; }

    public override string ErrorName => "org.freedesktop.DBus.Error.ServiceUnknown";
}

/// <summary>An error reply whose name is not one of Interop's (e.g. org.freedesktop.DBus.Error.Failed).</summary>
public sealed class DaemonErrorException : InteropException
{
    public DaemonErrorException(string errorName, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorName = errorName;
    }

    public override string ErrorName { get; }
}
