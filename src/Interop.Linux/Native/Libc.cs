using System.Runtime.InteropServices;

namespace Interop.Linux.Native;

/// <summary>
/// Every libc call in the product, in one class (files and processes here; sockets in Libc.Socket.cs, users and
/// groups in Libc.Nss.cs): the Linux layer needs the exact errno (cgroupfs refuses with ENOSPC, EBUSY, EINVAL...
/// and .NET's IOException mapping loses or renames some of them), interopd's state store fsyncs a directory,
/// and the hook's D-Bus client talks over a libc socket. interopctl links libc directly (DirectPInvoke).
/// Read the errno with <see cref="Marshal.GetLastPInvokeError"/> right after a call that returned -1.
/// </summary>
internal static partial class Libc
{
    internal const int EPERM = 1;
    internal const int ENOENT = 2;
    internal const int ESRCH = 3;
    internal const int EINTR = 4;
    internal const int EIO = 5;
    internal const int EACCES = 13;
    internal const int EBUSY = 16;
    internal const int EEXIST = 17;
    internal const int ENOTDIR = 20;
    internal const int EISDIR = 21;
    internal const int EINVAL = 22;
    internal const int ENOSPC = 28;
    internal const int EROFS = 30;
    internal const int ERANGE = 34;
    internal const int ENAMETOOLONG = 36;
    internal const int ENODEV = 19;
    internal const int ENOTEMPTY = 39;
    internal const int ELOOP = 40;
    internal const int EOPNOTSUPP = 95;

    internal const int ORdOnly = 0;
    internal const int OWrOnly = 1;
    internal const int ORdWr = 2;
    internal const int OCreat = 0x40;
    internal const int ODirectory = 0x10000;
    internal const int OCloExec = 0x80000;

    /// <summary>O_NOFOLLOW: 0x20000 on x86/x86_64, 0x8000 on arm/arm64.</summary>
    internal static readonly int ONoFollow =
        RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64 ? 0x8000 : 0x20000;

    [LibraryImport("libc", EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Mkdir(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "rmdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Rmdir(string path);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags);

    /// <summary>open(2) with a mode, for <see cref="OCreat"/>.</summary>
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    /// <summary>d_type of a directory entry (linux_dirent64): a directory, or a filesystem that does not say.</summary>
    internal const byte DtUnknown = 0;
    internal const byte DtDir = 4;

    /// <summary>
    /// getdents64(2): a directory's entries with their type, so a listing needs no stat per entry. Records are
    /// linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen (at 16), u8 d_type (at 18), NUL-terminated d_name (at 19).
    /// </summary>
    [LibraryImport("libc", EntryPoint = "getdents64", SetLastError = true)]
    internal static unsafe partial nint Getdents64(int fd, byte* buffer, nuint count);

    /// <summary>fsync(2): also of a directory (its entries), which FileStream refuses to open.</summary>
    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    internal static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    internal static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    internal static partial int Ftruncate(int fd, long length);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    /// <summary>statfs(2); <paramref name="buffer"/> holds a struct statfs (120 bytes on 64-bit), f_type first.</summary>
    [LibraryImport("libc", EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int Statfs(string path, byte* buffer);

    internal const long CgroupSuperMagic = 0x27e0eb;
    internal const long Cgroup2SuperMagic = 0x63677270;

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    internal static unsafe partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    internal static unsafe partial nint PRead(int fd, byte* buffer, nuint count, long offset);

    internal const int RlimitNoFile = 7;

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    internal static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    internal static unsafe partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "getppid")]
    internal static partial int GetParentPid();

    /// <summary>The symbolic name of an errno, for messages ("ENOSPC").</summary>
    internal static string ErrnoName(int errno) => errno switch
    {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        ESRCH => "ESRCH",
        EINTR => "EINTR",
        EIO => "EIO",
        EACCES => "EACCES",
        EBUSY => "EBUSY",
        EEXIST => "EEXIST",
        ENOTDIR => "ENOTDIR",
        EISDIR => "EISDIR",
        EINVAL => "EINVAL",
        ENOSPC => "ENOSPC",
        EROFS => "EROFS",
        ERANGE => "ERANGE",
        ENAMETOOLONG => "ENAMETOOLONG",
        ENODEV => "ENODEV",
        ENOTEMPTY => "ENOTEMPTY",
        ELOOP => "ELOOP",
        EOPNOTSUPP => "EOPNOTSUPP",
        _ => "errno " + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>struct rlimit (64-bit rlim_t).</summary>
    [System.Runtime.InteropServices.StructLayout(LayoutKind.Sequential)]
    internal struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }
}
