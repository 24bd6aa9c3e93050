using System.Text;
using Interop.Core;
using Interop.Core.Model;

namespace Interop.DBus;

/// <summary>
/// Bus name, interface names and object paths of the Interop D-Bus API (DESIGN.md section 8).
/// </summary>
/// <remarks>
/// A container's object path is <c>/org/interop/Interop1/container/&lt;manager&gt;_&lt;escaped name&gt;</c>:
/// the manager's wire name ("lxc" or "libvirt", letters only), one '_' as separator, then the container name
/// escaped like systemd's bus object paths (<c>sd_bus_path_encode</c>): every ASCII letter and digit is kept,
/// every other byte of the name's UTF-8 form becomes '_' plus two lowercase hex digits, and the empty string is "_".
/// The manager never contains '_', so the first '_' always separates the two and the mapping is reversible:
/// ("lxc", "web-01") is <c>lxc_web_2d01</c>, ("libvirt", "db_1") is <c>libvirt_db_5f1</c>.
/// </remarks>
public static class ObjectPaths
{
    public const string BusName = "org.interop.Interop1";

    public const string ManagerPath = "/org/interop/Interop1";

    public const string ContainerParent = ManagerPath + "/container";

    public const string ManagerInterface = "org.interop.Interop1.Manager";

    public const string ContainerInterface = "org.interop.Interop1.Container";

    private const string HexDigits = "0123456789abcdef";

    /// <summary>The object path of a container.</summary>
    public static string ForContainer(Manager manager, string name)
        => $"{ContainerParent}/{Label(manager, name)}";

    /// <summary>The last element of a container's object path: "&lt;manager&gt;_&lt;escaped name&gt;".</summary>
    public static string Label(Manager manager, string name) => $"{manager.ToWire()}_{Escape(name)}";

    /// <summary>Reverses <see cref="ForContainer"/>; false for any path that <see cref="ForContainer"/> cannot produce.</summary>
    public static bool TryParseContainer(string? path, out ContainerId id)
    {
        id = default;
        if (path is null || !path.StartsWith(ContainerParent + "/", StringComparison.Ordinal))
        {
            return false;
        }

        return TryParseLabel(path[(ContainerParent.Length + 1)..], out id);
    }

    /// <summary>Reverses <see cref="Label"/>.</summary>
    public static bool TryParseLabel(string label, out ContainerId id)
    {
        id = default;
        var sep = label.IndexOf('_', StringComparison.Ordinal);
        if (sep <= 0)
        {
            return false;
        }

        Manager manager;
        switch (label[..sep])
        {
            case ManagerNames.Lxc:
                manager = Manager.Lxc;
                break;
            case ManagerNames.Libvirt:
                manager = Manager.Libvirt;
                break;
            default:
                return false;
        }

        if (!TryUnescape(label[(sep + 1)..], out var name))
        {
            return false;
        }

        id = new ContainerId(manager, name);
        return true;
    }

    /// <summary>Escapes any string into one valid object path element (systemd's scheme, see the remarks on the class).</summary>
    public static string Escape(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0)
        {
            return "_";
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        var sb = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (char.IsAsciiLetterOrDigit((char)b))
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('_').Append(HexDigits[b >> 4]).Append(HexDigits[b & 0xf]);
            }
        }

        return sb.ToString();
    }

    /// <summary>
    /// Reverses <see cref="Escape"/>. Only the canonical form is accepted: lowercase hex, no escaped letter or digit,
    /// valid UTF-8, so every name has exactly one path.
    /// </summary>
    public static bool TryUnescape(string element, out string value)
    {
        value = string.Empty;
        if (element == "_")
        {
            return true;
        }

        if (element.Length == 0)
        {
            return false;
        }

        var bytes = new List<byte>(element.Length);
        for (var i = 0; i < element.Length; i++)
        {
            var c = element[i];
            if (char.IsAsciiLetterOrDigit(c))
            {
                bytes.Add((byte)c);
                continue;
            }

            if (c != '_' || i + 2 >= element.Length)
            {
                return false;
            }

            var hi = HexDigits.IndexOf(element[i + 1], StringComparison.Ordinal);
            var lo = HexDigits.IndexOf(element[i + 2], StringComparison.Ordinal);
            if (hi < 0 || lo < 0)
            {
                return false;
            }

            var b = (byte)((hi << 4) | lo);
            if (char.IsAsciiLetterOrDigit((char)b))
            {
                return false;
            }

            bytes.Add(b);
            i += 2;
        }

        try
        {
            value = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes.ToArray());
        }
        catch (ArgumentException)
        {
            return false;
        }

        return true;
    }
}
