using System.Runtime.InteropServices;

namespace Interop.Linux.Native;

/// <summary>libc's users and groups (the reentrant NSS calls): what <see cref="Nss"/> wraps.</summary>
internal static partial class Libc
{
    [LibraryImport("libc", EntryPoint = "getpwnam_r", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int GetPwNam(string name, byte* passwd, byte* buffer, nuint size, nint* result);

    [LibraryImport("libc", EntryPoint = "getpwuid_r")]
    internal static unsafe partial int GetPwUid(uint uid, byte* passwd, byte* buffer, nuint size, nint* result);

    [LibraryImport("libc", EntryPoint = "getgrnam_r", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int GetGrNam(string name, byte* group, byte* buffer, nuint size, nint* result);

    [LibraryImport("libc", EntryPoint = "getgrouplist", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int GetGroupList(string user, uint group, uint* groups, int* count);
}
