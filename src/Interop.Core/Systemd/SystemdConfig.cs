using Interop.Core.Config;

namespace Interop.Core.Systemd;

/// <summary>The configuration as it applies on a systemd host.</summary>
public static class SystemdConfig
{
    /// <summary>
    /// On a systemd host the shared root is a slice: /machine.slice unless the file names one (a shared_root that
    /// is not a top-level slice is refused: Interop creates no cgroup outside a unit there).
    /// </summary>
    /// <exception cref="InvalidInputException">field "shared root".</exception>
    public static InteropConfig ForSystemd(this InteropConfig config)
    {
        if (!config.SharedRootSet)
        {
            return config with { SharedRoot = "/" + SystemdUnits.DefaultSlice };
        }

        return config with { SharedRoot = "/" + SystemdUnits.ValidateSlice(config.SharedRoot) };
    }
}
