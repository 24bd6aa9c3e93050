using System.Globalization;
using System.Text;
using Interop.Core;
using Interop.Core.Model;

namespace Interop.DBus.Direct;

/// <summary>
/// The managers' hooks' way to interopd: the four lifecycle calls over a blocking unix socket, in as few round
/// trips as the bus allows. The authentication (AUTH EXTERNAL, BEGIN), Hello and the call go out in one write,
/// as sd-bus does, and the first reply that answers the call ends it.
/// </summary>
/// <remarks>
/// Why not <see cref="InteropClient"/>: a hook is a whole process per call, and the general client's start-up
/// (System.Net's socket engine and its threads, the async machinery, three round trips before the call) cost
/// a hook ~5 ms of its ~20 ms on the benchmark machine (docs/benchmarks.md). The errors are the same: an error
/// reply's name and typed fields map through <see cref="ErrorCodec.ToException"/>.
/// Calls are synchronous (the returned tasks are complete); the cancellation token is not observed: a call
/// gives up at its deadline instead: one deadline for the connect and one for each whole call (send, every
/// receive, however the peer trickles bytes or signals), so a hook never blocks a container start without bound.
/// </remarks>
public sealed class DirectClient : ILifecycleClient
{
    /// <summary>Beyond the bus's own reply timeout (25 s by default), so that its NoReply error is what a caller sees.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private const string BusService = "org.freedesktop.DBus";
    private const string BusPath = "/org/freedesktop/DBus";
    private const uint HelloSerial = 1;

    /// <summary>A reply to a lifecycle call is a few dozen bytes; anything this big is not one (and is not buffered).</summary>
    private const int MaxMessageBytes = 1 << 20;

    private readonly UnixSocket _socket;
    private readonly string _bus;
    private readonly string _address;
    private readonly TimeSpan _timeout;
    private long _deadline;
    private byte[] _buffer = new byte[4096];
    private int _buffered;
    private bool _authenticated;
    private byte[]? _greeting;
    private uint _serial = HelloSerial;

    private DirectClient(UnixSocket socket, string bus, string address, TimeSpan timeout)
    {
        _timeout = timeout;
        _socket = socket;
        _bus = bus;
        _address = address;

        // Sent with the first call: NUL, AUTH EXTERNAL <uid as hex-encoded ASCII>, BEGIN, then Hello.
        var uid = UnixSocket.EffectiveUid().ToString(CultureInfo.InvariantCulture);
        var auth = Encoding.ASCII.GetBytes($"\0AUTH EXTERNAL {Convert.ToHexStringLower(Encoding.ASCII.GetBytes(uid))}\r\nBEGIN\r\n");
        var hello = MessageWriter.MethodCall(HelloSerial, BusService, BusPath, BusService, "Hello", string.Empty, null);
        _greeting = [.. auth, .. hello];
    }

    /// <summary>
    /// interopd's private socket (root only), or null when it is not there or does not take us: the caller then
    /// goes by the bus. Whatever bus the configuration names, the daemon behind the socket is the same one.
    /// </summary>
    public static DirectClient? TryConnectPrivate(string path = PrivateSocket.DefaultPath, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var address = "unix:path=" + path;
        return File.Exists(path) && UnixSocket.Connect(address, limit, out _, out _) is { } peer
            ? new DirectClient(peer, "private socket", address, limit)
            : null;
    }

    /// <summary>Connects to <paramref name="bus"/>: "system", "session" or an address such as "unix:path=/run/x".</summary>
    /// <exception cref="DaemonUnreachableException">the bus cannot be reached.</exception>
    public static DirectClient Connect(string bus, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var address = BusAddress.Resolve(bus);
        var socket = UnixSocket.Connect(address, limit, out var error, out var timedOut)
            ?? throw (timedOut
                ? DaemonUnreachableException.NoAnswer(bus, $"the bus at {address}: {error}")
                : new DaemonUnreachableException(bus, $"cannot connect to the bus at {address}: {error}"));
        return new DirectClient(socket, bus, address, limit);
    }

    public Task PrepareContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default)
    {
        Call("PrepareContainer", "ssa{ss}", ManagerNameFacts(manager, name, null, facts));
        return Task.CompletedTask;
    }

    public Task<string> RegisterContainerAsync(Manager manager, string name, uint leader, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default)
    {
        var reply = Call("RegisterContainer", "ssua{ss}", ManagerNameFacts(manager, name, leader, facts));
        return Task.FromResult(reply.Signature == "o" ? reply.FirstString!
            : throw new DaemonErrorException("org.freedesktop.DBus.Error.InvalidSignature", $"RegisterContainer answered '{reply.Signature}', not 'o'"));
    }

    public Task<bool> ReleaseContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default)
    {
        var reply = Call("ReleaseContainer", "ssa{ss}", ManagerNameFacts(manager, name, null, facts));
        return Task.FromResult(reply.Signature == "b" ? reply.FirstUInt32 != 0
            : throw new DaemonErrorException("org.freedesktop.DBus.Error.InvalidSignature", $"ReleaseContainer answered '{reply.Signature}', not 'b'"));
    }

    public Task StopContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default)
    {
        Call("StopContainer", "ssa{ss}", ManagerNameFacts(manager, name, null, facts));
        return Task.CompletedTask;
    }

    public void Dispose() => _socket.Dispose();

    private static MessageWriter ManagerNameFacts(Manager manager, string name, uint? leader, IReadOnlyDictionary<string, string> facts)
    {
        var body = new MessageWriter();
        body.String(manager.ToWire());
        body.String(name);
        if (leader is { } pid)
        {
            body.UInt32(pid);
        }

        body.StringDictionary(facts);
        return body;
    }

    /// <summary>One method call on interopd's manager object; the reply that answers it, or its error mapped.</summary>
    private ReplyMessage Call(string member, string signature, MessageWriter body)
    {
        var serial = ++_serial;
        var call = MessageWriter.MethodCall(serial, ObjectPaths.BusName, ObjectPaths.ManagerPath, ObjectPaths.ManagerInterface, member, signature, body);

        // One deadline for the whole call, whatever the peer sends meanwhile (signals, a reply a byte at a time).
        _deadline = Environment.TickCount64 + (long)_timeout.TotalMilliseconds;
        try
        {
            _socket.SetTimeout(Remaining());
            _socket.SendAll(_greeting is null ? call : [.. _greeting, .. call]);
            _greeting = null;
            if (!_authenticated)
            {
                Authenticate();
            }

            while (true)
            {
                var reply = NextMessage();
                if (reply.Type is not (WireConstants.MethodReturn or WireConstants.Error) || (reply.ReplySerial != serial && reply.ReplySerial != HelloSerial))
                {
                    continue; // NameAcquired and any other signal
                }

                if (reply.Type == WireConstants.Error)
                {
                    throw ErrorCodec.ToException(_bus, new ErrorReply(reply.ErrorName ?? "org.freedesktop.DBus.Error.Failed", reply.Signature, reply.ErrorArgs));
                }

                if (reply.ReplySerial == serial)
                {
                    return reply;
                }
            }
        }
        catch (BusTimeoutException ex)
        {
            throw DaemonUnreachableException.NoAnswer(_bus, ex.Message, ex);
        }
        catch (IOException ex)
        {
            throw new DaemonUnreachableException(_bus, $"the bus connection at {_address} failed: {ex.Message}", ex);
        }
        catch (InvalidDataException ex)
        {
            throw new DaemonUnreachableException(_bus, $"the bus at {_address} sent a malformed message: {ex.Message}", ex);
        }
    }

    /// <summary>The server's answer to AUTH: "OK &lt;guid&gt;" and, since BEGIN went with it, nothing more.</summary>
    private void Authenticate()
    {
        int end;
        while ((end = _buffer.AsSpan(0, _buffered).IndexOf("\r\n"u8)) < 0)
        {
            if (_buffered > 512)
            {
                throw new InvalidDataException("an authentication line longer than 512 bytes");
            }

            Fill();
        }

        var line = Encoding.ASCII.GetString(_buffer, 0, end);
        if (!line.StartsWith("OK ", StringComparison.Ordinal))
        {
            throw new IOException($"the bus refused AUTH EXTERNAL for uid {UnixSocket.EffectiveUid()}: '{Printable.Of(line)}'");
        }

        Consume(end + 2);
        _authenticated = true;
    }

    private ReplyMessage NextMessage()
    {
        int length;
        while ((length = MessageReader.MessageLength(_buffer.AsSpan(0, _buffered))) == 0 || length > _buffered)
        {
            if (length > MaxMessageBytes)
            {
                throw new InvalidDataException($"the bus sent a message of {length} bytes, more than any answer to a lifecycle call");
            }

            if (length > _buffer.Length)
            {
                Array.Resize(ref _buffer, length);
            }

            Fill();
        }

        var reply = MessageReader.Parse(_buffer.AsSpan(0, length));
        Consume(length);
        return reply;
    }

    private void Fill()
    {
        if (_buffered == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        _socket.SetTimeout(Remaining());
        var n = _socket.Receive(_buffer.AsSpan(_buffered));
        if (n == 0)
        {
            throw new IOException("the bus closed the connection");
        }

        _buffered += n;
    }

    /// <summary>What is left of the call's deadline; a deadline already past ends the call.</summary>
    private TimeSpan Remaining()
    {
        var left = _deadline - Environment.TickCount64;
        return left > 0
            ? TimeSpan.FromMilliseconds(left)
            : throw new BusTimeoutException($"no answer from the bus in {_timeout.TotalSeconds:0.#} s (timed out)");
    }

    private void Consume(int count)
    {
        _buffer.AsSpan(count, _buffered - count).CopyTo(_buffer);
        _buffered -= count;
    }
}
