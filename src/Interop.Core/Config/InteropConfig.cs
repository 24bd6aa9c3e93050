using Interop.Core.Model;

namespace Interop.Core.Config;

/// <summary>What to do with a container whose cgroup lies outside the shared root.</summary>
public enum ContainerPolicy
{
    /// <summary>Refuse it (prepare and started fail, the manager aborts the start).</summary>
    Strict,

    /// <summary>Register it anyway and log a warning.</summary>
    Permissive,
}

/// <summary>
/// The daemon's and CLI's configuration (/etc/interop/interop.yaml). Every property has the default
/// documented in config/interop.yaml and docs/configuration.md.
/// </summary>
public sealed record InteropConfig
{
    public const string DefaultPath = "/etc/interop/interop.yaml";

    /// <summary>The environment variable that names another configuration file (both programs honour it).</summary>
    public const string PathVariable = "INTEROP_CONFIG";

    /// <summary>The configuration file: <paramref name="fromEnvironment"/> ($INTEROP_CONFIG) when set, else <see cref="DefaultPath"/>.</summary>
    public static string PathFrom(string? fromEnvironment) => string.IsNullOrEmpty(fromEnvironment) ? DefaultPath : fromEnvironment;

    /// <summary>The shared root, absolute in hierarchy terms: libvirt's default partition "/machine".</summary>
    public string SharedRoot { get; init; } = "/machine";

    /// <summary>"system", "session", or a D-Bus address such as "unix:path=/run/interop/bus".</summary>
    public string Bus { get; init; } = "system";

    public string StateFile { get; init; } = "/var/lib/interop/state.yaml";

    public ContainerPolicy Policy { get; init; } = ContainerPolicy.Strict;

    /// <summary>How often the reaper prunes empty, unowned dirs; zero disables it.</summary>
    public TimeSpan ReaperInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Users (names or numeric uids) allowed to call mutating methods. root (uid 0) always may.</summary>
    public IReadOnlyList<string> AllowedUsers { get; init; } = ["root"];

    /// <summary>Groups (names or numeric gids) whose members may call mutating methods.</summary>
    public IReadOnlyList<string> AllowedGroups { get; init; } = [];

    /// <summary>
    /// The highest cgroup Interop may write, an ancestor of (or equal to) the shared root: "/" (the default)
    /// lets setup enable v2 controllers in the hierarchy root's cgroup.subtree_control; a deeper boundary keeps
    /// Interop inside a subtree delegated to it.
    /// </summary>
    public string Boundary { get; init; } = "/";

    /// <summary>True when the file set shared_root (on a systemd host an unset one means /machine.slice).</summary>
    public bool SharedRootSet { get; init; }
    /// <summary>Where interopd serves /metrics over HTTP ("127.0.0.1:9925", "[::1]:9925"); null (the default) serves nothing.</summary>
    public string? MetricsListen { get; init; }

    /// <summary>
    /// The root-only peer-to-peer D-Bus socket the hooks use instead of the bus ("/run/interop/private"); null (the
    /// default when the file does not set it) opens none. The hooks look at /run/interop/private only.
    /// </summary>
    public string? PrivateSocket { get; init; }

    /// <summary>The shared root as a cgroup path: every "under the shared root" check asks it (<see cref="CgroupPath.IsAtOrBelow(CgroupPath)"/>).</summary>
    public CgroupPath SharedRootPath => CgroupPath.Of(SharedRoot);

    /// <summary>The shared root without its leading '/', as a cgroup-relative dir ("machine").</summary>
    public string SharedRootDir => SharedRootPath.Relative;
}
