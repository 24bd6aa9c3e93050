namespace Interop.Core.Adapters;

/// <summary>
/// What a layout may read from the host to tell who a running container found under the shared root is (reconcile's
/// adoption): the tasks of its dir, their parents, and the pid files its manager writes. The daemon implements it
/// over cgroupfs and /proc; the layouts stay pure. Dirs are relative to the hierarchy root, without a leading '/'.
/// </summary>
public interface IHostProbe
{
    /// <summary>The pids in <paramref name="dir"/> and below (one hierarchy stands for all: every one holds the same tasks).</summary>
    IReadOnlyList<uint> Tasks(string dir);

    /// <summary>The parent pid of <paramref name="pid"/>, or 0 when it is gone.</summary>
    int ParentOf(int pid);

    /// <summary>
    /// The names (file name without ".pid") of the pid files in <paramref name="runDir"/> that hold
    /// <paramref name="pid"/>; empty when there is none or the dir does not exist.
    /// </summary>
    IReadOnlyList<string> PidFileNames(string runDir, int pid);
}
