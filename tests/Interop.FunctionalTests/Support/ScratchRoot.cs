using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Interop.FunctionalTests.Support;

/// <summary>
/// A unique scratch dir <c>interop-ft-&lt;random&gt;.d</c> in every mounted cgroup hierarchy under /sys/fs/cgroup
/// (the ".d" keeps libvirt's partition escaping from renaming it, so a libvirt partition can live below it).
/// Tasks the test starts are moved only into the hierarchies other than memory: the test runner itself lives in
/// memory:/process_api/..., which nothing here may touch. Dispose kills (by pid) and reaps every task the test
/// started or that sits in a scratch dir, then removes every scratch dir deepest first, even after a failure.
/// </summary>
public sealed class ScratchRoot : IDisposable
{
    public const string CgroupRoot = "/sys/fs/cgroup";

    private readonly List<Process> _processes = [];
    private readonly List<int> _pids = [];
    private bool _disposed;

    public ScratchRoot()
    {
        Name = "interop-ft-" + Guid.NewGuid().ToString("N")[..12] + ".d";
        Hierarchies = Directory.GetDirectories(CgroupRoot)
            .Where(d => new DirectoryInfo(d).LinkTarget is null)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Order(StringComparer.Ordinal)
            .ToList();
        try
        {
            foreach (var h in Hierarchies)
            {
                MakeDir(h, Name);
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

    /// <summary>Hierarchy dir names under /sys/fs/cgroup (cpuset, memory, systemd, unified, ...).</summary>
    public IReadOnlyList<string> Hierarchies { get; }

    /// <summary>The hierarchies a task of ours may be moved into: all but memory.</summary>
    public IEnumerable<string> TaskHierarchies => Hierarchies.Where(h => !IsMemory(h));

    /// <summary>The absolute dir of <paramref name="rel"/> (relative to the scratch dir) in hierarchy <paramref name="h"/>.</summary>
    public string Dir(string h, string rel = "") => rel.Length == 0 ? $"{CgroupRoot}/{h}/{Name}" : $"{CgroupRoot}/{h}/{Name}/{rel}";

    /// <summary>Creates <paramref name="rel"/> (relative to the scratch dir) top-down in every hierarchy, giving new cpuset dirs their parent's cpus/mems.</summary>
    public void MakeDirs(string rel, IEnumerable<string>? hierarchies = null)
    {
        foreach (var h in hierarchies ?? Hierarchies)
        {
            var path = Name;
            foreach (var part in rel.Split('/'))
            {
                path += "/" + part;
                MakeDir(h, path);
            }
        }
    }

    /// <summary>Moves <paramref name="pid"/> into <paramref name="rel"/> in every hierarchy except memory.</summary>
    public void MoveTask(int pid, string rel)
    {
        foreach (var h in TaskHierarchies)
        {
            File.WriteAllText(Path.Combine(Dir(h, rel), "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Starts a process that Dispose kills and reaps.</summary>
    public Process Start(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start " + file);
        _processes.Add(process);
        return process;
    }

    /// <summary>A pid (not our child) that Dispose must kill too.</summary>
    public void Track(int pid) => _pids.Add(pid);

    /// <summary>Every dir under the scratch dir in every hierarchy, as "hierarchy:rel", sorted.</summary>
    public IReadOnlyList<string> Listing()
        => Hierarchies.SelectMany(h => Directory.Exists(Dir(h))
                ? Directory.EnumerateDirectories(Dir(h), "*", SearchOption.AllDirectories).Select(d => h + ":" + Path.GetRelativePath(Dir(h), d))
                : [])
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The pids in <paramref name="rel"/>'s cgroup.procs in hierarchy <paramref name="h"/>.</summary>
    public IReadOnlyList<int> Procs(string h, string rel)
        => File.ReadAllLines(Path.Combine(Dir(h, rel), "cgroup.procs")).Where(l => l.Length > 0).Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToList();

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Every task in a scratch dir is one of ours: kill them by pid along with the ones we started.
        var pids = new HashSet<int>(_pids);
        foreach (var h in Hierarchies)
        {
            if (!Directory.Exists(Dir(h)))
            {
                continue;
            }

            foreach (var dir in Directory.EnumerateDirectories(Dir(h), "*", SearchOption.AllDirectories).Prepend(Dir(h)))
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
        }

        foreach (var pid in pids)
        {
            Posix.Kill(pid, Posix.SIGKILL);
        }

        foreach (var process in _processes)
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
        foreach (var h in Hierarchies)
        {
            var root = Dir(h);
            if (!Directory.Exists(root))
            {
                continue;
            }

            var dirs = Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories)
                .OrderByDescending(d => d.Count(c => c == '/'))
                .Append(root)
                .ToList();
            foreach (var dir in dirs)
            {
                var errno = 0;
                Poll.Until(
                    () =>
                    {
                        errno = Posix.Rmdir(dir) == 0 ? 0 : Marshal.GetLastPInvokeError();
                        return errno != Posix.EBUSY; // the kernel lets go of a reaped task's cgroup asynchronously
                    },
                    TimeSpan.FromSeconds(5));
                if (errno != 0 && errno != Posix.ENOENT)
                {
                    failures.Add($"{dir} (errno {errno})");
                }
            }
        }

        if (failures.Count > 0)
        {
            throw new InvalidOperationException("ScratchRoot could not remove: " + string.Join(", ", failures));
        }
    }

    private static bool IsMemory(string h) => h.Split(',').Contains("memory");

    private void MakeDir(string h, string rel)
    {
        var full = $"{CgroupRoot}/{h}/{rel}";
        if (!full.StartsWith($"{CgroupRoot}/{h}/{Name}", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"refusing to create {full} outside the scratch dir");
        }

        if (Directory.Exists(full))
        {
            return;
        }

        Directory.CreateDirectory(full);
        if (h.Split(',').Contains("cpuset"))
        {
            var parent = Path.GetDirectoryName(full)!;
            foreach (var file in new[] { "cpuset.cpus", "cpuset.mems" })
            {
                if (File.ReadAllText(Path.Combine(full, file)).Trim().Length == 0)
                {
                    File.WriteAllText(Path.Combine(full, file), File.ReadAllText(Path.Combine(parent, file)).Trim());
                }
            }
        }
    }
}
