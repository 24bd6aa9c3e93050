using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Interop.Core;
using Interop.Core.Model;
using Interop.Core.Service;
using Microsoft.Extensions.Logging;

namespace Interop.DBus.Direct;

/// <summary>
/// interopd's root-only peer-to-peer D-Bus socket for the hooks (like systemd's /run/systemd/private): a hook
/// talks to interopd without the bus daemon's relay, which is a third of a hook's cost (docs/benchmarks.md).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Only root: the socket file is 0600 in a root-owned dir, and every peer's SO_PEERCRED uid must be 0.
/// Admins and allowed users keep the bus, with its policy and the caller checks of <see cref="InteropBusService"/>.</item>
/// <item>It speaks the D-Bus wire protocol (SASL EXTERNAL, then messages), so a client that would talk to a bus
/// works unchanged: Hello is answered with a unique name, Peer.Ping with nothing, and the four lifecycle calls
/// (PrepareContainer, RegisterContainer, StopContainer, ReleaseContainer) as the bus object answers them, with the
/// same error names and messages. Everything else is refused with UnknownMethod: queries and signals are the
/// bus's.</item>
/// <item>Each connection is read with a deadline (a silent peer is closed after <see cref="IdleTimeout"/>) and at
/// most <see cref="MaxConnections"/> are served at once.</item>
/// </list>
/// </remarks>
public sealed class PrivateSocket : IAsyncDisposable
{
    /// <summary>Where interopd listens by default and where a hook that names no bus looks first.</summary>
    public const string DefaultPath = "/run/interop/private";

    public const int MaxConnections = 64;

    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(30);

    private const int MaxMessageBytes = 1 << 20;

    private readonly Socket _listener;
    private readonly ILifecycleService _service;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _slots = new(MaxConnections, MaxConnections);
    private readonly string _guid = Guid.NewGuid().ToString("N");
    private readonly Task _accepting;
    private readonly bool _madeDir;
    private int _disposed;

    private PrivateSocket(Socket listener, string path, bool madeDir, ILifecycleService service, ILogger log)
    {
        _madeDir = madeDir;
        _listener = listener;
        Path = path;
        _service = service;
        _log = log;
        _accepting = AcceptAsync();
    }

    public string Path { get; }

    /// <summary>Listens on <paramref name="path"/> (its dir is made 0755 if missing; a stale socket file is replaced).</summary>
    /// <exception cref="IOException">the socket cannot be made there.</exception>
    public static PrivateSocket Start(string path, ILifecycleService service, ILogger log)
    {
        var dir = System.IO.Path.GetDirectoryName(path) ?? "/";
        var madeDir = !Directory.Exists(dir);
        Directory.CreateDirectory(dir);
        if (File.Exists(path) || Directory.Exists(path))
        {
            File.Delete(path);
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            listener.Listen(MaxConnections);
        }
        catch (Exception e) when (e is SocketException or UnauthorizedAccessException)
        {
            listener.Dispose();
            throw new IOException($"cannot listen on {path}: {e.Message}", e);
        }

        return new PrivateSocket(listener, path, madeDir, service, log);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _accepting.ConfigureAwait(false);
        try
        {
            File.Delete(Path);
            if (_madeDir)
            {
                // Leave the host as it was (systemd's RuntimeDirectory= makes and removes its own).
                Directory.Delete(System.IO.Path.GetDirectoryName(Path)!);
            }
        }
        catch (IOException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket peer;
            try
            {
                peer = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                _log.LogWarning("private socket {0}: accept failed: {1}", Path, e.Message);
                continue;
            }

            if (!_slots.Wait(0))
            {
                peer.Dispose(); // more than MaxConnections at once: the client falls back to the bus
                continue;
            }

            _ = ServeAsync(peer);
        }
    }

    private async Task ServeAsync(Socket peer)
    {
        try
        {
            using (peer)
            using (var idle = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                idle.CancelAfter(IdleTimeout);
                if (PeerUid(peer) != 0)
                {
                    return;
                }

                var connection = new Connection(peer, idle.Token);
                if (await connection.AuthenticateAsync(_guid).ConfigureAwait(false))
                {
                    while (await connection.NextMessageAsync().ConfigureAwait(false) is { } message)
                    {
                        await connection.SendAsync(await AnswerAsync(message, idle.Token).ConfigureAwait(false)).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or InvalidDataException or ObjectDisposedException)
        {
            // The peer went, sent garbage or fell silent: its connection ends, nothing else does.
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>The connected peer's uid (SO_PEERCRED: struct ucred { pid, uid, gid }); uint.MaxValue when unknown.</summary>
    private static uint PeerUid(Socket peer)
    {
        var credentials = new byte[12];
        return peer.GetRawSocketOption(1 /* SOL_SOCKET */, 17 /* SO_PEERCRED */, credentials) == 12
            ? BitConverter.ToUInt32(credentials, 4)
            : uint.MaxValue;
    }

    private async Task<byte[]> AnswerAsync(MethodCallMessage call, CancellationToken cancellationToken)
    {
        var serial = call.Serial; // our own serials only need to be unique per connection: reuse the caller's
        try
        {
            switch (call.Interface, call.Member)
            {
                case ("org.freedesktop.DBus", "Hello"):
                    var name = new MessageWriter();
                    name.String(":1." + serial.ToString(CultureInfo.InvariantCulture));
                    return MessageWriter.Reply(serial, call.Serial, null, "s", name);
                case ("org.freedesktop.DBus.Peer", "Ping"):
                    return MessageWriter.Reply(serial, call.Serial, null, string.Empty, null);
            }

            if (call.Interface != ObjectPaths.ManagerInterface || call.Path != ObjectPaths.ManagerPath)
            {
                return Error(call, BusErrors.UnknownMethod, $"the private socket serves only the lifecycle calls on {ObjectPaths.ManagerPath}; use the bus for {call.Interface}.{call.Member}");
            }

            switch (call.Member)
            {
                case "PrepareContainer" when call.Signature == "ssa{ss}":
                    await _service.PrepareContainerAsync(call.Manager, call.Name, call.Facts, cancellationToken).ConfigureAwait(false);
                    return MessageWriter.Reply(serial, call.Serial, null, string.Empty, null);
                case "RegisterContainer" when call.Signature == "ssua{ss}":
                    var mapping = await _service.RegisterContainerAsync(call.Manager, call.Name, call.Leader, call.Facts, cancellationToken).ConfigureAwait(false);
                    var path = new MessageWriter();
                    path.String(ObjectPaths.ForContainer(mapping.Manager, mapping.Name));
                    return MessageWriter.Reply(serial, call.Serial, null, "o", path);
                case "StopContainer" when call.Signature == "ssa{ss}":
                    await _service.StopContainerAsync(call.Manager, call.Name, call.Facts, cancellationToken).ConfigureAwait(false);
                    return MessageWriter.Reply(serial, call.Serial, null, string.Empty, null);
                case "ReleaseContainer" when call.Signature == "ssa{ss}":
                    var released = await _service.ReleaseContainerAsync(call.Manager, call.Name, call.Facts, cancellationToken).ConfigureAwait(false);
                    var flag = new MessageWriter();
                    flag.UInt32(released ? 1u : 0u);
                    return MessageWriter.Reply(serial, call.Serial, null, "b", flag);
                case "PrepareContainer" or "RegisterContainer" or "StopContainer" or "ReleaseContainer":
                    return Error(call, InteropBusService.InvalidArgs, $"{call.Member} expects arguments of type '{(call.Member == "RegisterContainer" ? "ssua{ss}" : "ssa{ss}")}', got '{call.Signature}'");
                default:
                    return Error(call, BusErrors.UnknownMethod, $"the private socket serves only the lifecycle calls; use the bus for {call.Member}");
            }
        }
        catch (InteropException e)
        {
            // The same body as on the bus: the message, then the error's typed fields (ErrorCodec).
            var body = new MessageWriter();
            var values = ErrorCodec.Values(e);
            foreach (var value in values)
            {
                if (value is int number)
                {
                    body.UInt32(unchecked((uint)number));
                }
                else
                {
                    body.String((string)value);
                }
            }

            return MessageWriter.Reply(call.Serial, call.Serial, e.ErrorName, ErrorCodec.Signature(e), body);
        }
        catch (Exception e) when (e is not OperationCanceledException || !_stop.IsCancellationRequested)
        {
            var (errorName, message) = BusErrors.Describe(e, out var unexpected);
            if (unexpected)
            {
                _log.LogError(e, "{0} on the private socket failed: {1}", call.Member, e.Message);
            }

            return Error(call, errorName, message);
        }
    }

    private static byte[] Error(MethodCallMessage call, string name, string message)
    {
        var body = new MessageWriter();
        body.String(message);
        return MessageWriter.Reply(call.Serial, call.Serial, name, "s", body);
    }

    /// <summary>One peer: the SASL exchange, then whole messages, each read within the connection's deadline.</summary>
    private sealed class Connection(Socket socket, CancellationToken cancellationToken)
    {
        private byte[] _buffer = new byte[4096];
        private int _buffered;

        /// <summary>NUL, AUTH EXTERNAL, [NEGOTIATE_UNIX_FD], BEGIN: the peer's uid was checked by SO_PEERCRED already.</summary>
        public async Task<bool> AuthenticateAsync(string guid)
        {
            if (!await FillAsync(1).ConfigureAwait(false) || _buffer[0] != 0)
            {
                return false;
            }

            Consume(1);
            var ok = Encoding.ASCII.GetBytes($"OK {guid}\r\n");
            while (await ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (line.StartsWith("AUTH EXTERNAL ", StringComparison.Ordinal))
                {
                    await SendAsync(ok).ConfigureAwait(false);
                }
                else if (line == "AUTH EXTERNAL")
                {
                    // No initial response (sd-bus): an empty challenge, answered by DATA [response].
                    await SendAsync("DATA\r\n"u8.ToArray()).ConfigureAwait(false);
                }
                else if (line == "DATA" || line.StartsWith("DATA ", StringComparison.Ordinal))
                {
                    await SendAsync(ok).ConfigureAwait(false);
                }
                else if (line == "BEGIN")
                {
                    return true;
                }
                else if (line.StartsWith("AUTH", StringComparison.Ordinal))
                {
                    await SendAsync("REJECTED EXTERNAL\r\n"u8.ToArray()).ConfigureAwait(false);
                }
                else
                {
                    // NEGOTIATE_UNIX_FD (no descriptors here) and anything else.
                    await SendAsync("ERROR\r\n"u8.ToArray()).ConfigureAwait(false);
                }
            }

            return false;
        }

        /// <summary>The next method call; null when the peer closed. Other message types are skipped.</summary>
        public async Task<MethodCallMessage?> NextMessageAsync()
        {
            while (true)
            {
                int length;
                while ((length = MessageReader.MessageLength(_buffer.AsSpan(0, _buffered))) == 0 || length > _buffered)
                {
                    if (length > MaxMessageBytes)
                    {
                        throw new InvalidDataException($"a message of {length} bytes");
                    }

                    if (!await FillAsync(Math.Max(length, 16)).ConfigureAwait(false))
                    {
                        return null;
                    }
                }

                var message = MethodCallMessage.Parse(_buffer.AsSpan(0, length));
                Consume(length);
                if (message is not null)
                {
                    return message;
                }
            }
        }

        public async Task SendAsync(byte[] data)
        {
            var sent = 0;
            while (sent < data.Length)
            {
                sent += await socket.SendAsync(data.AsMemory(sent), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
        }

        private async Task<string?> ReadLineAsync()
        {
            int end;
            while ((end = _buffer.AsSpan(0, _buffered).IndexOf("\r\n"u8)) < 0)
            {
                if (_buffered > 512 || !await FillAsync(_buffered + 1).ConfigureAwait(false))
                {
                    return null;
                }
            }

            var line = Encoding.ASCII.GetString(_buffer, 0, end);
            Consume(end + 2);
            return line;
        }

        /// <summary>Reads until at least <paramref name="count"/> bytes are buffered; false when the peer closed first.</summary>
        private async Task<bool> FillAsync(int count)
        {
            if (count > _buffer.Length)
            {
                Array.Resize(ref _buffer, count);
            }

            while (_buffered < count)
            {
                var n = await socket.ReceiveAsync(_buffer.AsMemory(_buffered), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    return false;
                }

                _buffered += n;
            }

            return true;
        }

        private void Consume(int count)
        {
            _buffer.AsSpan(count, _buffered - count).CopyTo(_buffer);
            _buffered -= count;
        }
    }
}

/// <summary>A method call as the private socket needs it: its address, and the lifecycle arguments when it carries them.</summary>
internal sealed record MethodCallMessage(uint Serial, string Path, string Interface, string Member, string Signature)
{
    public Manager Manager { get; private init; }

    public string Name { get; private init; } = string.Empty;

    public uint Leader { get; private init; }

    public IReadOnlyDictionary<string, string> Facts { get; private init; } = new Dictionary<string, string>();

    /// <summary>A method call, or null for any other message type.</summary>
    /// <exception cref="InvalidDataException">a malformed message (every index is checked).</exception>
    /// <exception cref="InvalidInputException">an unknown manager name.</exception>
    public static MethodCallMessage? Parse(ReadOnlySpan<byte> message)
    {
        MessageReader.Need(message, 0, 16);
        var big = MessageReader.Endianness(message[0]);
        if (message[1] != WireConstants.MethodCall)
        {
            return null;
        }

        var pos = 8;
        var serial = MessageReader.ReadUInt32At(message, ref pos, big);
        var fieldsEnd = 16 + (long)MessageReader.ReadUInt32At(message, ref pos, big);
        if (fieldsEnd > message.Length)
        {
            throw new InvalidDataException("the header fields run past the end of the message");
        }

        string path = string.Empty, iface = string.Empty, member = string.Empty, signature = string.Empty;
        while (pos < fieldsEnd)
        {
            pos = MessageReader.Align(pos, 8);
            MessageReader.Need(message, pos, 1);
            var code = message[pos++];
            switch (MessageReader.ReadSignature(message, ref pos))
            {
                case "u":
                    MessageReader.ReadUInt32At(message, ref pos, big);
                    break;
                case "s" or "o":
                    var text = MessageReader.ReadString(message, ref pos, big);
                    path = code == WireConstants.FieldPath ? text : path;
                    iface = code == WireConstants.FieldInterface ? text : iface;
                    member = code == WireConstants.FieldMember ? text : member;
                    break;
                case "g":
                    var sig = MessageReader.ReadSignature(message, ref pos);
                    signature = code == WireConstants.FieldSignature ? sig : signature;
                    break;
                default:
                    throw new InvalidDataException($"header field {code} has a type no D-Bus header field has");
            }
        }

        var call = new MethodCallMessage(serial, path, iface, member, signature);
        if (signature is not ("ssa{ss}" or "ssua{ss}"))
        {
            return call;
        }

        var body = message[MessageReader.Align((int)fieldsEnd, 8)..];
        var at = 0;
        var manager = ManagerNames.Parse(MessageReader.ReadString(body, ref at, big));
        var name = MessageReader.ReadString(body, ref at, big);
        var leader = signature == "ssua{ss}" ? MessageReader.ReadUInt32At(body, ref at, big) : 0;
        var length = MessageReader.ReadUInt32At(body, ref at, big);
        at = MessageReader.Align(at, 8);
        MessageReader.Need(body, at, length);
        var end = at + (int)length;
        var facts = new Dictionary<string, string>(StringComparer.Ordinal);
        while (at < end)
        {
            at = MessageReader.Align(at, 8);
            var key = MessageReader.ReadString(body, ref at, big);
            facts[key] = MessageReader.ReadString(body, ref at, big);
        }

        return call with { Manager = manager, Name = name, Leader = leader, Facts = facts };
    }
}
