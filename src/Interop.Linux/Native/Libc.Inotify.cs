using System.Runtime.InteropServices;

namespace Interop.Linux.Native;

/// <summary>
/// inotify, poll and eventfd: interopd learns that a cgroup2 dir appeared or became populated (PopulatedWatch), and that
/// something wrote into a dir of the shared root it had checked (CheckedDirs), and which dirs a container's parent
/// holds (ChildDirs).
/// </summary>
internal static partial class Libc
{
    internal const int InCloExec = 0x80000;
    internal const int InNonBlock = 0x800;
    internal const uint InModify = 0x2;
    internal const uint InAttrib = 0x4;
    internal const uint InMovedFrom = 0x40;
    internal const uint InMovedTo = 0x80;
    internal const uint InCreate = 0x100;
    internal const uint InDelete = 0x200;
    internal const uint InDeleteSelf = 0x400;
    internal const uint InMoveSelf = 0x800;
    internal const uint InIgnored = 0x8000;
    internal const uint InQOverflow = 0x4000;
    internal const uint InOnlyDir = 0x1000000;
    internal const uint InMaskAdd = 0x20000000;
    internal const uint InIsDir = 0x40000000;
    internal const int EAGAIN = 11;
    internal const short PollIn = 0x1;

    [LibraryImport("libc", EntryPoint = "inotify_init1", SetLastError = true)]
    internal static partial int InotifyInit(int flags);

    [LibraryImport("libc", EntryPoint = "inotify_add_watch", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int InotifyAddWatch(int fd, string path, uint mask);

    [LibraryImport("libc", EntryPoint = "inotify_rm_watch", SetLastError = true)]
    internal static partial int InotifyRmWatch(int fd, int wd);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    internal static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }
}
