using System.Text;

namespace Interop.Core.Text;

/// <summary>
/// systemd unit-name escaping as libvirt does it for machined (src/util/virsystemd.c, virSystemdEscapeName,
/// virSystemdMakeSliceName, virSystemdMakeScopeName), and systemd's nesting of slices in the cgroup tree.
/// Works on UTF-8 bytes, like the C code.
/// </summary>
public static class SystemdEscape
{
    private const string SliceSuffix = ".slice";
    private const string ScopePrefix = "machine-";
    private const string ScopeSuffix = ".scope";

    /// <summary>
    /// virsystemd.c virSystemdEscapeName: a leading '.' becomes \x2e, '/' becomes '-', and '-', '\' and every
    /// byte outside [0-9A-Za-z:_.] becomes \xNN (two lower-case hex digits).
    /// </summary>
    public static string Escape(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var bytes = Encoding.UTF8.GetBytes(name);
        var sb = new StringBuilder(bytes.Length * 2);
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (i == 0 && b == (byte)'.')
            {
                AppendEscaped(sb, b);
            }
            else if (b == (byte)'/')
            {
                sb.Append('-');
            }
            else if (b == (byte)'-' || b == (byte)'\\' || !IsValid(b))
            {
                AppendEscaped(sb, b);
            }
            else
            {
                sb.Append((char)b);
            }
        }

        return sb.ToString();
    }

    /// <summary>
    /// Reverses <see cref="Escape"/> for a name that held no '/': every \xNN becomes its byte. Returns null when
    /// the text is not something <see cref="Escape"/> produces (a bare '-', a bad escape, invalid UTF-8).
    /// </summary>
    public static string? Unescape(string escaped)
    {
        ArgumentNullException.ThrowIfNull(escaped);
        var bytes = new List<byte>(escaped.Length);
        for (var i = 0; i < escaped.Length; i++)
        {
            var c = escaped[i];
            if (c == '\\')
            {
                if (i + 3 >= escaped.Length || escaped[i + 1] != 'x' || !IsLowerHex(escaped[i + 2]) || !IsLowerHex(escaped[i + 3]))
                {
                    return null;
                }

                bytes.Add(Convert.ToByte(escaped.Substring(i + 2, 2), 16));
                i += 3;
            }
            else if (c < 0x80 && IsValid((byte)c) && !(i == 0 && c == '.'))
            {
                bytes.Add((byte)c);
            }
            else
            {
                return null;
            }
        }

        try
        {
            return new UTF8Encoding(false, true).GetString(bytes.ToArray());
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>
    /// virsystemd.c virSystemdMakeSliceName: one leading '/' dropped, the rest escaped, ".slice" appended.
    /// "/machine" gives "machine.slice"; "/machine/web-tier" gives "machine-web\x2dtier.slice".
    /// </summary>
    public static string SliceName(string partition)
    {
        ArgumentNullException.ThrowIfNull(partition);
        var body = partition.StartsWith('/') ? partition[1..] : partition;
        return Escape(body) + SliceSuffix;
    }

    /// <summary>
    /// Where systemd puts a slice in the cgroup tree: each '-' of the unit name opens one level, so
    /// "machine-web\x2dtier.slice" lives at "machine.slice/machine-web\x2dtier.slice". A slice name systemd
    /// refuses (empty level: leading, trailing or doubled '-') is an <see cref="InvalidInputException"/>.
    /// </summary>
    public static string SliceDir(string sliceName)
    {
        ArgumentNullException.ThrowIfNull(sliceName);
        if (!sliceName.EndsWith(SliceSuffix, StringComparison.Ordinal) || sliceName.Length == SliceSuffix.Length)
        {
            throw new InvalidInputException("partition", $"'{Printable.Of(sliceName)}' is not a slice name");
        }

        var prefix = sliceName[..^SliceSuffix.Length];
        var parts = prefix.Split('-');
        var levels = new List<string>(parts.Length);
        for (var i = 0; i < parts.Length; i++)
        {
            if (parts[i].Length == 0)
            {
                throw new InvalidInputException("partition", $"'{Printable.Of(sliceName)}' has an empty level, systemd would refuse it");
            }

            levels.Add(string.Join('-', parts, 0, i + 1) + SliceSuffix);
        }

        return string.Join('/', levels);
    }

    /// <summary>virsystemd.c virSystemdMakeScopeName (not legacy): "machine-" + escaped machine name + ".scope".</summary>
    public static string ScopeName(string machineName) => ScopePrefix + Escape(machineName) + ScopeSuffix;

    /// <summary>The machine name inside a scope dir name made by <see cref="ScopeName"/>, or null.</summary>
    public static string? MachineNameOfScope(string scopeName)
    {
        ArgumentNullException.ThrowIfNull(scopeName);
        if (!scopeName.StartsWith(ScopePrefix, StringComparison.Ordinal) ||
            !scopeName.EndsWith(ScopeSuffix, StringComparison.Ordinal) ||
            scopeName.Length <= ScopePrefix.Length + ScopeSuffix.Length)
        {
            return null;
        }

        return Unescape(scopeName[ScopePrefix.Length..^ScopeSuffix.Length]);
    }

    private static bool IsValid(byte b) =>
        b is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z')
            or (byte)':' or (byte)'_' or (byte)'.';

    private static bool IsLowerHex(char c) => c is (>= '0' and <= '9') or (>= 'a' and <= 'f');

    private static void AppendEscaped(StringBuilder sb, byte b)
    {
        const string Hex = "0123456789abcdef";
        sb.Append('\\').Append('x').Append(Hex[b >> 4]).Append(Hex[b & 15]);
    }
}
