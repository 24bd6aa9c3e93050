using System.Globalization;
using Interop.Linux.Cgroups;

namespace Interop.ReliabilityTests.Infra;

/// <summary>
/// The scratch cgroup as these tests see it: dirs relative to the shared root, leaders that join a container dir,
/// and snapshots of every dir to tell what a run made or removed. The test's own processes stay in their memory
/// cgroup (memory:/process_api): leaders join the container dirs in the other hierarchies only.
/// </summary>
internal sealed class ScratchRoot
{
    private readonly DaemonRig _world;

    public ScratchRoot(DaemonRig world)
    {
        _world = world;
    }

    public string Name => _world.Scratch.Name;

    /// <summary>The work dir: bus socket, config, state, anything else a test writes.</summary>
    public string TempDir => _world.WorkDir;

    public IReadOnlyList<Hierarchy> Hierarchies => _world.Scratch.Hierarchies;

    /// <summary>Hierarchy terms, e.g. "/interop-rel.0123/machine.partition".</summary>
    public string SharedRoot => _world.SharedRoot;

    /// <summary>The hierarchies a leader may join: all but memory (the test runs in memory:/process_api).</summary>
    public IEnumerable<Hierarchy> LeaderHierarchies => _world.Scratch.TaskHierarchies;

    public string Dir(Hierarchy h, string relUnderRoot) => _world.RootDir(h, relUnderRoot);

    public Leader StartLeader() => new(_world.Scratch.Start("sleep", "3600"));

    /// <summary>A leader running as <paramref name="uid"/> (setpriv execs sleep: the pid is the sleeper's).</summary>
    public Leader StartLeaderAs(uint uid)
    {
        var id = uid.ToString(CultureInfo.InvariantCulture);
        return new(_world.Scratch.Start("setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups", "sleep", "3600"));
    }

    /// <summary>Makes the container dir under the shared root in every leader hierarchy and moves the leader in.</summary>
    public void Enter(Leader leader, string child)
    {
        var rel = _world.RootRel + "/" + child;
        _world.Scratch.MakeDirs(rel, LeaderHierarchies);
        _world.Scratch.MoveTask(leader.Pid, rel);
    }

    /// <summary>The child dirs of the shared root in every hierarchy, as "hierarchy:child".</summary>
    public SortedSet<string> ChildrenOfSharedRoot()
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var h in Hierarchies)
        {
            var root = _world.RootDir(h);
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

    /// <summary>Every dir below the scratch cgroup (any depth) and below the work dir, plus the hierarchy roots' top level.</summary>
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

            foreach (var rel in _world.Scratch.Listing(h))
            {
                set.Add(_world.Scratch.Dir(h, rel));
            }
        }

        foreach (var d in Directory.EnumerateDirectories(TempDir, "*", SearchOption.AllDirectories))
        {
            set.Add(d);
        }

        return set;
    }
}

/// <summary>A container's stand-in leader: a `sleep` the scratch cgroup started (and kills on Dispose), stopped early by its pid.</summary>
internal sealed class Leader
{
    private readonly System.Diagnostics.Process _process;

    public Leader(System.Diagnostics.Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public bool Alive => !_process.HasExited;

    /// <summary>SIGKILL by pid and reap, so the pid leaves its cgroups before this returns.</summary>
    public void Stop()
    {
        if (!_process.HasExited)
        {
            Posix.Kill(Pid, Posix.SIGKILL);
        }

        _process.WaitForExit();
    }
}
