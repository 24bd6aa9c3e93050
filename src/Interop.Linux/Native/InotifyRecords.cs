using System.Runtime.InteropServices;
using System.Text;

namespace Interop.Linux.Native;

/// <summary>One struct inotify_event: the watch, what happened, and the name below the watched dir (empty for the dir itself).</summary>
internal readonly ref struct InotifyEvent(int wd, uint mask, ReadOnlySpan<byte> name)
{
    public int Wd { get; } = wd;

    public uint Mask { get; } = mask;

    /// <summary>The name's bytes, NUL padding cut.</summary>
    public ReadOnlySpan<byte> NameBytes { get; } = name;

    /// <summary>The name as UTF-8 (bytes that are not UTF-8 decode as U+FFFD).</summary>
    public string Name => Encoding.UTF8.GetString(NameBytes);
}

/// <summary>
/// The records one read(2) of an inotify descriptor returned, for foreach: int wd, u32 mask, u32 cookie, u32 len,
/// char name[len] (NUL padded). The kernel returns whole records only; one cut short would end the walk.
/// </summary>
internal ref struct InotifyRecords(ReadOnlySpan<byte> records)
{
    private ReadOnlySpan<byte> _rest = records;

    public InotifyEvent Current { get; private set; }

    /// <summary>What is pending on the non-blocking descriptor <paramref name="fd"/>, read into <paramref name="buffer"/>; none when nothing is (EAGAIN).</summary>
    public static unsafe InotifyRecords Read(int fd, byte[] buffer)
    {
        nint n;
        fixed (byte* p = buffer)
        {
            n = Libc.Read(fd, p, (nuint)buffer.Length);
        }

        return new InotifyRecords(n > 0 ? buffer.AsSpan(0, (int)n) : []);
    }

    /// <summary>Whether the read returned anything at all.</summary>
    public readonly bool IsEmpty => _rest.IsEmpty;

    public readonly InotifyRecords GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.Length < 16)
        {
            return false;
        }

        var len = (int)MemoryMarshal.Read<uint>(_rest[12..]);
        if (len > _rest.Length - 16)
        {
            return false;
        }

        var name = _rest.Slice(16, len);
        var nul = name.IndexOf((byte)0);
        Current = new InotifyEvent(MemoryMarshal.Read<int>(_rest), MemoryMarshal.Read<uint>(_rest[4..]), nul < 0 ? name : name[..nul]);
        _rest = _rest[(16 + len)..];
        return true;
    }
}
