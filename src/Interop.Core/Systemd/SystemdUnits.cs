using System.Text;
using Interop.Core.Model;
using Interop.Core.Text;

namespace Interop.Core.Systemd;

/// <summary>
/// Names of units and machines on a systemd host (DESIGN.md section 14): which cgroup dirs are units (never
/// Interop's to remove), the slice the shared root must be, the scope Interop asks for an LXC container, and the
/// name machined registers it under.
/// </summary>
public static class SystemdUnits
{
    /// <summary>The shared root on a systemd host unless the config names another slice: libvirt's default.</summary>
    public const string DefaultSlice = "machine.slice";

    private static readonly string[] UnitSuffixes = [".scope", ".service", ".slice"];

    /// <summary>True when a cgroup dir name is a unit's (systemd's to create and remove).</summary>
    public static bool IsUnitDir(string dirName) =>
        UnitSuffixes.Any(s => dirName.Length > s.Length && dirName.EndsWith(s, StringComparison.Ordinal));

    /// <summary>
    /// Checks that the shared root names a top-level slice ("/machine.slice" or "machine.slice"): a nested slice
    /// lives at a path systemd derives from its name (machine-x.slice is machine.slice/machine-x.slice), which is
    /// systemd's business, so Interop takes only a slice directly below the root.
    /// </summary>
    /// <returns>The slice name ("machine.slice").</returns>
    /// <exception cref="InvalidInputException">field "shared root".</exception>
    public static string ValidateSlice(string sharedRoot)
    {
        var name = CgroupPath.Of(sharedRoot).Relative;
        if (name.Length <= ".slice".Length || !name.EndsWith(".slice", StringComparison.Ordinal) || name.Contains('/', StringComparison.Ordinal)
            || name.Contains('-', StringComparison.Ordinal) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '_' or '.'))
        {
            throw new InvalidInputException("shared root", $"'{Printable.Of(sharedRoot)}' is not a top-level systemd slice; on a systemd host the shared root must be one, e.g. /{DefaultSlice}");
        }

        return name;
    }

    /// <summary>The transient scope Interop creates for an LXC container's monitor: lxc-&lt;escaped name&gt;.scope.</summary>
    public static string LxcScopeName(string containerName) => "lxc-" + SystemdEscape.Escape(containerName) + ".scope";

    /// <summary>
    /// The name machined registers an LXC container under. machined takes a valid hostname (systemd
    /// hostname_is_valid: labels of [A-Za-z0-9-] joined by single dots, at most 64 characters); a container whose
    /// name is one keeps it. Otherwise: every other character becomes '-', runs of dots collapse, leading and
    /// trailing dots and dashes go, and the result is cut to 64 characters; an empty result is "lxc".
    /// </summary>
    public static string MachineName(string containerName)
    {
        if (IsValidMachineName(containerName))
        {
            return containerName;
        }

        var sb = new StringBuilder(containerName.Length);
        foreach (var c in containerName)
        {
            var k = char.IsAsciiLetterOrDigit(c) || c == '.' ? c : '-';
            if (k == '.' && sb.Length > 0 && sb[^1] == '.')
            {
                continue;
            }

            sb.Append(k);
        }

        var name = sb.ToString().Trim('.', '-');
        if (name.Length > 64)
        {
            name = name[..64].TrimEnd('.', '-');
        }

        name = name.Replace(".-", "-", StringComparison.Ordinal).Replace("-.", "-", StringComparison.Ordinal);
        return name.Length == 0 ? "lxc" : name;
    }

    /// <summary>systemd's hostname_is_valid without a trailing dot: what RegisterMachine accepts as a name.</summary>
    public static bool IsValidMachineName(string name) =>
        name.Length is > 0 and <= 64
        && name[0] != '.' && name[^1] != '.'
        && !name.Contains("..", StringComparison.Ordinal)
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.');
}
