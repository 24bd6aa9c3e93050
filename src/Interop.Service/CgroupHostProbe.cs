using Interop.Core.Adapters;
using Interop.Core.Model;

namespace Interop.Service;

/// <summary>
/// The layouts' view of the host (<see cref="IHostProbe"/>) over <see cref="ICgroupHost"/>. Tasks are read in
/// <paramref name="key"/>, by default the primary hierarchy (<see cref="PrimaryHierarchy"/>): a container's tasks
/// are the same in every hierarchy its manager made its dir in.
/// </summary>
internal sealed class CgroupHostProbe(ICgroupHost host, string? key = null) : IHostProbe
{
    private string? _key = key;

    public IReadOnlyList<uint> Tasks(string dir)
    {
        _key ??= PrimaryHierarchy.Of(host.Hierarchies.Select(h => h.Key)) ?? throw new InvalidOperationException("no hierarchy is mounted");
        return host.Tasks(_key, dir);
    }

    public int ParentOf(int pid) => host.ParentOf(pid);

    public IReadOnlyList<string> PidFileNames(string runDir, int pid) => host.PidFileNames(runDir, pid);
}
