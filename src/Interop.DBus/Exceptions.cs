using Interop.Core;

namespace Interop.DBus;

/// <summary>
/// The daemon cannot be reached: the bus is not there, or nobody owns org.interop.Interop1 on it.
/// interopctl exits with 3 on this.
/// </summary>
public sealed class DaemonUnreachableException : InteropException
{
    public DaemonUnreachableException(string bus, string detail, Exception? inner = null)
        : base($"interopd is not running on {bus} ({detail}; start it with 'systemctl start interopd')", inner)
    {
        Bus = bus;
    }

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
