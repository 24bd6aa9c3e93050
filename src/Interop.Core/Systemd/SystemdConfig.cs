using Interop.Core.Config;
using Interop.Core.Text;

namespace Interop.Core.Systemd;

/// <summary>The configuration as it applies on a systemd host.</summary>
public static class SystemdConfig
{
    /// <summary>
    /// On a systemd host the shared root is a slice. shared_root names it either as a slice ("/machine.slice") or
    /// as the libvirt partition whose slice it is ("/machine", the shipped default, is machine.slice there: libvirt
    /// maps a partition to a slice the same way, virSystemdMakeSliceName). Unset means /machine.slice. A partition
    /// deeper than one level (a nested slice) is refused: Interop creates no cgroup outside a unit there.
    /// </summary>
    /// <exception cref="InvalidInputException">field "shared root".</exception>
    public static InteropConfig ForSystemd(this InteropConfig config)
    {
        if (!config.SharedRootSet)
        {
            return config with { SharedRoot = "/" + SystemdUnits.DefaultSlice };
        }

        var root = config.SharedRootPath.Relative;
        var slice = root.EndsWith(".slice", StringComparison.Ordinal) || root.Contains('/', StringComparison.Ordinal) ? root : SystemdEscape.SliceName(root);
        return config with { SharedRoot = "/" + SystemdUnits.ValidateSlice(slice) };
    }
}
