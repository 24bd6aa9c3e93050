using Interop.Linux.Cgroups;
using Interop.Linux.Discovery;

namespace Interop.ReliabilityTests.Infra;

/// <summary>
/// One unique scratch place per test: a dir under /tmp (bus socket, config, state, logs) and a cgroup dir of the
/// same name at the top of every hierarchy, holding the shared root. Dispose stops the leaders it started (by
/// pid), removes the cgroup dirs children first, and removes the temp dir.
/// </summary>
/// <remarks>
/// The name carries a '.' and the shared root is "machine.partition", so a libvirt partition equal to the shared
/// root maps onto itself (libvirt appends ".partition" to partition components without a '.').
/// The test's own processes stay in their memory cgroup: leaders join the container dirs in the other
/// hierarchies only.
/// </remarks>
internal sealed class ScratchRoot : IDisposable
{
    private readonly List<Leader> _leaders = [];
    private readonly Lock _sync = new();

    public ScratchRoot()
    {
        Name = $"interop-rel.{Guid.NewGuid():N}"[..24];
        TempDir = Path.Combine("/tmp", Name);
        Directory.CreateDirectory(TempDir);
        if (OperatingSystem.IsLinux())
        {
            // Non-root callers (the authorization tests) must reach the bus socket in here.
            File.SetUnixFileMode(TempDir, (UnixFileMode)0b111_101_101);
        }
        Hierarchies = HierarchyDiscovery.FromHost();
        foreach (var h in Hierarchies)
        {
            var dir = Path.Combine(h.MountPoint, Name);
            Directory.CreateDirectory(dir);
            if (h.Has("cpuset"))
            {
                File.WriteAllText(Path.Combine(dir, "cpuset.cpus"), File.ReadAllText(Path.Combine(h.MountPoint, "cpuset.cpus")).Trim());
                File.WriteAllText(Path.Combine(dir, "cpuset.mems"), File.ReadAllText(Path.Combine(h.MountPoint, "cpuset.mems")).Trim());
            }
        }
    }

    public string Name { get; }

    public string TempDir { get; }

    public IReadOnlyList<Hierarchy> Hierarchies { get; }

    /// <summary>Hierarchy terms, e.g. "/interop-rel.0123/machine.partition".</summary>
    public string SharedRoot => $"/{Name}/machine.partition";

    public string SharedRootRel => SharedRoot.TrimStart('/');

    /// <summary>The hierarchies a leader may join: all but memory (the test runs in memory:/process_api).</summary>
    public IEnumerable<Hierarchy> LeaderHierarchies => Hierarchies.Where(h => !h.Has("memory"));

    public string Dir(Hierarchy h, string relUnderRoot) => Path.Combine(h.MountPoint, SharedRootRel, relUnderRoot);

    /// <summary>A leader running as <paramref name="uid"/> (setpriv execs sleep: the pid is the sleeper's).</summary>
    public Leader StartLeaderAs(uint uid)
    {
        var leader = Leader.StartAs(uid);
        lock (_sync)
        {
            _leaders.Add(leader);
        }

        return leader;
    }

    public Leader StartLeader()
    {
        var leader = Leader.Start();
        lock (_sync)
        {
            _leaders.Add(leader);
        }

        return leader;
    }

    /// <summary>Makes the container dir under the shared root in every leader hierarchy and moves the leader in.</summary>
    public void Enter(Leader leader, string child)
    {
        foreach (var h in LeaderHierarchies)
        {
            var dir = Dir(h, child);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "cgroup.procs"), leader.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The child dirs of the shared root in every hierarchy, as "hierarchy:child".</summary>
    public SortedSet<string> ChildrenOfSharedRoot()
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var h in Hierarchies)
        {
            var root = Path.Combine(h.MountPoint, SharedRootRel);
            if (Directory.Exists(root))
            {
                foreach (var d in Directory.EnumerateDirectories(root))
                {
                    set.Add($"{h.Key}:{Path.GetFileName(d)}");
                }
            }
        }

        return set;
    }

    /// <summary>Every dir below the scratch cgroup (any depth) and below the temp dir, plus the hierarchy roots' top level.</summary>
    public SortedSet<string> SnapshotDirs()
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var h in Hierarchies)
        {
            foreach (var d in Directory.EnumerateDirectories(h.MountPoint))
            {
                var name = Path.GetFileName(d);

                // Other test runs on this host make their own interop-* scratch dirs meanwhile; ours is listed in full below.
                if (!name.StartsWith("interop-", StringComparison.Ordinal) || name == Name)
                {
                    set.Add(d);
                }
            }

            foreach (var d in Directory.EnumerateDirectories(Path.Combine(h.MountPoint, Name), "*", SearchOption.AllDirectories))
            {
                set.Add(d);
            }
        }

        foreach (var d in Directory.EnumerateDirectories(TempDir, "*", SearchOption.AllDirectories))
        {
            set.Add(d);
        }

        return set;
    }

    public void Dispose()
    {
        List<Leader> leaders;
        lock (_sync)
        {
            leaders = [.. _leaders];
        }

        foreach (var l in leaders)
        {
            l.Dispose();
        }

        foreach (var h in Hierarchies)
        {
            RemoveTree(Path.Combine(h.MountPoint, Name));
        }

        if (Directory.Exists(TempDir))
        {
            Directory.Delete(TempDir, recursive: true);
        }
    }

    private static void RemoveTree(string dir)
    {
        if (!Directory.Exists(dir))
        {
            return;
        }

        foreach (var child in Directory.EnumerateDirectories(dir))
        {
            RemoveTree(child);
        }

        Directory.Delete(dir);
    }
}

/// <summary>A container's stand-in leader: a `sleep` this test started, stopped by its pid.</summary>
internal sealed class Leader : IDisposable
{
    private readonly System.Diagnostics.Process _process;

    private Leader(System.Diagnostics.Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public bool Alive => !_process.HasExited;

    public static Leader Start() =>
        new(System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "3600") { UseShellExecute = false })
            ?? throw new InvalidOperationException("cannot start sleep"));

    public static Leader StartAs(uint uid)
    {
        var id = uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var psi = new System.Diagnostics.ProcessStartInfo("setpriv") { UseShellExecute = false };
        foreach (var a in new[] { "--reuid=" + id, "--regid=" + id, "--clear-groups", "sleep", "3600" })
        {
            psi.ArgumentList.Add(a);
        }

        return new(System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException("cannot start setpriv sleep"));
    }

    /// <summary>SIGKILL and reap, so the pid leaves its cgroups before this returns.</summary>
    public void Stop()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.WaitForExit();
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }
}
