// Implementation notes
// - Two input formats are accepted, line by line:
//   * /proc/<pid>/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT MOUNTOPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS".
//     The optional fields (shared:N, master:N, propagate_from:N, unbindable) vary in number, so the
//     fields after the lone "-" separator are found by scanning, never by position.
//   * /proc/mounts (fstab style): "SOURCE MOUNTPOINT FSTYPE OPTIONS DUMP PASS". It has no root field
//     (taken as "/"), no device id and only one options field (mount and super options together).
//   A line is mountinfo when its first two fields are numbers, its third is MAJ:MIN and a "-" field
//   follows; anything else with at least four fields is read as the short format.
// - The kernel escapes ' ', '\t', '\n' and '\\' in paths as a backslash and three octal digits
//   (e.g. "\040"); those are decoded. Fields are separated by exactly one space.
// - Only fstype "cgroup" and "cgroup2" are kept by default, and strings are allocated only for kept
//   lines: the rest of the table (tmpfs on /sys/fs/cgroup, cgroup_root, ...) is skipped on spans.
// - Malformed lines are skipped, not fatal: the kernel never produces them, and a stray line that is
//   not a cgroup mount must not stop a hook. A file that is not a mount table therefore yields no
//   cgroup entries (and discovery then reports CgroupMode.None).
using System.Globalization;
using System.Text;

namespace Interop.Linux.Discovery;

/// <summary>Which file a <see cref="MountEntry"/> came from.</summary>
public enum MountTableFormat
{
    /// <summary>/proc/&lt;pid&gt;/mountinfo.</summary>
    MountInfo,

    /// <summary>/proc/mounts (the 6-field fstab format).</summary>
    Mounts,
}

/// <summary>One line of a mount table.</summary>
/// <param name="MountPoint">Absolute mount point, octal escapes decoded.</param>
/// <param name="Root">The mountinfo root field (the subtree of the filesystem mounted here); "/" for the short format.</param>
/// <param name="FsType">Filesystem type, e.g. "cgroup" or "cgroup2".</param>
/// <param name="Source">The mount source ("cgroup", "none", "cpuset", ...).</param>
/// <param name="SuperOptions">Superblock options (mountinfo), or the whole options field (short format): v1 controllers and name= live here.</param>
/// <param name="MountOptions">Per-mount options (mountinfo only; empty for the short format).</param>
/// <param name="DeviceId">"major:minor" of the filesystem (mountinfo only, else null). Every v1 hierarchy has its own.</param>
/// <param name="MountId">The mount id (mountinfo only, else -1).</param>
/// <param name="ParentId">The parent mount id (mountinfo only, else -1).</param>
/// <param name="Format">The file format the line came from.</param>
public sealed record MountEntry(
    string MountPoint,
    string Root,
    string FsType,
    string Source,
    string SuperOptions,
    string MountOptions,
    string? DeviceId,
    int MountId,
    int ParentId,
    MountTableFormat Format)
{
    public const string Cgroup1FsType = "cgroup";
    public const string Cgroup2FsType = "cgroup2";

    public bool IsCgroup1 => FsType == Cgroup1FsType;

    public bool IsCgroup2 => FsType == Cgroup2FsType;

}

/// <summary>Parser for /proc/self/mountinfo and /proc/mounts.</summary>
public static class MountTable
{
    public const string DefaultMountInfoPath = "/proc/self/mountinfo";

    /// <summary>Reads and parses a mount table file (either format). Only cgroup/cgroup2 lines unless <paramref name="cgroupOnly"/> is false.</summary>
    public static IReadOnlyList<MountEntry> Read(string path = DefaultMountInfoPath, bool cgroupOnly = true)
        => Parse(File.ReadAllText(path), cgroupOnly);

    /// <summary>Parses the text of a mount table (either format, malformed lines skipped).</summary>
    public static IReadOnlyList<MountEntry> Parse(string text, bool cgroupOnly = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<MountEntry>();
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (TryParseLine(line, out var entry, cgroupOnly))
            {
                result.Add(entry);
            }
        }

        return result;
    }

    /// <summary>
    /// Parses one line. Returns false for an empty or malformed line, and (when <paramref name="cgroupOnly"/>)
    /// for a line whose fstype is not cgroup/cgroup2.
    /// </summary>
    public static bool TryParseLine(ReadOnlySpan<char> line, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MountEntry? entry, bool cgroupOnly = true)
    {
        entry = null;
        line = line.TrimEnd('\r');
        if (line.IsEmpty)
        {
            return false;
        }

        Span<Range> fields = stackalloc Range[32];
        // With more fields than ranges, the last range holds the rest of the line: such a line is
        // neither a 6-field short line nor a mountinfo line with a sane number of optional fields.
        var count = line.Split(fields, ' ');

        return IsMountInfo(line, fields[..count], out var separator)
            ? TryParseMountInfo(line, fields[..count], separator, cgroupOnly, out entry)
            : TryParseShort(line, fields[..count], cgroupOnly, out entry);
    }

    /// <summary>Decodes the kernel's octal escapes ("\040" = space, "\011", "\012", "\134").</summary>
    public static string Unescape(ReadOnlySpan<char> value)
    {
        if (value.IndexOf('\\') < 0)
        {
            return value.ToString();
        }

        var builder = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 3 < value.Length && TryOctal(value.Slice(i + 1, 3), out var decoded))
            {
                builder.Append(decoded);
                i += 3;
            }
            else
            {
                builder.Append(value[i]);
            }
        }

        return builder.ToString();
    }

    private static bool TryOctal(ReadOnlySpan<char> digits, out char value)
    {
        value = '\0';
        if (digits.Length != 3)
        {
            return false;
        }

        var number = 0;
        foreach (var c in digits)
        {
            if (c < '0' || c > '7')
            {
                return false;
            }

            number = (number * 8) + (c - '0');
        }

        if (number > 0xFF)
        {
            return false;
        }

        value = (char)number;
        return true;
    }

    private static bool IsMountInfo(ReadOnlySpan<char> line, ReadOnlySpan<Range> fields, out int separator)
    {
        separator = -1;
        if (fields.Length < 10
            || !IsNumber(line[fields[0]])
            || !IsNumber(line[fields[1]])
            || !IsDevice(line[fields[2]]))
        {
            return false;
        }

        for (var i = 6; i < fields.Length; i++)
        {
            if (line[fields[i]] is "-")
            {
                separator = i;
                break;
            }
        }

        // fstype, source and super options follow the separator.
        return separator > 0 && separator + 3 <= fields.Length;
    }

    private static bool TryParseMountInfo(ReadOnlySpan<char> line, ReadOnlySpan<Range> fields, int separator, bool cgroupOnly, out MountEntry? entry)
    {
        entry = null;
        var fsType = line[fields[separator + 1]];
        if (cgroupOnly && !IsCgroupFsType(fsType))
        {
            return false;
        }

        var mountPoint = line[fields[4]];
        var root = line[fields[3]];
        if (mountPoint.IsEmpty || root.IsEmpty)
        {
            return false;
        }

        // Anything after the super options (there is nothing on current kernels) is ignored.
        entry = new MountEntry(
            Unescape(mountPoint),
            Unescape(root),
            InternFsType(fsType),
            Unescape(line[fields[separator + 2]]),
            line[fields[separator + 3]].ToString(),
            line[fields[5]].ToString(),
            line[fields[2]].ToString(),
            int.Parse(line[fields[0]], NumberStyles.None, CultureInfo.InvariantCulture),
            int.Parse(line[fields[1]], NumberStyles.None, CultureInfo.InvariantCulture),
            MountTableFormat.MountInfo);
        return true;
    }

    private static bool TryParseShort(ReadOnlySpan<char> line, ReadOnlySpan<Range> fields, bool cgroupOnly, out MountEntry? entry)
    {
        entry = null;
        if (fields.Length < 4 || fields.Length > 6)
        {
            return false;
        }

        var fsType = line[fields[2]];
        if (fsType.IsEmpty || (cgroupOnly && !IsCgroupFsType(fsType)))
        {
            return false;
        }

        var mountPoint = line[fields[1]];
        if (mountPoint.IsEmpty || mountPoint[0] != '/')
        {
            return false;
        }

        entry = new MountEntry(
            Unescape(mountPoint),
            "/",
            InternFsType(fsType),
            Unescape(line[fields[0]]),
            line[fields[3]].ToString(),
            string.Empty,
            null,
            -1,
            -1,
            MountTableFormat.Mounts);
        return true;
    }

    private static bool IsCgroupFsType(ReadOnlySpan<char> fsType)
        => fsType is MountEntry.Cgroup1FsType or MountEntry.Cgroup2FsType;

    private static string InternFsType(ReadOnlySpan<char> fsType) => fsType switch
    {
        MountEntry.Cgroup1FsType => MountEntry.Cgroup1FsType,
        MountEntry.Cgroup2FsType => MountEntry.Cgroup2FsType,
        _ => fsType.ToString(),
    };

    private static bool IsNumber(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsDevice(ReadOnlySpan<char> value)
    {
        var colon = value.IndexOf(':');
        return colon > 0 && IsNumber(value[..colon]) && IsNumber(value[(colon + 1)..]);
    }
}
