using Tmds.DBus.Protocol;

namespace Interop.DBus;

/// <summary>Turns the --bus option ("system", "session" or an explicit D-Bus address) into an address.</summary>
public static class BusAddress
{
    public const string System = "system";
    public const string Session = "session";

    /// <exception cref="DaemonUnreachableException">the named bus has no address (e.g. no session bus).</exception>
    public static string Resolve(string bus)
    {
        ArgumentException.ThrowIfNullOrEmpty(bus);
        return bus switch
        {
            System => DBusAddress.System ?? throw new DaemonUnreachableException(bus, "the system bus address is unknown"),
            Session => DBusAddress.Session ?? throw new DaemonUnreachableException(bus, "DBUS_SESSION_BUS_ADDRESS is not set"),
            _ => bus,
        };
    }
}
