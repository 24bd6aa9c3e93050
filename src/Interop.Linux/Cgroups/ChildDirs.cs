using System.Runtime.InteropServices;
using Interop.Linux.Native;
using Microsoft.Win32.SafeHandles;

namespace Interop.Linux.Cgroups;

/// <summary>
/// The child dirs of a few cgroup dirs (the containers' parents), across every hierarchy, listed once and then kept by
/// inotify. Every prepare and release looks for a container's leftovers among its siblings: listing the parent in each
/// hierarchy grew with the number of containers (2,000 siblings in 10 hierarchies: 16 ms a prepare,
/// docs/benchmarks.md); reading what changed since is one read(2), and a statx a hierarchy.
/// </summary>
/// <remarks>
/// mkdir(2), rmdir(2) and rename(2) on cgroupfs go through the VFS, which queues IN_CREATE, IN_DELETE and IN_MOVED_*
/// on the parent before the call returns, whichever mount or cgroup namespace they came through (all mounts of a
/// hierarchy share one superblock, so one inode). Every answer first reads the whole queue, so it is as exact as a
/// listing made at that moment. A dir is listed after its watch is armed: events queued in between are applied again
/// on top of the listing, which is harmless (adding a name twice, removing a name twice). A lost event
/// (IN_Q_OVERFLOW) or a watch the kernel drops lists the dir again. cgroupfs reports a removed dir's IN_DELETE_SELF
/// late or never, so each answer also compares the dir's inode number with the listed one: a dir removed and made
/// again is listed again.
/// </remarks>
public sealed class ChildDirs : IDisposable
{
    private const uint Mask = Libc.InCreate | Libc.InDelete | Libc.InMovedFrom | Libc.InMovedTo | Libc.InDeleteSelf | Libc.InMoveSelf | Libc.InOnlyDir;
    private const uint Came = Libc.InCreate | Libc.InMovedTo;
    private const uint Went = Libc.InDelete | Libc.InMovedFrom;

    private readonly Lock _sync = new();
    private readonly SafeFileHandle _inotify;
    private readonly IReadOnlyList<Hierarchy> _hierarchies;
    private readonly int _maxDirs;
    private readonly Dictionary<string, Kept> _kept = new(StringComparer.Ordinal);
    private readonly Dictionary<int, (Kept Dir, int Index)> _watches = [];
    private readonly byte[] _buffer = new byte[8192];

    private ChildDirs(SafeFileHandle inotify, IReadOnlyList<Hierarchy> hierarchies, int maxDirs)
    {
        _inotify = inotify;
        _hierarchies = hierarchies;
        _maxDirs = maxDirs;
    }

    /// <summary>A record for <paramref name="hierarchies"/> that keeps at most <paramref name="maxDirs"/> dirs; null when the kernel refuses an inotify instance or there are over 64 hierarchies.</summary>
    public static ChildDirs? Create(IReadOnlyList<Hierarchy> hierarchies, int maxDirs = 64)
    {
        ArgumentNullException.ThrowIfNull(hierarchies);
        if (hierarchies.Count > 64)
        {
            return null;
        }

        var fd = Libc.InotifyInit(Libc.InCloExec | Libc.InNonBlock);
        return fd < 0 ? null : new ChildDirs(new SafeFileHandle(fd, ownsHandle: true), hierarchies, maxDirs);
    }

    /// <summary>How many dirs are kept (for tests).</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _kept.Count;
            }
        }
    }

    /// <summary>Keeps <paramref name="relPath"/> (relative to the hierarchy roots) from now on, unless <paramref name="maxDirs"/> dirs are kept already.</summary>
    public void Keep(string relPath)
    {
        ArgumentNullException.ThrowIfNull(relPath);
        lock (_sync)
        {
            if (!_kept.ContainsKey(relPath) && _kept.Count < _maxDirs)
            {
                _kept[relPath] = new Kept(relPath, _hierarchies.Count);
            }
        }
    }

    /// <summary>
    /// The names of the child dirs of a kept <paramref name="relPath"/> in any hierarchy, as
    /// <see cref="CgroupFs.ListChildren(Hierarchy, string)"/> gives them; null when the dir is not kept or cannot be
    /// (out of inotify watches, say): then the caller lists it.
    /// </summary>
    public HashSet<string>? Of(string relPath)
    {
        ArgumentNullException.ThrowIfNull(relPath);
        lock (_sync)
        {
            return Current(relPath) is { } kept ? [.. kept.Names.Keys] : null;
        }
    }

    /// <summary>
    /// As <see cref="Of(string)"/>, only the names <paramref name="where"/> accepts: nothing is copied for the others,
    /// so a question about a few names is not the price of a parent with thousands. <paramref name="where"/> runs under
    /// this record's lock: it must not block or call back into the record.
    /// </summary>
    public List<string>? Of(string relPath, Func<string, bool> where)
    {
        ArgumentNullException.ThrowIfNull(relPath);
        ArgumentNullException.ThrowIfNull(where);
        lock (_sync)
        {
            if (Current(relPath) is not { } kept)
            {
                return null;
            }

            var names = new List<string>();
            foreach (var name in kept.Names.Keys)
            {
                if (where(name))
                {
                    names.Add(name);
                }
            }

            return names;
        }
    }

    public void Dispose()
    {
        lock (_sync)
        {
            _inotify.Dispose();
        }
    }

    private int Fd => (int)_inotify.DangerousGetHandle();

    /// <summary>The kept dir, current in every hierarchy; null when it is not kept or cannot be (then it is forgotten). Under the lock.</summary>
    private Kept? Current(string relPath)
    {
        ObjectDisposedException.ThrowIf(_inotify.IsClosed, this);
        Drain();
        if (!_kept.TryGetValue(relPath, out var kept))
        {
            return null;
        }

        for (var i = 0; i < _hierarchies.Count; i++)
        {
            if (!Refresh(kept, i))
            {
                Forget(kept);
                return null;
            }
        }

        return kept;
    }

    /// <summary>Lists hierarchy <paramref name="index"/>'s copy of the dir again unless its listing is known to be current; false when it cannot be watched.</summary>
    private bool Refresh(Kept kept, int index)
    {
        var dir = CgroupFs.DirOf(_hierarchies[index], kept.RelPath);
        if (InodeOf(dir) is not { } inode)
        {
            return false; // statx failed otherwise than "not there": the caller lists, and reports the error
        }

        if (inode == kept.Inode[index] && (inode == 0 || kept.Wd[index] >= 0))
        {
            return true;
        }

        Unwatch(kept, index);
        kept.Inode[index] = inode;
        if (inode == 0)
        {
            return true; // not there in this hierarchy: nothing below it
        }

        var wd = Libc.InotifyAddWatch(Fd, dir, Mask);
        if (wd < 0)
        {
            return Marshal.GetLastPInvokeError() == Libc.ENOENT; // gone since the statx: the next answer looks again
        }

        kept.Wd[index] = wd;
        _watches[wd] = (kept, index);
        var names = new List<string>();
        try
        {
            CgroupTree.Children(dir, CgroupFs.Display(kept.RelPath), names);
        }
        catch
        {
            Unwatch(kept, index); // not listed: the next answer tries again
            throw;
        }

        foreach (var name in names)
        {
            kept.Add(name, index);
        }

        return true;
    }

    /// <summary>Drops hierarchy <paramref name="index"/>'s names and watch: its copy of the dir is listed again at the next answer.</summary>
    private void Unwatch(Kept kept, int index)
    {
        if (kept.Wd[index] >= 0)
        {
            _watches.Remove(kept.Wd[index]);
            _ = Libc.InotifyRmWatch(Fd, kept.Wd[index]); // EINVAL when the kernel dropped it already
            kept.Wd[index] = -1;
        }

        kept.Inode[index] = 0;
        kept.RemoveAll(index);
    }

    private void Forget(Kept kept)
    {
        for (var i = 0; i < _hierarchies.Count; i++)
        {
            Unwatch(kept, i);
        }

        _kept.Remove(kept.RelPath);
    }

    /// <summary>Applies every pending event (the descriptor is non-blocking).</summary>
    private void Drain()
    {
        for (var records = InotifyRecords.Read(Fd, _buffer); !records.IsEmpty; records = InotifyRecords.Read(Fd, _buffer))
        {
            foreach (var e in records)
            {
                if ((e.Mask & Libc.InQOverflow) != 0)
                {
                    foreach (var kept in _kept.Values)
                    {
                        for (var i = 0; i < _hierarchies.Count; i++)
                        {
                            Unwatch(kept, i);
                        }
                    }
                }
                else if (!_watches.TryGetValue(e.Wd, out var watched))
                {
                    // a watch already dropped
                }
                else if ((e.Mask & (Libc.InIgnored | Libc.InDeleteSelf | Libc.InMoveSelf)) != 0)
                {
                    Unwatch(watched.Dir, watched.Index);
                }
                else if ((e.Mask & Libc.InIsDir) != 0 && (e.Mask & Came) != 0 && e.Name is var name && CgroupTree.IsAddressable(name))
                {
                    watched.Dir.Add(name, watched.Index);
                }
                else if ((e.Mask & Libc.InIsDir) != 0 && (e.Mask & Went) != 0)
                {
                    watched.Dir.Remove(e.Name, watched.Index);
                }
            }
        }
    }

    /// <summary>The inode number of <paramref name="dir"/>, 0 when it does not exist (cgroupfs numbers from 1), null when statx fails otherwise.</summary>
    private static unsafe ulong? InodeOf(string dir)
    {
        const int AtFdCwd = -100;
        const uint StatxIno = 0x100;
        var buffer = stackalloc byte[256];
        if (Libc.Statx(AtFdCwd, dir, 0, StatxIno, buffer) == 0)
        {
            return *(ulong*)(buffer + 32);
        }

        return Marshal.GetLastPInvokeError() is Libc.ENOENT or Libc.ENOTDIR ? 0 : null;
    }

    /// <summary>One kept dir: each child's name with the hierarchies (a bit each) that hold it, and each hierarchy's watch and inode.</summary>
    private sealed class Kept(string relPath, int hierarchies)
    {
        public string RelPath { get; } = relPath;

        public Dictionary<string, ulong> Names { get; } = new(StringComparer.Ordinal);

        public int[] Wd { get; } = Enumerable.Repeat(-1, hierarchies).ToArray();

        public ulong[] Inode { get; } = new ulong[hierarchies];

        public void Add(string name, int index)
        {
            ref var bits = ref CollectionsMarshal.GetValueRefOrAddDefault(Names, name, out _);
            bits |= 1UL << index;
        }

        public void Remove(string name, int index)
        {
            if (!Names.TryGetValue(name, out var bits))
            {
                return;
            }

            bits &= ~(1UL << index);
            if (bits == 0)
            {
                Names.Remove(name);
            }
            else
            {
                Names[name] = bits;
            }
        }

        public void RemoveAll(int index)
        {
            foreach (var name in Names.Keys.ToList())
            {
                Remove(name, index);
            }
        }
    }
}
