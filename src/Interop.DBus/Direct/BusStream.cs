using System.Threading.Tasks.Sources;

namespace Interop.DBus.Direct;

/// <summary>
/// interopd's connection to the bus as the stream Tmds.DBus.Protocol talks over: a blocking unix socket read by a
/// thread of its own. Per message that is one recv and, for a reply, one send; .NET's socket engine took five
/// system calls and two wake-ups of its epoll thread (docs/benchmarks.md, "Eighth session").
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>A read is handed to the reader thread, which completes it there: Tmds.DBus.Protocol's receive loop, the
/// dispatch of the message and the reply's send run on that thread, then return to it with the next read's
/// request. So, as with .NET's inline socket completions, nothing that waits for another message may run there
/// (interopd's gate runs such work on the thread pool).</item>
/// <item>Writes are sent from the writing thread, whole, before the write returns (Tmds.DBus.Protocol writes one
/// message at a time).</item>
/// <item>Disposing shuts the socket down, which ends a read or write under way (the read returns 0: the peer is
/// gone); the descriptor is closed once no call uses it.</item>
/// </list>
/// </remarks>
internal sealed class BusStream : Stream, IValueTaskSource<int>
{
    /// <summary>How long the bus may take to accept the connection (its listen backlog full); then nothing times out.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);

    private readonly UnixSocket _socket;
    private readonly ManualResetEventSlim _requested = new(false);
    private ManualResetValueTaskSourceCore<int> _read = new() { RunContinuationsAsynchronously = false };
    private Memory<byte> _buffer;
    private int _users = 1;
    private int _pending;
    private int _readerDone;
    private int _disposed;

    private BusStream(UnixSocket socket)
    {
        _socket = socket;
        new Thread(ReadLoop) { IsBackground = true, Name = "bus reader" }.Start();
    }

    /// <summary>
    /// Connects to the first unix entry of <paramref name="address"/> that takes the connection; null when it has
    /// none (the caller then lets Tmds.DBus.Protocol connect).
    /// </summary>
    /// <exception cref="IOException">no unix entry of the address could be reached.</exception>
    public static BusStream? Connect(string address)
    {
        if (!address.Split(';').Any(entry => UnixSocket.ParseEntry(entry) is not null))
        {
            return null;
        }

        var socket = UnixSocket.Connect(address, ConnectTimeout, out var error, out _)
            ?? throw new IOException(error);
        socket.SetTimeout(Timeout.InfiniteTimeSpan);
        return new BusStream(socket);
    }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>
    /// Reads what is there, at least one byte, or 0 once the peer has hung up or the stream is disposed. One read at a
    /// time (Tmds.DBus.Protocol awaits each); the cancellation token is not observed: disposing ends a read.
    /// </summary>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _read.Reset();
        _buffer = buffer;
        Interlocked.Exchange(ref _pending, 1);
        if (Volatile.Read(ref _readerDone) != 0 && Interlocked.Exchange(ref _pending, 0) == 1)
        {
            // The reader has ended: nothing would serve this read.
            return ValueTask.FromResult(0);
        }

        _requested.Set();
        return new ValueTask<int>(this, _read.Version);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
        catch (IOException e)
        {
            return ValueTask.FromException(e);
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (!Enter())
        {
            throw new IOException("the bus connection is closed");
        }

        try
        {
            _socket.SendAll(buffer);
        }
        finally
        {
            Exit();
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("reads are asynchronous");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    int IValueTaskSource<int>.GetResult(short token) => _read.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _read.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _read.OnCompleted(continuation, state, token, flags);

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // The owner's use keeps the descriptor open until Exit below.
            _socket.Shutdown();
            _requested.Set();
            Exit();
        }

        base.Dispose(disposing);
    }

    private void ReadLoop()
    {
        while (true)
        {
            _requested.Wait();
            _requested.Reset();
            if (Interlocked.Exchange(ref _pending, 0) == 0)
            {
                if (Volatile.Read(ref _disposed) == 0)
                {
                    continue;
                }

                // Disposed with no read asked for: a read asked for from now on ends at once (ReadAsync), or here.
                Interlocked.Exchange(ref _readerDone, 1);
                if (Interlocked.Exchange(ref _pending, 0) == 1)
                {
                    _read.SetResult(0);
                }

                return;
            }

            var n = 0;
            Exception? failure = null;
            if (Enter())
            {
                try
                {
                    n = _socket.Receive(_buffer.Span);
                }
                catch (IOException e)
                {
                    failure = e;
                }
                finally
                {
                    Exit();
                }
            }

            if (n == 0)
            {
                Interlocked.Exchange(ref _readerDone, 1);
            }

            // Runs the reader's continuation here: the message's dispatch, and the request for the next read.
            if (failure is not null)
            {
                _read.SetException(failure);
            }
            else
            {
                _read.SetResult(n);
            }

            if (n == 0)
            {
                return;
            }
        }
    }

    /// <summary>Takes a use of the socket; false once it is being closed.</summary>
    private bool Enter()
    {
        while (Volatile.Read(ref _disposed) == 0)
        {
            var users = Volatile.Read(ref _users);
            if (users == 0)
            {
                break;
            }

            if (Interlocked.CompareExchange(ref _users, users + 1, users) == users)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Gives a use back; the last one closes the socket.</summary>
    private void Exit()
    {
        if (Interlocked.Decrement(ref _users) == 0)
        {
            _socket.Dispose();
        }
    }
}
