using System.Runtime.InteropServices;

namespace Interop.Linux.Native;

/// <summary>
/// Users and groups through the C library's name service switch (getpwnam_r, getpwuid_r, getgrnam_r,
/// getgrouplist): /etc/passwd and /etc/group, and LDAP, sssd or whatever nsswitch.conf names. Asked at every
/// call, so a membership change applies without a restart. The struct layouts are glibc's on LP64 Linux
/// (x86_64, aarch64): passwd { name, passwd, uid, gid, gecos, dir, shell }, group { name, passwd, gid, mem }.
/// </summary>
public static class Nss
{
    private const int ERange = 34;
    private const int PasswdSize = 48;
    private const int GroupSize = 32;

    /// <summary>The uid of user <paramref name="name"/>, or null when NSS does not know it.</summary>
    public static uint? UidOf(string name) => LookUpUser(name, null) is { } u ? u.Uid : null;

    /// <summary>The name and primary gid of <paramref name="uid"/>, or null when NSS does not know it.</summary>
    public static (string Name, uint Uid, uint Gid)? UserOf(uint uid) => LookUpUser(null, uid);

    /// <summary>The gid of group <paramref name="name"/>, or null when NSS does not know it.</summary>
    public static unsafe uint? GidOf(string name)
    {
        var group = stackalloc byte[GroupSize];
        var entry = (nint)group;
        return LookUp((buffer, size, result) => Libc.GetGrNam(name, (byte*)entry, (byte*)buffer, size, (nint*)result), () => *(uint*)(entry + 16));
    }

    /// <summary>Every group <paramref name="user"/> belongs to, its primary <paramref name="gid"/> included (getgrouplist).</summary>
    public static unsafe IReadOnlyList<uint> GroupsOf(string user, uint gid)
    {
        var count = 64;
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var groups = new uint[count];
            int n = count;
            int rc;
            fixed (uint* g = groups)
            {
                rc = Libc.GetGroupList(user, gid, g, &n);
            }

            if (rc >= 0)
            {
                return groups[..Math.Min(n, groups.Length)];
            }

            count = Math.Max(n, count * 2);
        }

        return [gid];
    }

    private static unsafe (string Name, uint Uid, uint Gid)? LookUpUser(string? name, uint? uid)
    {
        var passwd = stackalloc byte[PasswdSize];
        var entry = (nint)passwd;
        return LookUp(
            (buffer, size, result) => name is not null
                ? Libc.GetPwNam(name, (byte*)entry, (byte*)buffer, size, (nint*)result)
                : Libc.GetPwUid(uid!.Value, (byte*)entry, (byte*)buffer, size, (nint*)result),
            () => (Marshal.PtrToStringUTF8(*(nint*)entry) ?? string.Empty, *(uint*)(entry + 16), *(uint*)(entry + 20)));
    }

    /// <summary>
    /// Runs a reentrant lookup (getpwnam_r and kin: call(buffer, size, result) fills the entry and points its strings
    /// into buffer) with a buffer that grows while the lookup answers ERANGE. <paramref name="read"/> reads the entry
    /// while the buffer is still there (native memory: the collector cannot move it). Null when NSS does not know the
    /// name or the lookup fails.
    /// </summary>
    private static unsafe T? LookUp<T>(Func<nint, nuint, nint, int> call, Func<T> read)
        where T : struct
    {
        for (nuint size = 1024; size <= 1 << 20; size *= 4)
        {
            var buffer = NativeMemory.Alloc(size);
            try
            {
                nint result = 0;
                var rc = call((nint)buffer, size, (nint)(&result));
                if (rc == ERange)
                {
                    continue;
                }

                return rc == 0 && result != 0 ? read() : null;
            }
            finally
            {
                NativeMemory.Free(buffer);
            }
        }

        return null;
    }
}
