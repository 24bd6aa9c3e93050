using System.Runtime.InteropServices;
using Interop.Linux.Native;

namespace Interop.Linux.Cgroups;

/// <summary>
/// Tells when a cgroup2 dir that may not exist yet first holds a task, without polling: inotify on its parent
/// (IN_CREATE: the manager made the dir) and then on the dir's cgroup.events (IN_MODIFY: the kernel notifies
/// every change of "populated"). interopd learns an LXC container's init this way instead of from a start-host
/// hook process (docs/architecture.md, "The hook path").
/// </summary>
/// <remarks>
/// One thread waits in poll(2) on the inotify descriptor and an eventfd that <see cref="Dispose"/> signals.
/// <see cref="Arm"/> checks the dir right after its watches are in place, so a dir made (or filled) before the
/// watch existed is still seen. The callback runs on the watch thread, once per armed dir; it must not block.
/// </remarks>
public sealed class PopulatedWatch : IDisposable
{
    private const string EventsFile = "cgroup.events";

    private readonly Action<string> _populated;
    private readonly Action<string> _log;
    private readonly Lock _sync = new();
    private readonly int _inotify;
    private readonly int _wake;
    private readonly Thread _thread;

    /// <summary>Parent dir watch descriptor to the names expected below it.</summary>
    private readonly Dictionary<int, (string Dir, HashSet<string> Names)> _parents = [];

    /// <summary>cgroup.events watch descriptor to its armed dir.</summary>
    private readonly Dictionary<int, string> _events = [];

    private readonly HashSet<string> _armed = new(StringComparer.Ordinal);
    private volatile bool _disposed;

    private PopulatedWatch(int inotify, int wake, Action<string> populated, Action<string> log)
    {
        _inotify = inotify;
        _wake = wake;
        _populated = populated;
        _log = log;
        _thread = new Thread(Loop) { IsBackground = true, Name = "cgroup watch" };
        _thread.Start();
    }

    /// <summary>Starts a watch; null when the kernel refuses inotify (the caller then relies on the managers' hooks).</summary>
    /// <param name="populated">Called with the absolute dir, once, when it first holds a task.</param>
    /// <param name="log">Told about what the watch could not do (a dir that cannot be watched).</param>
    public static PopulatedWatch? Start(Action<string> populated, Action<string> log)
    {
        var inotify = Libc.InotifyInit(Libc.InCloExec | Libc.InNonBlock);
        if (inotify < 0)
        {
            log($"inotify_init1: {Libc.ErrnoName(Marshal.GetLastPInvokeError())}");
            return null;
        }

        var wake = Libc.EventFd(0, Libc.OCloExec);
        if (wake < 0)
        {
            log($"eventfd: {Libc.ErrnoName(Marshal.GetLastPInvokeError())}");
            Libc.Close(inotify);
            return null;
        }

        return new PopulatedWatch(inotify, wake, populated, log);
    }

    /// <summary>True when the cgroup2 dir holds a task, in it or below ("populated 1" in its cgroup.events).</summary>
    public static bool IsPopulated(string dir)
    {
        // Read at every change of the file while a container starts, beside LXC on the same CPUs: no file streams.
        var text = SmallFile.TryRead(Path.Combine(dir, EventsFile), 0, out _, singleShow: true);
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (line.StartsWith("populated ", StringComparison.Ordinal))
            {
                return line.EndsWith(" 1", StringComparison.Ordinal);
            }
        }

        return false;
    }

    /// <summary>Dirs armed and not yet seen populated.</summary>
    public int Pending
    {
        get
        {
            lock (_sync)
            {
                return _armed.Count;
            }
        }
    }

    /// <summary>
    /// Watches the cgroup2 dir <paramref name="dir"/> (absolute; its parent must exist). The callback fires once
    /// when it holds a task, also when it already does. False when its parent cannot be watched.
    /// </summary>
    public bool Arm(string dir)
    {
        dir = dir.TrimEnd('/');
        var cut = dir.LastIndexOf('/');
        if (cut <= 0)
        {
            return false;
        }

        var parent = dir[..cut];
        var name = dir[(cut + 1)..];
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_armed.Add(dir))
            {
                return true;
            }

            var wd = Libc.InotifyAddWatch(_inotify, parent, Libc.InCreate);
            if (wd < 0)
            {
                _armed.Remove(dir);
                _log($"cannot watch {parent}: {Libc.ErrnoName(Marshal.GetLastPInvokeError())}");
                return false;
            }

            if (!_parents.TryGetValue(wd, out var entry))
            {
                entry = (parent, new HashSet<string>(StringComparer.Ordinal));
                _parents[wd] = entry;
            }

            entry.Names.Add(name);
        }

        Advance(dir);
        return true;
    }

    /// <summary>Stops watching <paramref name="dir"/> (the container stopped before it ever ran); no callback follows.</summary>
    public void Disarm(string dir)
    {
        dir = dir.TrimEnd('/');
        lock (_sync)
        {
            if (!_disposed && _armed.Remove(dir))
            {
                Forget(dir);
            }
        }
    }

    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        Signal();
        _thread.Join();
        Libc.Close(_inotify);
        Libc.Close(_wake);
    }

    /// <summary>The dir exists: watch its cgroup.events, then look once (it may have filled before the watch).</summary>
    private void Advance(string dir)
    {
        lock (_sync)
        {
            if (!_armed.Contains(dir))
            {
                return;
            }

            // Always (re)added: a dir made again has a new cgroup.events, while the old one's IN_IGNORED may still be
            // on its way; the same file gives the same descriptor back.
            var wd = Libc.InotifyAddWatch(_inotify, Path.Combine(dir, EventsFile), Libc.InModify);
            if (wd < 0)
            {
                // ENOENT: not made yet; its IN_CREATE comes later.
                return;
            }

            _events[wd] = dir;
        }

        Check(dir);
    }

    private void Check(string dir)
    {
        if (!IsPopulated(dir))
        {
            return;
        }

        lock (_sync)
        {
            if (!_armed.Remove(dir))
            {
                return;
            }

            Forget(dir);
        }

        _populated(dir);
    }

    /// <summary>Drops the watches that served only <paramref name="dir"/>. Under the lock.</summary>
    private void Forget(string dir)
    {
        foreach (var wd in _events.Where(e => e.Value == dir).Select(e => e.Key).ToList())
        {
            _events.Remove(wd);
            Libc.InotifyRmWatch(_inotify, wd);
        }

        var cut = dir.LastIndexOf('/');
        var parent = dir[..cut];
        foreach (var (wd, entry) in _parents)
        {
            if (entry.Dir == parent && entry.Names.Remove(dir[(cut + 1)..]))
            {
                if (entry.Names.Count == 0)
                {
                    _parents.Remove(wd);
                    Libc.InotifyRmWatch(_inotify, wd);
                }

                break;
            }
        }
    }

    private unsafe void Signal()
    {
        ulong one = 1;
        Libc.Write(_wake, (byte*)&one, sizeof(ulong));
    }

    private unsafe void Loop()
    {
        var buffer = new byte[64 * 1024];
        var fds = stackalloc Libc.PollFd[2];
        while (!_disposed)
        {
            fds[0] = new Libc.PollFd { Fd = _inotify, Events = Libc.PollIn };
            fds[1] = new Libc.PollFd { Fd = _wake, Events = Libc.PollIn };
            if (Libc.Poll(fds, 2, -1) < 0)
            {
                if (Marshal.GetLastPInvokeError() == Libc.EINTR)
                {
                    continue;
                }

                _log($"poll: {Libc.ErrnoName(Marshal.GetLastPInvokeError())}; the cgroup watch stops");
                return;
            }

            if ((fds[1].Revents & Libc.PollIn) != 0 || _disposed)
            {
                return;
            }

            var records = InotifyRecords.Read(_inotify, buffer);
            if (records.IsEmpty)
            {
                continue;
            }

            try
            {
                Dispatch(records);
            }
            catch (Exception e)
            {
                // The watch must outlive any one bad event or callback.
                _log($"cgroup watch: {e.Message}");
            }
        }
    }

    /// <summary>Acts on the records of one read.</summary>
    private void Dispatch(InotifyRecords records)
    {
        var todo = new List<(bool Created, string Dir)>();
        var overflow = false;
        foreach (var e in records)
        {
            var (wd, mask, name) = (e.Wd, e.Mask, e.Name);
            overflow |= (mask & Libc.InQOverflow) != 0;
            lock (_sync)
            {
                if ((mask & Libc.InCreate) != 0 && _parents.TryGetValue(wd, out var entry) && entry.Names.Contains(name))
                {
                    todo.Add((true, entry.Dir + "/" + name));
                }
                else if ((mask & Libc.InModify) != 0 && _events.TryGetValue(wd, out var dir))
                {
                    todo.Add((false, dir));
                }
                else if ((mask & Libc.InIgnored) != 0)
                {
                    // The dir went (rmdir): its watch is gone; a new dir of that name is watched again from its IN_CREATE.
                    // A parent that went takes its expected names with it (they stay armed until disarmed).
                    _events.Remove(wd);
                    _parents.Remove(wd);
                }
            }
        }

        if (overflow)
        {
            // Events were lost: look at every armed dir once.
            lock (_sync)
            {
                todo.AddRange(_armed.Select(d => (true, d)));
            }
        }

        foreach (var (created, dir) in todo)
        {
            if (created)
            {
                Advance(dir);
            }
            else
            {
                Check(dir);
            }
        }
    }
}
