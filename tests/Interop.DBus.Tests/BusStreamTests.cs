using System.Net.Sockets;
using Interop.DBus.Direct;

namespace Interop.DBus.Tests;

/// <summary>
/// BusStream, interopd's connection to the bus, against a plain unix socket: what the bus tests do not make
/// happen on demand (a hang-up mid-read, a dispose mid-read, a write bigger than the socket's buffer).
/// </summary>
public sealed class BusStreamTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Test]
    public async Task A_read_completes_on_the_reader_thread_with_what_the_peer_sent()
    {
        using var peer = new Peer();
        using var stream = peer.ConnectStream();
        var server = await peer.AcceptAsync();

        var buffer = new byte[64];
        var reading = ReadAsync();
        Assert.That(reading.IsCompleted, Is.False, "nothing was sent yet");

        // The bus may stay silent for as long as it likes: no receive timeout is left from the connect.
        await Task.Delay(300);
        Assert.That(reading.IsCompleted, Is.False, "the read still waits");
        await server.SendAsync("hello"u8.ToArray());
        var (n, thread) = await reading.WaitAsync(Patience);

        // The continuation ran where the bytes were read: Tmds.DBus.Protocol's dispatch runs there, no thread switch.
        Assert.Multiple(() =>
        {
            Assert.That(buffer[..n], Is.EqualTo("hello"u8.ToArray()));
            Assert.That(thread, Is.EqualTo("bus reader"));
        });

        // Awaited as Tmds.DBus.Protocol awaits a read.
        async Task<(int Read, string? Thread)> ReadAsync()
        {
            var read = await stream.ReadAsync(buffer).ConfigureAwait(false);
            return (read, Thread.CurrentThread.Name);
        }
    }

    [Test]
    public async Task A_write_bigger_than_the_sockets_buffer_arrives_whole_and_in_order()
    {
        using var peer = new Peer();
        using var stream = peer.ConnectStream();
        var server = await peer.AcceptAsync();
        var data = new byte[3 << 20];
        new Random(15).NextBytes(data);

        var receiving = Task.Run(async () =>
        {
            var got = new MemoryStream();
            var chunk = new byte[8192];
            while (got.Length < data.Length)
            {
                // A slow reader: the writer blocks on a full socket buffer in between.
                var n = await server.ReceiveAsync(chunk);
                if (n == 0)
                {
                    break;
                }

                got.Write(chunk, 0, n);
                if (got.Length % (256 << 10) < n)
                {
                    await Task.Delay(5);
                }
            }

            return got.ToArray();
        });
        await stream.WriteAsync(data).AsTask().WaitAsync(Patience);

        Assert.That(await receiving.WaitAsync(Patience), Is.EqualTo(data));
    }

    [Test]
    public async Task A_peer_that_hangs_up_ends_this_read_and_every_later_one()
    {
        using var peer = new Peer();
        using var stream = peer.ConnectStream();
        var server = await peer.AcceptAsync();

        var read = stream.ReadAsync(new byte[16]);
        server.Close();

        Assert.Multiple(async () =>
        {
            Assert.That(await read.AsTask().WaitAsync(Patience), Is.Zero);
            var again = stream.ReadAsync(new byte[16]);
            Assert.That(again.IsCompleted, Is.True, "nothing is left to read it");
            Assert.That(await again, Is.Zero);
        });
    }

    [Test]
    public async Task Disposing_ends_a_read_under_way_and_refuses_later_writes()
    {
        using var peer = new Peer();
        var stream = peer.ConnectStream();
        using var server = await peer.AcceptAsync();

        var read = stream.ReadAsync(new byte[16]);
        await Task.Delay(50);
        stream.Dispose();

        Assert.That(await read.AsTask().WaitAsync(Patience), Is.Zero);
        Assert.That(await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(Patience), Is.Zero);
        var ex = Assert.ThrowsAsync<IOException>(async () => await stream.WriteAsync(new byte[1]));
        Assert.That(ex!.Message, Is.EqualTo("the bus connection is closed"));

        // The peer sees the hang-up: the socket was shut down and closed.
        Assert.That(await server.ReceiveAsync(new byte[1]).WaitAsync(Patience), Is.Zero);
    }

    [Test]
    public async Task A_read_asked_for_after_a_dispose_with_none_under_way_ends_at_once()
    {
        using var peer = new Peer();
        var stream = peer.ConnectStream();
        using var server = await peer.AcceptAsync();

        stream.Dispose();

        Assert.That(await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(Patience), Is.Zero);
    }

    [Test]
    public void An_address_without_a_unix_entry_is_left_to_Tmds_DBus_Protocol()
    {
        Assert.That(BusStream.Connect("tcp:host=127.0.0.1,port=1"), Is.Null);
    }

    [Test]
    public void A_socket_that_is_not_there_is_an_error_naming_why()
    {
        var ex = Assert.Throws<IOException>(() => BusStream.Connect("unix:path=/nonexistent/interop-bus"));
        Assert.That(ex!.Message, Is.EqualTo("No such file or directory"));
    }

    /// <summary>A listening unix socket in a temp dir.</summary>
    private sealed class Peer : IDisposable
    {
        private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("interop-busstream-");
        private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

        public Peer()
        {
            _listener.Bind(new UnixDomainSocketEndPoint(Path));
            _listener.Listen(1);
        }

        private string Path => System.IO.Path.Combine(_dir.FullName, "bus");

        public BusStream ConnectStream() => BusStream.Connect("unix:path=" + Path)!;

        public async Task<Socket> AcceptAsync() => await _listener.AcceptAsync().WaitAsync(Patience);

        public void Dispose()
        {
            _listener.Dispose();
            _dir.Delete(recursive: true);
        }
    }
}
