using Interop.Core.Model;

namespace Interop.DBus;

/// <summary>
/// The four calls the managers' hooks make (DESIGN.md section 7), as the bus carries them. interopctl's hook
/// path makes them through <see cref="Direct.DirectClient"/>; <see cref="InteropClient"/> makes them too.
/// Errors are the <see cref="Core.InteropException"/> named by the reply, rebuilt from its typed fields
/// (docs/dbus-api.md, "Errors"), or <see cref="DaemonUnreachableException"/>.
/// </summary>
public interface ILifecycleClient : IDisposable
{
    Task PrepareContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default);

    /// <returns>The object path of the registered container.</returns>
    Task<string> RegisterContainerAsync(Manager manager, string name, uint leader, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default);

    /// <returns>true when a mapping was dropped, false when there was none.</returns>
    Task<bool> ReleaseContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default);

    /// <summary>Marks a container as stopping (the manager's stop hook). Never fails for an unknown container.</summary>
    Task StopContainerAsync(Manager manager, string name, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken = default);
}

/// <summary>
/// org.interop.Interop1 as a caller sees it (docs/dbus-api.md): one member per method, each returning what the
/// reply carries. The daemon's side is <see cref="Core.Service.IInteropService"/>; this is not it: a client has
/// no events (watch the signals with a match rule) and no member blocks.
/// </summary>
public interface IInteropClient : ILifecycleClient, IAsyncDisposable
{
    /// <summary>The manager object's properties (one GetAll).</summary>
    Task<DaemonProperties> GetPropertiesAsync(CancellationToken cancellationToken = default);

    /// <summary>ListContainers: one row per registered container.</summary>
    Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(CancellationToken cancellationToken = default);

    /// <summary>ListUnits: the unit and machine of each container that has one (systemd hosts); empty from an interopd without ListUnits.</summary>
    Task<IReadOnlyList<ContainerUnit>> ListUnitsAsync(CancellationToken cancellationToken = default);

    /// <summary>GetContainer, then every property of the object it names.</summary>
    Task<Mapping> GetContainerAsync(Manager manager, string name, CancellationToken cancellationToken = default);

    /// <summary>GetContainerByPid, then every property of the object it names.</summary>
    Task<Mapping> GetContainerByPidAsync(uint pid, CancellationToken cancellationToken = default);

    /// <summary>GetContainerByCgroup, then every property of the object it names.</summary>
    Task<Mapping> GetContainerByCgroupAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Every property of a container object (one GetAll).</summary>
    Task<Mapping> GetMappingAsync(string objectPath, CancellationToken cancellationToken = default);

    /// <returns>The actions taken, one line each; empty when nothing changed.</returns>
    Task<IReadOnlyList<string>> SetupAsync(CancellationToken cancellationToken = default);

    /// <returns>The dirs removed (or, with <paramref name="dryRun"/>, that would be).</returns>
    Task<IReadOnlyList<string>> PruneAsync(bool dryRun, CancellationToken cancellationToken = default);

    /// <summary>Interop's metrics in the Prometheus text exposition format, as interopd's /metrics serves them.</summary>
    Task<string> GetMetricsAsync(CancellationToken cancellationToken = default);

    Task<string> GetValueAsync(Manager manager, string name, string key, CancellationToken cancellationToken = default);

    Task SetValueAsync(Manager manager, string name, string key, string value, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<uint>> GetTasksAsync(Manager manager, string name, CancellationToken cancellationToken = default);
}

/// <summary>The manager object's properties.</summary>
/// <param name="StateWritable">null when the daemon does not have the property (older than it).</param>
public sealed record DaemonProperties(
    string Version,
    string CgroupMode,
    string SharedRoot,
    IReadOnlyList<HierarchyInfo> Hierarchies,
    uint ContainerCount,
    bool? StateWritable);

/// <summary>One row of ListContainers, a(sssuso).</summary>
public sealed record ContainerSummary(Manager Manager, string Name, ContainerState State, uint Leader, string CgroupPath, string ObjectPath)
{
    public ContainerId Id => new(Manager, Name);
}

/// <summary>One row of ListUnits, a(ssss).</summary>
public sealed record ContainerUnit(Manager Manager, string Name, string Unit, string Machine)
{
    public ContainerId Id => new(Manager, Name);
}
