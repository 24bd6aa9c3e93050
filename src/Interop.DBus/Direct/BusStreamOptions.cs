using System.Globalization;
using Tmds.DBus.Protocol;

namespace Interop.DBus.Direct;

/// <summary>
/// Connects interopd to the bus through a <see cref="BusStream"/> where the address names a unix socket, and
/// through Tmds.DBus.Protocol's own socket otherwise (tcp).
/// </summary>
/// <remarks>
/// A stream carries no file descriptors (Tmds.DBus.Protocol then does not negotiate them): nothing interopd serves
/// or calls passes one.
/// </remarks>
internal sealed class BusStreamOptions : DBusConnectionOptions
{
    private readonly string _address;

    public BusStreamOptions(string address)
        : base(address)
    {
        _address = address;
    }

    protected override async ValueTask<SetupResult> SetupAsync(CancellationToken cancellationToken)
    {
        // connect(2) waits while the bus's listen backlog is full: off the caller's thread, so a stop is not held up.
        var stream = await Task.Run(() => BusStream.Connect(_address), cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            return await base.SetupAsync(cancellationToken).ConfigureAwait(false);
        }

        return new SetupResult
        {
            ConnectionStream = stream,
            UserId = UnixSocket.EffectiveUid().ToString(CultureInfo.InvariantCulture),
        };
    }
}
