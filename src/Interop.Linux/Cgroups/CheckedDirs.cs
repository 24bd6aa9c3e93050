using Interop.Linux.Native;
using Microsoft.Win32.SafeHandles;

namespace Interop.Linux.Cgroups;

/// <summary>
/// Which hierarchies may skip <see cref="SharedRoot"/>'s check before a container starts: those where the dir was found
/// in order and nothing has written into, re-moded, removed or renamed one of its watched dirs since. Every prepare ran
/// the whole check, a third of interopd's work for a start (docs/benchmarks.md); on a quiet hierarchy it now costs one
/// read(2) of the inotify descriptor.
/// </summary>
/// <remarks>
/// inotify on each dir of the path reports a write(2) to any file in it, whatever was written (IN_MODIFY:
/// cgroup.clone_children, cpuset.*, cgroup.subtree_control, tasks), a change of its mode or owner (IN_ATTRIB), and the
/// removal or rename of the next dir on the path (IN_DELETE, IN_MOVED_FROM, matched by name: the containers' own dirs
/// come and go below the checked dir all the time). cgroupfs reports a removed dir's own IN_DELETE_SELF only once the
/// kernel lets go of its inode, late or never, so a dir's removal is learnt from its parent. Any such event forgets
/// every dir of that hierarchy; a lost event (IN_Q_OVERFLOW) forgets all. The watches are armed before the check and
/// the dir is recorded only if no event came for its hierarchy meanwhile, so a write racing the check is never lost
/// (the check's own repairs count too: the next call checks once more and finds nothing to do). What the kernel
/// changes without a write is not reported: a CPU going offline can empty a v1 cpuset, so the caller re-reads the
/// cpuset it depends on every time.
/// </remarks>
public sealed class CheckedDirs : IDisposable
{
    private const uint Mask = Libc.InModify | Libc.InAttrib | Libc.InDelete | Libc.InMovedFrom | Libc.InDeleteSelf | Libc.InMoveSelf;
    private const uint ChildGone = Libc.InDelete | Libc.InMovedFrom;
    private const uint TopMask = ChildGone | Libc.InDeleteSelf | Libc.InMoveSelf;

    private readonly Lock _sync = new();
    private readonly SafeFileHandle _inotify;
    private readonly Dictionary<int, Watched> _watches = [];
    private readonly Dictionary<string, long> _generation = new(StringComparer.Ordinal);
    private readonly HashSet<(string Key, string Dir)> _checked = [];
    private readonly byte[] _buffer = new byte[4096];
    private long _overflows;

    private CheckedDirs(SafeFileHandle inotify) => _inotify = inotify;

    /// <summary>A new, empty record; null when the kernel refuses an inotify instance (then every check runs).</summary>
    public static CheckedDirs? Create()
    {
        var fd = Libc.InotifyInit(Libc.InCloExec | Libc.InNonBlock);
        return fd < 0 ? null : new CheckedDirs(new SafeFileHandle(fd, ownsHandle: true));
    }

    /// <summary>Whether <paramref name="dir"/> was recorded as checked in hierarchy <paramref name="key"/> and nothing changed there since.</summary>
    public bool IsChecked(string key, string dir) => CheckedKeys(dir).Contains(key);

    /// <summary>The hierarchies in which <paramref name="dir"/> was recorded as checked and nothing changed since (one read of the events).</summary>
    public IReadOnlySet<string> CheckedKeys(string dir)
    {
        lock (_sync)
        {
            Drain();
            return _checked.Where(c => c.Dir == dir).Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        }
    }

    /// <summary>
    /// Watches <paramref name="path"/> for hierarchy <paramref name="key"/> before a check: absolute dirs from the highest
    /// to the checked one, each the parent of the next. Returns the token <see cref="MarkChecked"/> takes after the check,
    /// or -1 when a dir cannot be watched (it does not exist yet, say): then the check is not recorded. Without
    /// <paramref name="topFiles"/>, a write into the highest dir's own files does not count (only the removal or rename
    /// of the next dir does): on cgroup v1 nothing the check depends on lives there.
    /// </summary>
    public long Watch(string key, IReadOnlyList<string> path, bool topFiles = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_inotify.IsClosed, this);
            Drain();
            for (var i = 0; i < path.Count; i++)
            {
                // IN_MASK_ADD: a dir on two paths (the shared root, checked itself and the top of a partition's path)
                // keeps the union of what each needs.
                var wd = Libc.InotifyAddWatch(Fd, path[i], (i == 0 && !topFiles ? TopMask : Mask) | Libc.InMaskAdd);
                if (wd < 0)
                {
                    return -1;
                }

                if (!_watches.TryGetValue(wd, out var watched))
                {
                    _watches[wd] = watched = new Watched(key, new HashSet<string>(StringComparer.Ordinal));
                }

                if (i + 1 < path.Count)
                {
                    watched.Children.Add(Path.GetFileName(path[i + 1]));
                }
            }

            return Generation(key);
        }
    }

    /// <summary>Records <paramref name="dir"/> as checked in <paramref name="key"/>, unless something changed there since <see cref="Watch"/> gave <paramref name="token"/>.</summary>
    public void MarkChecked(string key, string dir, long token)
    {
        lock (_sync)
        {
            Drain();
            if (token >= 0 && Generation(key) == token)
            {
                _checked.Add((key, dir));
            }
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

    private long Generation(string key) => _generation.GetValueOrDefault(key) + _overflows;

    /// <summary>Reads every pending event (the descriptor is non-blocking) and forgets what each one touched.</summary>
    private void Drain()
    {
        if (_inotify.IsClosed)
        {
            _checked.Clear();
            return;
        }

        for (var records = InotifyRecords.Read(Fd, _buffer); !records.IsEmpty; records = InotifyRecords.Read(Fd, _buffer))
        {
            foreach (var e in records)
            {
                if ((e.Mask & Libc.InQOverflow) != 0)
                {
                    _overflows++;
                    _checked.Clear();
                    continue;
                }

                if (!_watches.TryGetValue(e.Wd, out var watched))
                {
                    continue;
                }

                if ((e.Mask & Libc.InIgnored) != 0)
                {
                    _watches.Remove(e.Wd); // the kernel dropped the watch: its dir went
                }
                else if ((e.Mask & ChildGone) != 0 && !watched.Children.Contains(e.Name))
                {
                    continue; // a container's dir went, not one on a checked path
                }

                var key = watched.Key;
                _generation[key] = _generation.GetValueOrDefault(key) + 1;
                _checked.RemoveWhere(c => c.Key == key);
            }
        }
    }

    /// <summary>A watched dir: its hierarchy, and the names of the dirs below it on a checked path.</summary>
    private sealed record Watched(string Key, HashSet<string> Children);
}
