using Interop.Core.Model;

namespace Interop.Core.Service;

/// <summary>
/// The daemon's API (DESIGN.md section 8), independent of the bus. interopd implements it over the
/// registry and cgroupfs (Interop.Service); Interop.DBus exports it on the bus. Callers do not use it:
/// they have Interop.DBus's IInteropClient, which returns what the bus carries.
/// Errors are <see cref="InteropException"/>s; their ErrorName is the D-Bus error name.
/// Authorization is not part of this contract: the D-Bus layer checks the caller's uid with the bus
/// before it calls a mutating method.
/// </summary>
public interface IInteropService : ILifecycleService
{
    string Version { get; }

    /// <summary>"legacy", "hybrid" or "unified".</summary>
    string CgroupMode { get; }

    /// <summary>The shared root, absolute in hierarchy terms (e.g. "/machine").</summary>
    string SharedRoot { get; }

    IReadOnlyList<HierarchyInfo> Hierarchies { get; }

    uint ContainerCount { get; }

    IReadOnlyList<Mapping> ListContainers();

    /// <exception cref="NoSuchContainerException"/>
    Mapping GetContainer(Manager manager, string name);

    /// <summary>The container whose cgroup subtree holds <paramref name="pid"/> (in any hierarchy).</summary>
    /// <exception cref="NoSuchContainerException"/>
    Mapping GetContainerByPid(uint pid);

    /// <summary>The container whose cgroup is <paramref name="path"/> or an ancestor of it.</summary>
    /// <exception cref="NoSuchContainerException"/>
    Mapping GetContainerByCgroup(string path);

    /// <returns>The actions taken, one line each ("cpuset: created /machine", ...); empty when nothing changed.</returns>
    Task<IReadOnlyList<string>> SetupAsync(CancellationToken cancellationToken = default);

    /// <returns>The dirs removed (or, with <paramref name="dryRun"/>, that would be).</returns>
    Task<IReadOnlyList<string>> PruneAsync(bool dryRun, CancellationToken cancellationToken = default);

    string GetValue(Manager manager, string name, string key);

    Task SetValueAsync(Manager manager, string name, string key, string value, CancellationToken cancellationToken = default);

    IReadOnlyList<uint> GetTasks(Manager manager, string name);

    event EventHandler<ContainerEventArgs>? ContainerAdded;

    event EventHandler<ContainerEventArgs>? ContainerRemoved;

    /// <summary>A mapping's properties changed (state, leader, paths): drives PropertiesChanged.</summary>
    event EventHandler<ContainerEventArgs>? ContainerChanged;
}

/// <summary>
/// The four calls the managers' hooks make (DESIGN.md section 7), on the daemon's side. A hook makes them
/// through Interop.DBus's ILifecycleClient (Interop.DBus.Direct.DirectClient).
/// </summary>
public interface ILifecycleService
{
    Task PrepareContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default);

    Task<Mapping> RegisterContainerAsync(Manager manager, string name, uint leader, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default);

    /// <returns>true when a mapping was dropped, false when there was none.</returns>
    Task<bool> ReleaseContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default);

    /// <summary>Marks a container as stopping (the manager's stop hook). Never fails for an unknown container.</summary>
    Task StopContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default);
}

public sealed class ContainerEventArgs : EventArgs
{
    public ContainerEventArgs(Mapping mapping)
    {
        Mapping = mapping;
    }

    public Mapping Mapping { get; }
}
