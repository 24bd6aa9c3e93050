using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Interop.Linux.Cgroups;
using Interop.Linux.Discovery;

namespace Interop.TestSupport;

/// <summary>
/// A unique scratch cgroup <c>&lt;prefix&gt;&lt;random&gt;&lt;suffix&gt;</c> at the top of each given hierarchy (by
/// default every hierarchy the host mounts), and the processes a test starts for it. Every dir it makes or removes
/// lies below that scratch dir; the test runner itself stays where it is (in the memory hierarchy that is
/// /process_api/..., which nothing here writes to, moves tasks out of or removes).
/// </summary>
/// <remarks>
/// Implementation notes. A new cpuset dir gets its parent's cpus/mems when it comes up empty (the parent does not
/// clone them: the scratch root's clone_children stays 0, like a real hierarchy root's), so tasks can join it.
/// Dispose, even after a failed test: SIGKILL by pid of every process it started or was told of and of every task
/// found in a scratch dir, wait until they are gone, then rmdir every dir below the scratch dir children first
/// (retrying EBUSY while the kernel lets go of a reaped task's cgroup), then the scratch dir. The walk reaches each
/// dir through /proc/self/fd/N of an fd open on its parent, so chains deeper than PATH_MAX are removed too.
/// A dir it cannot remove is reported by an exception after everything else is done.
/// </remarks>
public sealed class ScratchCgroups : IDisposable
{
    private static readonly TimeSpan RmdirPatience = TimeSpan.FromSeconds(5);

    private readonly List<Hierarchy> _created = [];
    private readonly List<Process> _processes = [];
    private readonly List<int> _pids = [];
    private readonly Lock _sync = new();
    private bool _disposed;

    /// <param name="prefix">The start of the name (a project's own prefix, e.g. "interop-ft-").</param>
    /// <param name="suffix">The end of the name (e.g. ".d", which keeps libvirt's partition escaping from renaming it).</param>
    /// <param name="hierarchies">Where to make it; null: every hierarchy of <see cref="HierarchyDiscovery.FromHost"/>.</param>
    public ScratchCgroups(string prefix, string suffix = "", IReadOnlyList<Hierarchy>? hierarchies = null)
    {
        Name = prefix + Guid.NewGuid().ToString("N")[..12] + suffix;
        Hierarchies = hierarchies ?? HierarchyDiscovery.FromHost();
        try
        {
            foreach (var h in Hierarchies)
            {
                Directory.CreateDirectory(h.DirOf(Name));
                _created.Add(h);
                InheritCpuset(h, h.DirOf(Name));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The scratch dir's name, also its path relative to each hierarchy root.</summary>
    public string Name { get; }

    public IReadOnlyList<Hierarchy> Hierarchies { get; }

    /// <summary>The hierarchies a task of ours may be moved into: all but memory.</summary>
    public IEnumerable<Hierarchy> TaskHierarchies => Hierarchies.Where(h => !h.Has("memory"));

    /// <summary>The hierarchy with this key (cpuset, pids, name=systemd, unified, ...).</summary>
    public Hierarchy this[string key] => Hierarchies.Single(h => h.Key == key);

    /// <summary>A path below the scratch dir, relative to the hierarchy root ("" = the scratch dir itself).</summary>
    public string Rel(string sub = "") => sub.Length == 0 ? Name : Name + "/" + sub;

    /// <summary>The absolute dir of <paramref name="rel"/> (relative to the scratch dir) in <paramref name="h"/>.</summary>
    public string Dir(Hierarchy h, string rel = "")
    {
        ArgumentNullException.ThrowIfNull(h);
        return h.DirOf(Rel(rel));
    }

    /// <summary>The absolute dir of <paramref name="rel"/> (relative to the scratch dir) in the hierarchy with key <paramref name="key"/>.</summary>
    public string Dir(string key, string rel = "") => Dir(this[key], rel);

    /// <summary>Creates <paramref name="rel"/> (relative to the scratch dir) top-down in each hierarchy, giving new cpuset dirs their parent's cpus/mems.</summary>
    public void MakeDirs(string rel, IEnumerable<Hierarchy>? hierarchies = null)
    {
        ArgumentNullException.ThrowIfNull(rel);
        foreach (var h in hierarchies ?? Hierarchies)
        {
            var path = "";
            foreach (var part in rel.Split('/'))
            {
                path = path.Length == 0 ? part : path + "/" + part;
                var full = Dir(h, path);
                if (part is "" or "." or ".." || !full.StartsWith(Dir(h) + "/", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"refusing to create {full}: not a plain path below the scratch dir");
                }

                if (!Directory.Exists(full))
                {
                    Directory.CreateDirectory(full);
                    InheritCpuset(h, full);
                }
            }
        }
    }

    /// <summary>Moves <paramref name="pid"/> into <paramref name="rel"/> (relative to the scratch dir) in every hierarchy except memory.</summary>
    public void MoveTask(int pid, string rel)
    {
        foreach (var h in TaskHierarchies)
        {
            File.WriteAllText(Path.Combine(Dir(h, rel), "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Starts a process (stdin and stdout redirected) that Dispose kills by pid and reaps.</summary>
    public Process Start(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start " + file);
        lock (_sync)
        {
            _processes.Add(process);
        }

        return process;
    }

    /// <summary>A pid (not our child) that Dispose must kill too.</summary>
    public void Track(int pid)
    {
        lock (_sync)
        {
            _pids.Add(pid);
        }
    }

    /// <summary>Every dir below the scratch dir in <paramref name="h"/>, relative to the scratch dir, sorted.</summary>
    public IReadOnlyList<string> Listing(Hierarchy h)
    {
        var root = Dir(h);
        return Directory.Exists(root)
            ? Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).Select(d => Path.GetRelativePath(root, d)).Order(StringComparer.Ordinal).ToList()
            : [];
    }

    /// <summary>Every dir below the scratch dir in every hierarchy, as "key:rel", sorted.</summary>
    public IReadOnlyList<string> Listing()
        => Hierarchies.SelectMany(h => Listing(h).Select(rel => h.Key + ":" + rel)).Order(StringComparer.Ordinal).ToList();

    /// <summary>The pids in <paramref name="rel"/>'s cgroup.procs in the hierarchy with key <paramref name="key"/>.</summary>
    public IReadOnlyList<int> Procs(string key, string rel)
        => File.ReadAllLines(Path.Combine(Dir(key, rel), "cgroup.procs")).Where(l => l.Length > 0).Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToList();

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        List<Process> processes;
        HashSet<int> pids;
        lock (_sync)
        {
            processes = [.. _processes];
            pids = [.. _pids];
        }

        // Every task in a scratch dir is one of ours: kill them by pid along with the ones we started.
        foreach (var h in _created)
        {
            ReadProcs(Dir(h), pids);
            WalkBelow(Dir(h), dir => ReadProcs(dir, pids));
        }

        pids.Remove(Environment.ProcessId);
        foreach (var pid in pids)
        {
            Posix.Kill(pid, Posix.SIGKILL);
        }

        foreach (var process in processes)
        {
            if (!process.HasExited)
            {
                Posix.Kill(process.Id, Posix.SIGKILL);
            }

            process.WaitForExit();
            process.Dispose();
        }

        // Pids that are not our children are reaped by their parent (or init); wait until they are gone.
        Poll.Until(() => pids.All(p => !Posix.IsAlive(p)), TimeSpan.FromSeconds(10));

        var failures = new List<string>();
        foreach (var h in _created)
        {
            WalkBelow(Dir(h), dir => Remove(dir, failures));
            Remove(Dir(h), failures);
        }

        if (failures.Count > 0)
        {
            throw new InvalidOperationException("the scratch cgroup could not be removed: " + string.Join(", ", failures));
        }
    }

    /// <summary>Calls <paramref name="visit"/> for every dir below <paramref name="dir"/>, children before their parent, by short paths.</summary>
    private static void WalkBelow(string dir, Action<string> visit)
    {
        List<string> children;
        try
        {
            children = Directory.EnumerateDirectories(dir).ToList();
        }
        catch (DirectoryNotFoundException)
        {
            return;
        }

        foreach (var child in children)
        {
            Posix.WithDirFd(child, shortPath => WalkBelow(shortPath, visit));
            visit(child);
        }
    }

    private static void ReadProcs(string dir, HashSet<int> pids)
    {
        try
        {
            foreach (var line in File.ReadAllLines(Path.Combine(dir, "cgroup.procs")))
            {
                if (int.TryParse(line, CultureInfo.InvariantCulture, out var pid))
                {
                    pids.Add(pid);
                }
            }
        }
        catch (IOException)
        {
            // the dir went away meanwhile
        }
    }

    private static void Remove(string dir, List<string> failures)
    {
        var errno = 0;
        Poll.Until(
            () =>
            {
                errno = Posix.Rmdir(dir) == 0 ? 0 : Marshal.GetLastPInvokeError();
                return errno != Posix.EBUSY; // the kernel lets go of a reaped task's cgroup asynchronously
            },
            RmdirPatience);
        if (errno != 0 && errno != Posix.ENOENT)
        {
            failures.Add($"{dir} (errno {errno.ToString(CultureInfo.InvariantCulture)})");
        }
    }

    private static void InheritCpuset(Hierarchy h, string dir)
    {
        if (!h.Has("cpuset"))
        {
            return;
        }

        var parent = Path.GetDirectoryName(dir)!;
        foreach (var file in new[] { CgroupFs.CpusetCpus, CgroupFs.CpusetMems })
        {
            if (File.ReadAllText(Path.Combine(dir, file)).Trim().Length == 0)
            {
                File.WriteAllText(Path.Combine(dir, file), File.ReadAllText(Path.Combine(parent, file)).Trim());
            }
        }
    }
}
