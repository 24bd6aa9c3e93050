using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Interop.Linux.Native;

/// <summary>
/// One interopd per state: an exclusive flock(2) on a lock file next to the state file, taken before anything
/// reads or writes the state, cgroupfs or the bus, and held until the process exits (the kernel drops it then,
/// kill -9 included, so a stale lock file never blocks a restart). The holder writes its pid into the file, so
/// the one refused can say who holds it.
/// </summary>
public sealed class DaemonLock : IDisposable
{
    private const int LockEx = 2;
    private const int LockNb = 4;
    private const int EWouldBlock = 11;

    private int _fd;

    private DaemonLock(string path, int fd)
    {
        Path = path;
        _fd = fd;
    }

    public string Path { get; }

    /// <summary>
    /// Takes the lock, or returns null when another process holds it (<paramref name="holder"/>: its pid as it
    /// wrote it, 0 when unknown). The lock file's dir is created when missing.
    /// </summary>
    /// <exception cref="IOException">The lock file cannot be opened or locked for another reason.</exception>
    public static DaemonLock? TryTake(string path, out int holder)
    {
        holder = 0;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var fd = Libc.Open(path, Libc.ORdWr | Libc.OCreat | Libc.OCloExec, 0x180); // 0600
        if (fd < 0)
        {
            throw new IOException($"cannot open the lock file {path}: {Libc.ErrnoName(Marshal.GetLastPInvokeError())}");
        }

        if (Libc.Flock(fd, LockEx | LockNb) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            holder = ReadPid(path);
            _ = Libc.Close(fd);
            return errno == EWouldBlock ? null : throw new IOException($"cannot lock {path}: {Libc.ErrnoName(errno)}");
        }

        // Ours: say whose it is. Truncate and write through the locked descriptor.
        _ = Libc.Ftruncate(fd, 0);
        var bytes = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        unsafe
        {
            fixed (byte* p = bytes)
            {
                _ = Libc.Write(fd, p, (nuint)bytes.Length);
            }
        }

        return new DaemonLock(path, fd);
    }

    public void Dispose()
    {
        if (_fd > 0)
        {
            _ = Libc.Close(_fd);
            _fd = -1;
        }
    }

    /// <summary>The holder's pid from the file, read with plain read(2): .NET's own file APIs take a shared flock and would fail.</summary>
    private static unsafe int ReadPid(string path)
    {
        var fd = Libc.Open(path, Libc.ORdOnly | Libc.OCloExec);
        if (fd < 0)
        {
            return 0;
        }

        try
        {
            var buffer = new byte[32];
            nint n;
            fixed (byte* p = buffer)
            {
                n = Libc.Read(fd, p, (nuint)buffer.Length);
            }

            return n > 0 && int.TryParse(Encoding.ASCII.GetString(buffer, 0, (int)n).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0;
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }

}
