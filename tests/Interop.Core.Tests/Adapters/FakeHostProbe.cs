using Interop.Core.Adapters;

namespace Interop.Core.Tests.Adapters;

/// <summary>A host as data for the layouts' adoption questions: tasks per dir, parent per pid, pid files per run dir.</summary>
internal sealed class FakeHostProbe : IHostProbe
{
    public Dictionary<string, uint[]> TasksByDir { get; } = [];

    public Dictionary<int, int> Parents { get; } = [];

    /// <summary>(run dir, file name without ".pid") to the pid the file holds, in directory order.</summary>
    public List<(string RunDir, string Name, int Pid)> PidFiles { get; } = [];

    public List<string> Asked { get; } = [];

    public IReadOnlyList<uint> Tasks(string dir)
    {
        Asked.Add("tasks " + dir);
        return TasksByDir.TryGetValue(dir, out var t) ? t : [];
    }

    public int ParentOf(int pid) => Parents.GetValueOrDefault(pid);

    public IReadOnlyList<string> PidFileNames(string runDir, int pid)
    {
        Asked.Add($"pid files {runDir} {pid}");
        return [.. PidFiles.Where(f => f.RunDir == runDir && f.Pid == pid).Select(f => f.Name)];
    }
}
