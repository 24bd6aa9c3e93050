using System.Runtime.InteropServices;

namespace Interop.Service;

/// <summary>libc calls .NET does not offer: fsync of a directory (FileStream refuses to open one).</summary>
internal static partial class Native
{
    public const int ORdOnly = 0;
    public const int ODirectory = 0x10000;
    public const int OCloExec = 0x80000;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);
}
