using Interop.Core.Model;

namespace Interop.Service;

/// <summary>
/// Everything the daemon's logic needs from the host: cgroupfs across all hierarchies, /proc, and managers' pid files.
/// Paths are relative to the hierarchy root without a leading '/', already validated.
/// <see cref="LinuxCgroupHost"/> is the real one; tests of the logic substitute it.
/// </summary>
public interface ICgroupHost
{
    /// <summary>"legacy", "hybrid" or "unified".</summary>
    string Mode { get; }

    /// <summary>(key, mount point) of every hierarchy, in discovery order.</summary>
    IReadOnlyList<(string Key, string MountPoint)> Hierarchies { get; }

    /// <summary>Creates or repairs the shared root in every hierarchy; returns the actions taken.</summary>
    IReadOnlyList<string> Setup(string sharedRootDir);

    /// <summary>
    /// What a prepare needs before the manager makes a container's dirs: the shared root as <see cref="Setup"/> leaves it
    /// and <paramref name="dir"/> (the container's parent: the shared root, or a libvirt partition below it) made and
    /// initialized the same way, top-down.
    /// A hierarchy where nothing has written into those dirs since the last call is not checked again. Returns the
    /// actions taken.
    /// </summary>
    IReadOnlyList<string> EnsureReady(string dir);

    /// <summary>Names of the child dirs of <paramref name="dir"/>, across all hierarchies.</summary>
    IReadOnlySet<string> ListChildren(string dir);

    /// <summary>
    /// The names of <paramref name="dir"/>'s child dirs (across all hierarchies) that <paramref name="where"/> accepts,
    /// in no order; for a container's parent, without copying the names of thousands of siblings to find a few.
    /// <paramref name="where"/> must be a pure test of the name.
    /// </summary>
    IReadOnlyList<string> ListChildren(string dir, Func<string, bool> where);

    /// <summary>True when any task lives in <paramref name="dir"/> or below, in any hierarchy.</summary>
    bool HasTasks(string dir);

    /// <summary>Removes <paramref name="dir"/> and its sub-dirs in every hierarchy where they are empty; returns what went.</summary>
    IReadOnlyList<string> RemoveIfEmpty(string dir);

    /// <summary>Removes empty dirs under the shared root that <paramref name="isOwned"/> does not claim.</summary>
    IReadOnlyList<string> Prune(string sharedRootDir, bool dryRun, Func<string, bool> isOwned);

    /// <summary>The pid's cgroup per hierarchy key ("/machine/x"), or null when the pid is gone.</summary>
    IReadOnlyDictionary<string, string>? ReadProcCgroup(int pid);

    /// <summary>
    /// Whether <paramref name="test"/> accepts one of the pid's cgroup paths (in this host's hierarchies, in
    /// /proc/PID/cgroup's order, asked until it does), or null when the pid is gone: <see cref="ReadProcCgroup"/>'s
    /// paths without a map or a string for them, for a lookup by pid.
    /// </summary>
    bool? AnyCgroupPath(int pid, CgroupPathTest test);

    /// <summary>True when the pid exists and is not a zombie.</summary>
    bool IsAlive(int pid);

    /// <summary>True when the pid's cgroup namespace differs from the host's (pid 1's).</summary>
    bool HasPrivateCgroupNamespace(int pid);

    /// <summary>The pids in <paramref name="dir"/> and below, in the hierarchy <paramref name="key"/>.</summary>
    IReadOnlyList<uint> Tasks(string key, string dir);

    /// <summary>The parent pid of <paramref name="pid"/>, or 0.</summary>
    int ParentOf(int pid);

    /// <summary>The hierarchy key that holds <paramref name="controller"/> ("memory" → "memory" or "unified").</summary>
    string? HierarchyOf(string controller);

    string ReadValue(string key, string dir, string file);

    void WriteValue(string key, string dir, string file, string value);

    /// <summary>The absolute dir of a cgroup path in hierarchy <paramref name="key"/>.</summary>
    string AbsoluteDir(string key, string dir);

    /// <summary>
    /// Creates <paramref name="dir"/> (below the shared root) in the one hierarchy <paramref name="key"/>, top-down and
    /// initialized like the shared root (a systemd host mirrors a unit's path in the hierarchies systemd leaves alone).
    /// </summary>
    IReadOnlyList<string> EnsureDirIn(string key, string dir);

    /// <summary>Moves <paramref name="pid"/> into <paramref name="dir"/> of hierarchy <paramref name="key"/> (cgroup.procs).</summary>
    void MoveProcess(string key, string dir, int pid);

    /// <summary>Removes <paramref name="dir"/> and its sub-dirs in hierarchy <paramref name="key"/> when they hold no task; returns what went.</summary>
    IReadOnlyList<string> RemoveIfEmptyIn(string key, string dir);

    /// <summary>The argv of <paramref name="pid"/> (/proc/PID/cmdline), or null when it is gone.</summary>
    IReadOnlyList<string>? ReadCmdline(int pid);

    /// <summary>The names of the pid files ("NAME.pid") in <paramref name="runDir"/> that hold <paramref name="pid"/>.</summary>
    IReadOnlyList<string> PidFileNames(string runDir, int pid);
}
