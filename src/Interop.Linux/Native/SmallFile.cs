// Implementation notes
// - /proc and cgroupfs files are made by the kernel at each read and report a size of 0, so File.ReadAllText reads
//   them through a SafeFileHandle, a FileStream, a StreamReader and a StringBuilder: some 10 KB of fresh objects
//   for a 500-byte /proc/PID/cgroup. interopd reads such files on every lookup (GetContainerByPid), at every hook and
//   10,000 times at start-up on a big host (reconcile's liveness): `perf record` of GetContainerByPid put 38% of
//   interopd's time in File.ReadAllText and 17% in the GC handing out the memory for it.
// - Here: open(2), read(2) into one buffer kept per thread, close(2), one string out. A buffer grown past
//   KeptSize (a cgroup.procs of many thousand pids) serves that one read and is dropped.
// - /proc/PID/cgroup and /proc/PID/stat (single_open) and cgroupfs files of one record (cgroup.events, cpu.stat,
//   memory.current, io.stat: kernfs files without seq_start) are seq files whose whole text the kernel makes in one
//   show (fs/seq_file.c grows its buffer and shows again until the text fits), and a read hands out all of it that
//   the caller's buffer holds. A read that returns less than it was offered has read to the end, so singleShow skips
//   the read(2) that would return 0: one system call of four per lookup by pid, 10,000 at a big host's start-up, one
//   of two per figure of a scrape. Not for files of many records (cgroup.procs): seq_read_iter stops where its own
//   page-sized buffer is full, so a short read there is not the end.
using System.Runtime.InteropServices;
using System.Text;

namespace Interop.Linux.Native;

/// <summary>Reads a small kernel-made file (/proc, cgroupfs) whole, without .NET's file streams.</summary>
internal static class SmallFile
{
    private const int InitialSize = 4096;
    private const int KeptSize = 64 * 1024;

    [ThreadStatic]
    private static byte[]? t_buffer;

    /// <summary>
    /// Opens <paramref name="path"/> read-only (plus <paramref name="flags"/>, O_NOFOLLOW say), reads it whole as
    /// UTF-8 and closes it. Null on failure, with the errno of the open or the read. <paramref name="singleShow"/>:
    /// the file is made in one piece (a /proc/PID file of one record, or a regular file), so a short read is its end.
    /// </summary>
    internal static string? TryRead(string path, int flags, out int errno, bool singleShow = false)
    {
        var fd = Libc.Open(path, Libc.ORdOnly | Libc.OCloExec | flags);
        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        try
        {
            return Read(fd, fromStart: false, out errno, singleShow);
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }

    /// <summary>
    /// The whole file behind <paramref name="fd"/> as UTF-8: from its offset with read(2), or from offset 0 with pread(2)
    /// when <paramref name="fromStart"/> (a cgroupfs file read again from 0 is made anew: a kept descriptor gives the
    /// current figures). Null on failure, with the errno (ENODEV once a cgroup is gone, ESRCH once a task is).
    /// </summary>
    internal static unsafe string? Read(int fd, bool fromStart, out int errno, bool singleShow = false)
    {
        var buffer = t_buffer ??= new byte[InitialSize];
        var total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                var bigger = new byte[buffer.Length * 2];
                buffer.AsSpan().CopyTo(bigger);
                buffer = bigger;
                if (buffer.Length <= KeptSize)
                {
                    t_buffer = buffer;
                }
            }

            nint n;
            fixed (byte* p = buffer)
            {
                var room = (nuint)(buffer.Length - total);
                n = fromStart ? Libc.PRead(fd, p + total, room, total) : Libc.Read(fd, p + total, room);
            }

            if (n < 0)
            {
                errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.EINTR)
                {
                    continue;
                }

                return null;
            }

            var done = n == 0 || (singleShow && n < buffer.Length - total);
            total += (int)n;
            if (done)
            {
                errno = 0;
                return Encoding.UTF8.GetString(buffer, 0, total);
            }
        }
    }
}
