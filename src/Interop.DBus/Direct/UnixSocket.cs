using System.Runtime.InteropServices;
using Interop.Core.Text;
using Interop.Linux.Native;

namespace Interop.DBus.Direct;

/// <summary>
/// A blocking AF_UNIX stream socket over libc: what <see cref="DirectClient"/> talks to the bus through. No
/// System.Net: a hook process pays for none of its start-up (address-family probes, the socket engine thread).
/// </summary>
internal sealed class UnixSocket : IDisposable
{
    private const int AfUnix = 1;
    private const int SockStream = 1;
    private const int SockCloExec = 0x80000;
    private const int SolSocket = 1;
    private const int SoRcvTimeo = 20;
    private const int SoSndTimeo = 21;
    private const int MsgNoSignal = 0x4000;
    private const int EIntr = 4;
    private const int EAgain = 11;
    private const int SunPathLength = 108;
    private const int ShutRdWr = 2;

    private int _fd;

    private UnixSocket(int fd)
    {
        _fd = fd;
    }

    /// <summary>
    /// Connects to the first usable entry of a D-Bus address ("unix:path=...", "unix:abstract=...", several
    /// separated by ';'). Returns null with <paramref name="error"/> set when none could be reached;
    /// <paramref name="timedOut"/> says the last one is there but did not take the connection in time (its listen
    /// backlog full: a listener that does not accept).
    /// </summary>
    public static UnixSocket? Connect(string address, TimeSpan timeout, out string error, out bool timedOut)
    {
        error = $"no unix:path or unix:abstract entry in '{address}'";
        timedOut = false;
        foreach (var entry in address.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            if (ParseEntry(entry) is not { } sockaddr)
            {
                continue;
            }

            var fd = Libc.Socket(AfUnix, SockStream | SockCloExec, 0);
            if (fd < 0)
            {
                error = Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
                continue;
            }

            // Before connect: a unix socket's connect waits on a full backlog for up to SO_SNDTIMEO.
            SetTimeout(fd, timeout);
            int rc;
            do
            {
                rc = Libc.ConnectTo(fd, sockaddr, (uint)sockaddr.Length);
            }
            while (rc < 0 && Marshal.GetLastPInvokeError() == EIntr);

            if (rc == 0)
            {
                return new UnixSocket(fd);
            }

            var errno = Marshal.GetLastPInvokeError();
            timedOut = errno == EAgain;
            error = timedOut ? $"it did not take the connection in {timeout.TotalSeconds:0.#} s" : Marshal.GetPInvokeErrorMessage(errno);
            _ = Libc.Close(fd);
        }

        return null;
    }

    /// <summary>
    /// The sockaddr_un of one address entry, or null when the entry is not a unix socket. Values are unescaped
    /// as the D-Bus specification says ("%2f" for '/'); other keys (guid) are ignored.
    /// </summary>
    internal static byte[]? ParseEntry(string entry)
    {
        if (!entry.StartsWith("unix:", StringComparison.Ordinal))
        {
            return null;
        }

        foreach (var pair in entry[5..].Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                return null;
            }

            var key = pair[..eq];
            if (key is not ("path" or "abstract") || PercentEscape.UnescapeToBytes(pair[(eq + 1)..]) is not { Length: > 0 } value)
            {
                continue;
            }

            var abstractName = key == "abstract";
            var offset = abstractName ? 1 : 0;
            if (value.Length + offset >= SunPathLength)
            {
                return null;
            }

            // sa_family_t, then the path (NUL-terminated) or, for an abstract socket, NUL and the name (not terminated).
            var sockaddr = new byte[2 + offset + value.Length + (abstractName ? 0 : 1)];
            BitConverter.TryWriteBytes(sockaddr.AsSpan(0, 2), (ushort)AfUnix);
            value.CopyTo(sockaddr, 2 + offset);
            return sockaddr;
        }

        return null;
    }

    /// <summary>
    /// Sends and receives give up after <paramref name="timeout"/> (EAGAIN, reported as a timeout), or never with
    /// <see cref="Timeout.InfiniteTimeSpan"/>.
    /// </summary>
    public void SetTimeout(TimeSpan timeout) => SetTimeout(_fd, timeout);

    private static unsafe void SetTimeout(int fd, TimeSpan timeout)
    {
        // A zero timeval means "never": a finite timeout keeps at least 1 ms.
        var ticks = timeout == Timeout.InfiniteTimeSpan ? 0 : Math.Max(timeout.Ticks, TimeSpan.TicksPerMillisecond);
        var tv = stackalloc long[2];
        tv[0] = ticks / TimeSpan.TicksPerSecond;
        tv[1] = ticks % TimeSpan.TicksPerSecond / 10;
        _ = Libc.SetSockOpt(fd, SolSocket, SoRcvTimeo, tv, 16);
        _ = Libc.SetSockOpt(fd, SolSocket, SoSndTimeo, tv, 16);
    }

    /// <summary>Ends a send or receive under way on another thread (a receive returns 0), and every later one.</summary>
    public void Shutdown() => _ = Libc.Shutdown(_fd, ShutRdWr);

    /// <exception cref="IOException">the peer is gone, or the timeout passed.</exception>
    public unsafe void SendAll(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            var sent = 0;
            while (sent < data.Length)
            {
                var n = Libc.Send(_fd, p + sent, (nuint)(data.Length - sent), MsgNoSignal);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == EIntr)
                    {
                        continue;
                    }

                    throw Failure("send", errno);
                }

                sent += (int)n;
            }
        }
    }

    /// <summary>Reads what is there (at least one byte); 0 when the peer closed the connection.</summary>
    /// <exception cref="IOException">a read error, or the timeout passed.</exception>
    public unsafe int Receive(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Libc.Recv(_fd, p, (nuint)buffer.Length, 0);
                if (n >= 0)
                {
                    return (int)n;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno != EIntr)
                {
                    throw Failure("receive", errno);
                }
            }
        }
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            _ = Libc.Close(_fd);
            _fd = -1;
        }
    }

    /// <summary>The effective uid: what AUTH EXTERNAL claims (the bus checks it against SO_PEERCRED).</summary>
    public static uint EffectiveUid() => Libc.GetEuid();

    private static IOException Failure(string what, int errno) => errno == EAgain
        ? new BusTimeoutException($"no answer from the bus ({what} timed out)")
        : new IOException($"{what}: {Marshal.GetPInvokeErrorMessage(errno)}");

}

/// <summary>The bus did not answer in time.</summary>
internal sealed class BusTimeoutException : IOException
{
    public BusTimeoutException(string message)
        : base(message)
    {
    }
}
