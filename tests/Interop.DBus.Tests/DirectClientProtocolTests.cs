using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Interop.Core.Model;
using Interop.DBus.Direct;
using Interop.TestSupport;

namespace Interop.DBus.Tests;

/// <summary>
/// DirectClient against a scripted peer on a unix socket: what a real bus does not do on demand (refuse
/// authentication, answer big-endian, go silent, hang up, send garbage).
/// </summary>
public sealed class DirectClientProtocolTests
{
    private static readonly Dictionary<string, string> NoFacts = new(StringComparer.Ordinal);

    [Test]
    public async Task It_sends_authentication_Hello_and_the_call_in_one_go()
    {
        await using var peer = new ScriptedBusPeer(Ok, BigEndianReturn(replySerial: 2, value: 1)) { RequestComplete = CallComplete };
        using (var client = DirectClient.Connect(peer.Address))
        {
            Assert.That(await client.ReleaseContainerAsync(Manager.Lxc, "web", NoFacts), Is.True);
        }

        var sent = await peer.ReceivedAsync();
        var uid = Convert.ToHexStringLower(Encoding.ASCII.GetBytes(UnixSocket.EffectiveUid().ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var auth = Encoding.ASCII.GetBytes($"\0AUTH EXTERNAL {uid}\r\nBEGIN\r\n");
        Assert.That(sent[..auth.Length], Is.EqualTo(auth));
        var hello = MessageReader.MessageLength(sent.AsSpan(auth.Length));
        var call = sent[(auth.Length + hello)..];
        Assert.Multiple(() =>
        {
            Assert.That(hello, Is.GreaterThan(16));
            Assert.That(Encoding.ASCII.GetString(sent, auth.Length, hello), Does.Contain("Hello").And.Contain("org.freedesktop.DBus"));
            Assert.That(MessageReader.MessageLength(call), Is.EqualTo(call.Length), "exactly one call follows Hello");
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(call.AsSpan(8)), Is.EqualTo(2u), "the call's serial");
            Assert.That(Encoding.UTF8.GetString(call), Does.Contain("ReleaseContainer").And.Contain("ssa{ss}").And.Contain("web"));
        });
    }

    [Test]
    public async Task It_skips_signals_and_reads_a_big_endian_reply()
    {
        await using var peer = new ScriptedBusPeer(Ok, ScriptedBusPeer.Signal(), BigEndianReturn(replySerial: 1, value: 7), BigEndianReturn(replySerial: 2, value: 0)) { RequestComplete = CallComplete };
        using var client = DirectClient.Connect(peer.Address);
        Assert.That(await client.ReleaseContainerAsync(Manager.Lxc, "web", NoFacts), Is.False);
    }

    [Test]
    public void A_listener_that_takes_no_connection_is_reported_as_not_answering_not_as_not_running()
    {
        // A listener that never accepts, its backlog full: connect(2) waits, then gives up (EAGAIN).
        var dir = Directory.CreateTempSubdirectory("interop-backlog-");
        try
        {
            var path = Path.Combine(dir.FullName, "bus");
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(0);
            using var queued = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            queued.Connect(new UnixDomainSocketEndPoint(path));

            var ex = Assert.Throws<DaemonUnreachableException>(() => DirectClient.Connect("unix:path=" + path, TimeSpan.FromMilliseconds(300)).Dispose());

            Assert.That(ex!.Message, Does.StartWith("interopd did not answer on unix:path=" + path)
                .And.Contain("did not take the connection in 0.3 s").And.Not.Contain("not running").And.Not.Contain("\n"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public async Task A_refused_authentication_is_reported_in_one_line()
    {
        await using var peer = new ScriptedBusPeer("REJECTED ANONYMOUS\r\n"u8.ToArray()) { RequestComplete = CallComplete };
        using var client = DirectClient.Connect(peer.Address);
        var ex = Assert.Throws<DaemonUnreachableException>(() => client.StopContainerAsync(Manager.Lxc, "web", NoFacts));
        Assert.That(ex!.Message, Does.Contain("refused AUTH EXTERNAL").And.Contain("REJECTED ANONYMOUS").And.Not.Contain("\n"));
    }

    [Test]
    public async Task A_silent_peer_times_out()
    {
        await using var peer = new ScriptedBusPeer(Ok) { RequestComplete = CallComplete };
        using var client = DirectClient.Connect(peer.Address, TimeSpan.FromMilliseconds(300));
        var ex = Assert.Throws<DaemonUnreachableException>(() => client.StopContainerAsync(Manager.Lxc, "web", NoFacts));
        Assert.That(ex!.Message, Does.StartWith("interopd did not answer on ").And.Contain("timed out").And.Not.Contain("not running"));
    }

    [Test]
    public async Task A_peer_that_hangs_up_is_unreachable()
    {
        await using var peer = new ScriptedBusPeer(Ok) { RequestComplete = CallComplete, HangUp = true };
        using var client = DirectClient.Connect(peer.Address);
        var ex = Assert.Throws<DaemonUnreachableException>(() => client.StopContainerAsync(Manager.Lxc, "web", NoFacts));
        Assert.That(ex!.Message, Does.Contain("closed the connection"));
    }

    [Test]
    public async Task A_peer_that_trickles_signals_never_holds_a_call_past_its_deadline()
    {
        // Each signal comes well within the socket's receive timeout; only a deadline for the whole call ends it.
        await using var peer = new ScriptedBusPeer(Ok) { RequestComplete = CallComplete, SignalEvery = TimeSpan.FromMilliseconds(100) };
        using var client = DirectClient.Connect(peer.Address, TimeSpan.FromSeconds(1));
        var started = System.Diagnostics.Stopwatch.StartNew();
        var call = Task.Run(() => client.StopContainerAsync(Manager.Lxc, "web", NoFacts));
        var ex = Assert.ThrowsAsync<DaemonUnreachableException>(async () => await call.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.Contain("timed out"));
            Assert.That(started.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        });
    }

    [Test]
    public async Task A_reply_sent_a_byte_at_a_time_past_the_deadline_times_out()
    {
        await using var peer = new ScriptedBusPeer(Ok, BigEndianReturn(replySerial: 2, value: 1)) { RequestComplete = CallComplete, ByteDelay = TimeSpan.FromMilliseconds(150) };
        using var client = DirectClient.Connect(peer.Address, TimeSpan.FromSeconds(1));
        var started = System.Diagnostics.Stopwatch.StartNew();
        var call = Task.Run(() => client.ReleaseContainerAsync(Manager.Lxc, "web", NoFacts));
        var ex = Assert.ThrowsAsync<DaemonUnreachableException>(async () => await call.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.Contain("timed out"));
            Assert.That(started.Elapsed, Is.LessThan(TimeSpan.FromSeconds(4)), "the whole call has one deadline");
        });
    }

    [Test]
    public void The_reader_refuses_truncated_and_hostile_messages_with_InvalidDataException_only()
    {
        var random = new Random(20_261_130);
        byte[][] seeds = [BigEndianReturn(2, 1), ScriptedBusPeer.Signal(), LittleEndianError(), LittleEndianError("org.interop.Interop1.Error.Cgroup", "write /x: busy (errno 16)", "write", "/x", 16, "EBUSY")];
        var others = new List<string>();
        var tried = 0;
        foreach (var seed in seeds)
        {
            for (var cut = 0; cut <= seed.Length; cut++)
            {
                Try(seed[..cut]);
            }
        }

        for (var i = 0; i < 20_000; i++)
        {
            var m = (byte[])seeds[random.Next(seeds.Length)].Clone();
            for (var k = random.Next(1, 4); k > 0; k--)
            {
                m[random.Next(m.Length)] = random.Next(3) == 0 ? (byte)0xFF : (byte)random.Next(256);
            }

            Try(random.Next(4) == 0 ? m[..random.Next(m.Length + 1)] : m);
        }

        // Header fields whose aligned end is the message's end: the next field code lies past it.
        Try([(byte)'l', 2, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        Try([(byte)'l', 2, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0xF0, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0]);
        Try([(byte)'l', 2, 0, 1, 0xF0, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 0, 0, 0, 0]);
        Assert.That(others, Is.Empty, $"{others.Count} of {tried} inputs threw something else: {string.Join("; ", others.Take(5))}");

        void Try(byte[] data)
        {
            tried++;
            try
            {
                var length = MessageReader.MessageLength(data);
                if (length > 0 && length <= data.Length)
                {
                    MessageReader.Parse(data.AsSpan(0, length));
                }
                else
                {
                    MessageReader.Parse(data);
                }
            }
            catch (InvalidDataException)
            {
                // refused as it should be
            }
            catch (Exception e)
            {
                others.Add($"{e.GetType().Name} for {Convert.ToHexString(data)}");
            }
        }
    }

    [Test]
    public void The_reader_reads_an_errors_typed_fields_after_its_message()
    {
        var reply = MessageReader.Parse(LittleEndianError("org.interop.Interop1.Error.Cgroup", "write /x: busy (errno 16)", "write", "/x", -16, "EBUSY"));
        Assert.Multiple(() =>
        {
            Assert.That((reply.ErrorName, reply.Signature, reply.FirstString), Is.EqualTo(("org.interop.Interop1.Error.Cgroup", "sssis", "write /x: busy (errno 16)")));
            Assert.That(reply.ErrorArgs, Is.EqualTo(new object[] { "write /x: busy (errno 16)", "write", "/x", -16L, "EBUSY" }));
        });
    }

    [Test]
    public async Task An_error_with_fields_through_the_direct_client_is_the_typed_exception()
    {
        await using var peer = new ScriptedBusPeer(Ok, LittleEndianError("org.interop.Interop1.Error.Cgroup", "worded any way", "rmdir", "/machine/x", 16, "EBUSY")) { RequestComplete = CallComplete };
        using var client = DirectClient.Connect(peer.Address, TimeSpan.FromSeconds(2));
        var ex = Assert.Throws<Interop.Core.CgroupException>(() => client.StopContainerAsync(Manager.Lxc, "web", NoFacts));
        Assert.That((ex!.Message, ex.Operation, ex.Path, ex.Errno, ex.Detail), Is.EqualTo(("worded any way", "rmdir", "/machine/x", 16, "EBUSY")));
    }

    [Test]
    public async Task Hostile_replies_through_the_client_end_in_one_DaemonUnreachableException()
    {
        var random = new Random(7);
        for (var i = 0; i < 40; i++)
        {
            var m = BigEndianReturn(2, 1);
            m[random.Next(m.Length)] = (byte)random.Next(256);
            m[random.Next(m.Length)] = (byte)random.Next(256);
            await using var peer = new ScriptedBusPeer(Ok, m[..random.Next(16, m.Length + 1)]) { RequestComplete = CallComplete };
            using var client = DirectClient.Connect(peer.Address, TimeSpan.FromMilliseconds(500));
            try
            {
                await Task.Run(() => client.ReleaseContainerAsync(Manager.Lxc, "web", NoFacts)).WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is DaemonUnreachableException or DaemonErrorException or Interop.Core.InteropException)
            {
                Assert.That(e.Message, Does.Not.Contain("\n"));
            }
        }
    }

    [TestCase(new byte[] { (byte)'x', 2, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 }, "byte-order mark", TestName = "Not a D-Bus message")]
    [TestCase(new byte[] { (byte)'l', 2, 0, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 }, "protocol version 2", TestName = "Another protocol version")]
    [TestCase(new byte[] { (byte)'l', 2, 0, 1, 0, 0, 0, 0x10, 1, 0, 0, 0, 0, 0, 0, 0 }, "more than D-Bus allows", TestName = "A message over the 128 MiB limit")]
    [TestCase(new byte[] { (byte)'l', 2, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 5, 1, (byte)'x', 0, 0, 0, 0, 0 }, "has type 'x'", TestName = "A header field of an unknown type")]
    [TestCase(new byte[] { (byte)'l', 2, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 4, 1, (byte)'s', 0, 0xff, 0, 0, 0 }, "past the end", TestName = "A string longer than its message")]
    public async Task A_malformed_reply_is_refused_with_what_is_wrong(byte[] reply, string expected)
    {
        await using var peer = new ScriptedBusPeer(Ok, reply) { RequestComplete = CallComplete };
        using var client = DirectClient.Connect(peer.Address, TimeSpan.FromSeconds(2));
        var ex = Assert.Throws<DaemonUnreachableException>(() => client.StopContainerAsync(Manager.Lxc, "web", NoFacts));
        Assert.That(ex!.Message, Does.Contain("malformed").And.Contain(expected));
    }

    [TestCase("unix:path=/run/dbus/system_bus_socket", "/run/dbus/system_bus_socket", false)]
    [TestCase("unix:path=/tmp/a%2cb%20c,guid=0123", "/tmp/a,b c", false)]
    [TestCase("unix:guid=0123,abstract=/tmp/dbus-XYZ", "/tmp/dbus-XYZ", true)]
    [TestCase("unix:path=/run/😀%2fbus", "/run/😀/bus", false)]
    public void Unix_address_entries_become_socket_addresses(string entry, string path, bool isAbstract)
    {
        var sockaddr = UnixSocket.ParseEntry(entry)!;
        var expected = new List<byte> { 1, 0 };
        if (isAbstract)
        {
            expected.Add(0);
        }

        expected.AddRange(Encoding.UTF8.GetBytes(path));
        if (!isAbstract)
        {
            expected.Add(0);
        }

        Assert.That(sockaddr, Is.EqualTo(expected.ToArray()));
    }

    [TestCase("tcp:host=localhost,port=1234")]
    [TestCase("unix:path=/tmp/bad%zz")]
    [TestCase("unix:tmpdir=/tmp")]
    [TestCase("unix:path")]
    public void Other_address_entries_are_not_sockets(string entry) => Assert.That(UnixSocket.ParseEntry(entry), Is.Null);

    [Test]
    public void The_first_reachable_entry_of_an_address_list_wins()
    {
        var ex = Assert.Throws<DaemonUnreachableException>(() => DirectClient.Connect("tcp:host=x,port=1;unix:path=/nonexistent/bus"));
        Assert.That(ex!.Message, Does.Contain("No such file or directory"));
    }

    private static byte[] Ok => ScriptedBusPeer.AuthOk;

    /// <summary>A METHOD_RETURN in big-endian order answering <paramref name="replySerial"/> with one 'b'.</summary>
    private static byte[] BigEndianReturn(uint replySerial, uint value)
    {
        var m = new byte[36];
        m[0] = (byte)'B';
        m[1] = 2;
        m[3] = 1;
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), 4);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(8), 9);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(12), 15);
        m[16] = 5;
        m[17] = 1;
        m[18] = (byte)'u';
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(20), replySerial);
        m[24] = 8;
        m[25] = 1;
        m[26] = (byte)'g';
        m[28] = 1;
        m[29] = (byte)'b';
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(32), value);
        return m;
    }

    /// <summary>A little-endian ERROR for serial 2 (Conflict, message "no"): reply serial, error name, signature "s", one string.</summary>
    private static byte[] LittleEndianError() => LittleEndianError("org.interop.Interop1.Error.Conflict", "no");

    /// <summary>A little-endian ERROR for serial 2: reply serial, error name, signature, then <paramref name="args"/> (string: s, int: i).</summary>
    private static byte[] LittleEndianError(string errorName, params object[] args)
    {
        var name = System.Text.Encoding.UTF8.GetBytes(errorName);
        var signature = string.Concat(args.Select(a => a is int ? "i" : "s"));
        var fields = new List<byte>();
        fields.AddRange([5, 1, (byte)'u', 0, 2, 0, 0, 0]);
        fields.AddRange([4, 1, (byte)'s', 0]);
        fields.AddRange(BitConverter.GetBytes(name.Length));
        fields.AddRange(name);
        fields.Add(0);
        while (fields.Count % 8 != 0)
        {
            fields.Add(0);
        }

        fields.AddRange([8, 1, (byte)'g', 0, (byte)signature.Length, .. System.Text.Encoding.ASCII.GetBytes(signature), 0]);
        var body = new List<byte>();
        foreach (var arg in args)
        {
            while (body.Count % 4 != 0)
            {
                body.Add(0);
            }

            if (arg is int number)
            {
                body.AddRange(BitConverter.GetBytes(number));
            }
            else
            {
                var text = System.Text.Encoding.UTF8.GetBytes((string)arg);
                body.AddRange(BitConverter.GetBytes(text.Length));
                body.AddRange(text);
                body.Add(0);
            }
        }

        var header = new byte[16];
        header[0] = (byte)'l';
        header[1] = 3;
        header[3] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), (uint)body.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), 5);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), (uint)fields.Count);
        var all = new List<byte>(header);
        all.AddRange(fields);
        while (all.Count % 8 != 0)
        {
            all.Add(0);
        }

        all.AddRange(body);
        return [.. all];
    }

    /// <summary>Auth, Hello and the call arrive together: the request is in once Hello and the call are whole.</summary>
    private static bool CallComplete(byte[] received)
    {
        var data = received.AsSpan();
        var begin = data.IndexOf("BEGIN\r\n"u8);
        if (begin < 0)
        {
            return false;
        }

        var rest = data[(begin + 7)..];
        for (var i = 0; i < 2; i++)
        {
            var length = MessageReader.MessageLength(rest);
            if (length == 0 || length > rest.Length)
            {
                return false;
            }

            rest = rest[length..];
        }

        return true;
    }
}
