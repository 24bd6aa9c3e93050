using System.Net.Sockets;

namespace Interop.TestSupport;

/// <summary>
/// A "bus" on a unix socket in a temp dir of its own that does what a real bus does not do on demand: refuse
/// authentication, answer big-endian, go silent, hang up, send garbage, send a reply a byte at a time, or trickle
/// signals forever. It accepts one connection, reads until <see cref="RequestComplete"/> says the client's request
/// is in, then sends the scripted replies, then (with <see cref="SignalEvery"/>) a signal at that pace for as long
/// as the client listens, then holds the connection until the client closes it.
/// </summary>
public sealed class ScriptedBusPeer : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("interop-peer-").FullName;
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly byte[][] _replies;
    private readonly Task<byte[]> _session;
    private int _signalsSent;

    /// <summary>Listens at once; the properties are read only once a client connected.</summary>
    public ScriptedBusPeer(params byte[][] replies)
    {
        _replies = replies;
        var path = Path.Combine(_dir, "bus");
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(1);
        Address = "unix:path=" + path;
        _session = Task.Run(Serve);
    }

    /// <summary>The answer to AUTH EXTERNAL that lets a client go on.</summary>
    public static byte[] AuthOk => "OK 0123456789abcdef0123456789abcdef\r\n"u8.ToArray();

    public string Address { get; }

    /// <summary>When the bytes received so far hold the whole request; by default once the client sent BEGIN.</summary>
    public Func<byte[], bool> RequestComplete { get; init; } = received => received.AsSpan().IndexOf("BEGIN\r\n"u8) >= 0;

    /// <summary>Shut the connection down once the request is in, instead of answering.</summary>
    public bool HangUp { get; init; }

    /// <summary>Sends each reply a byte at a time, this far apart.</summary>
    public TimeSpan? ByteDelay { get; init; }

    /// <summary>After the replies, a signal this often, for as long as the client listens.</summary>
    public TimeSpan? SignalEvery { get; init; }

    /// <summary>How many signals were sent so far.</summary>
    public int SignalsSent => Volatile.Read(ref _signalsSent);

    /// <summary>What the client sent, once the session is over (or 10 s passed).</summary>
    public async Task<byte[]> ReceivedAsync() => await _session.WaitAsync(TimeSpan.FromSeconds(10));

    /// <summary>A little-endian SIGNAL with a member field ("Ping") and no body: what a bus may send at any time.</summary>
    public static byte[] Signal() =>
    [
        (byte)'l', 4, 0, 1, 0, 0, 0, 0, 3, 0, 0, 0, 13, 0, 0, 0, // little-endian SIGNAL, version 1, no body, serial 3, 13 bytes of fields
        3, 1, (byte)'s', 0, 4, 0, 0, 0, (byte)'P', (byte)'i', (byte)'n', (byte)'g', 0, 0, 0, 0, // MEMBER "Ping", padded to 8
    ];

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        try
        {
            await _session.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The test ended before its client connected.
        }

        Directory.Delete(_dir, recursive: true);
    }

    private async Task<byte[]> Serve()
    {
        using var peer = await _listener.AcceptAsync();
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (!RequestComplete([.. received]))
        {
            var n = await peer.ReceiveAsync(buffer);
            if (n == 0)
            {
                return [.. received];
            }

            received.AddRange(buffer.AsSpan(0, n));
        }

        if (HangUp)
        {
            peer.Shutdown(SocketShutdown.Both);
            return [.. received];
        }

        try
        {
            foreach (var reply in _replies)
            {
                if (ByteDelay is { } delay)
                {
                    for (var i = 0; i < reply.Length; i++)
                    {
                        await peer.SendAsync(reply.AsMemory(i, 1));
                        await Task.Delay(delay);
                    }
                }
                else
                {
                    await peer.SendAsync(reply);
                }
            }

            while (SignalEvery is { } every)
            {
                await peer.SendAsync(Signal());
                Interlocked.Increment(ref _signalsSent);
                await Task.Delay(every);
            }
        }
        catch (SocketException)
        {
            // The client gave up and closed the connection.
            return [.. received];
        }

        // Hold the connection until the client closes it (a silent peer says nothing more).
        while (await peer.ReceiveAsync(buffer) > 0)
        {
        }

        return [.. received];
    }
}
