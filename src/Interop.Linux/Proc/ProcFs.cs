// Implementation notes
// - /proc/<pid>/stat is "PID (COMM) STATE PPID ...". COMM is the task name as set by the task
//   (up to 15 bytes) and may contain spaces, '(' and ')': it runs from the first '(' to the LAST
//   ')' of the line, and the state is the character after the ") " that follows it.
// - A zombie (Z) or dead (X) task still has a /proc entry and stays in its cgroup until it is
//   reaped, but it is not alive for Interop's purposes (it cannot be a container leader).
// - /proc/<pid>/ns/cgroup is a magic symlink whose readlink text is "cgroup:[INODE]". Two tasks
//   share a cgroup namespace exactly when the inodes are equal (same nsfs device on one host).
using System.Globalization;
using Interop.Linux.Native;

namespace Interop.Linux.Proc;

/// <summary>The first fields of /proc/&lt;pid&gt;/stat.</summary>
public readonly record struct ProcStat(int Pid, string Comm, char State, int ParentPid)
{
    /// <summary>Not a zombie ('Z') or dead ('X'/'x').</summary>
    public bool IsAlive => State is not ('Z' or 'X' or 'x');
}

/// <summary>Small procfs helpers. Every method takes the proc root as a parameter ("/proc" by default).</summary>
public static class ProcFs
{
    public const string DefaultProcRoot = "/proc";

    /// <summary>Parses the text of /proc/&lt;pid&gt;/stat.</summary>
    /// <exception cref="FormatException">The text is not a stat line.</exception>
    public static ProcStat ParseStat(ReadOnlySpan<char> text)
    {
        var open = text.IndexOf('(');
        var close = text.LastIndexOf(')');
        if (open <= 0 || close < open || close + 2 >= text.Length || text[close + 1] != ' '
            || !int.TryParse(text[..open].TrimEnd(' '), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            throw new FormatException($"not a /proc/<pid>/stat line: '{text.ToString()}'");
        }

        var rest = text[(close + 2)..];
        var state = rest[0];
        var parent = 0;
        if (rest.Length > 2 && rest[1] == ' ')
        {
            var after = rest[2..];
            var end = after.IndexOf(' ');
            var field = end < 0 ? after : after[..end];
            if (!int.TryParse(field.TrimEnd('\n'), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out parent))
            {
                throw new FormatException($"bad parent pid in /proc/<pid>/stat line: '{text.ToString()}'");
            }
        }

        return new ProcStat(pid, text[(open + 1)..close].ToString(), state, parent);
    }

    /// <summary>Reads /proc/&lt;pid&gt;/stat, or null when the process does not exist.</summary>
    public static ProcStat? TryReadStat(int pid, string procRoot = DefaultProcRoot)
    {
        if (pid <= 0)
        {
            return null;
        }

        return TryReadPidFile(PidPath(procRoot, pid, "stat")) is { } text ? ParseStat(text) : null;
    }

    /// <summary>Whether <paramref name="pid"/> exists and is neither a zombie nor dead.</summary>
    /// <summary>This process's parent pid (getppid(2): no file read).</summary>
    public static int SelfParentPid() => Native.Libc.GetParentPid();

    /// <summary>The argv of <paramref name="pid"/> from /proc/PID/cmdline, or null when it is gone (a kernel thread has none: empty).</summary>
    public static IReadOnlyList<string>? TryReadCmdline(int pid, string procRoot = DefaultProcRoot)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(procRoot, pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "cmdline"));
            return text.TrimEnd('\0').Split('\0');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static bool IsAlive(int pid, string procRoot = DefaultProcRoot)
        => TryReadStat(pid, procRoot) is { IsAlive: true };

    /// <summary>The readlink text of /proc/&lt;pid&gt;/ns/cgroup ("cgroup:[4026531835]"), or null when the process is gone.</summary>
    public static string? ReadCgroupNamespaceLink(int pid, string procRoot = DefaultProcRoot)
        => ReadNamespaceLink(PidPath(procRoot, pid, "ns/cgroup"));

    /// <summary>The inode of the cgroup namespace of <paramref name="pid"/>, or null when the process is gone.</summary>
    /// <exception cref="FormatException">The link text is not "cgroup:[N]".</exception>
    public static ulong? ReadCgroupNamespaceInode(int pid, string procRoot = DefaultProcRoot)
        => ParseNamespaceLink(ReadCgroupNamespaceLink(pid, procRoot), "cgroup");

    /// <summary>The inode of the reading process's own cgroup namespace (/proc/self/ns/cgroup).</summary>
    public static ulong? ReadOwnCgroupNamespaceInode(string procRoot = DefaultProcRoot)
        => ParseNamespaceLink(ReadNamespaceLink(Path.Combine(procRoot, "self", "ns", "cgroup")), "cgroup");

    /// <summary>
    /// Whether <paramref name="pid"/> lives in a cgroup namespace other than pid 1's (the host's).
    /// When pid 1's namespace cannot be read, the caller's own namespace (/proc/self) is the reference.
    /// Null when <paramref name="pid"/> is gone or no reference can be read.
    /// </summary>
    public static bool? HasPrivateCgroupNamespace(int pid, string procRoot = DefaultProcRoot)
    {
        var own = ReadCgroupNamespaceInode(pid, procRoot);
        if (own is null)
        {
            return null;
        }

        ulong? reference;
        try
        {
            reference = ReadCgroupNamespaceInode(1, procRoot);
        }
        catch (UnauthorizedAccessException)
        {
            reference = null;
        }

        reference ??= ReadOwnCgroupNamespaceInode(procRoot);
        return reference is null ? null : own.Value != reference.Value;
    }

    /// <summary>Parses "TYPE:[INODE]" (readlink of /proc/&lt;pid&gt;/ns/TYPE); null stays null.</summary>
    public static ulong? ParseNamespaceLink(string? link, string type)
    {
        if (link is null)
        {
            return null;
        }

        ArgumentNullException.ThrowIfNull(type);
        var span = link.AsSpan();
        if (span.Length > type.Length + 3
            && span.StartsWith(type, StringComparison.Ordinal)
            && span[type.Length] == ':'
            && span[type.Length + 1] == '['
            && span[^1] == ']'
            && ulong.TryParse(span[(type.Length + 2)..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
        {
            return inode;
        }

        throw new FormatException($"expected '{type}:[inode]', got '{link}'");
    }

    private static string? ReadNamespaceLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (IsGone(e))
        {
            return null;
        }
    }

    /// <summary>
    /// A /proc/PID file whole, or null when the process is gone (ENOENT, ENOTDIR; ESRCH: it exited while the file was
    /// read). Through <see cref="SmallFile"/>, not .NET's file streams: liveness and lookups by pid read these files on
    /// every call, and start-up reconcile once per container.
    /// </summary>
    /// <exception cref="IOException">The file is there and cannot be read.</exception>
    internal static string? TryReadPidFile(string path)
    {
        if (SmallFile.TryRead(path, 0, out var errno, singleShow: true) is { } text)
        {
            return text;
        }

        return errno is Libc.ENOENT or Libc.ENOTDIR or Libc.ESRCH ? null : throw new IOException($"cannot read {path}: {Libc.ErrnoName(errno)}");
    }

    internal static string PidPath(string procRoot, int pid, string file)
        => Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture), file);

    // ENOENT/ENOTDIR: no such pid; ESRCH (3): the task exited while we read.
    private static bool IsGone(Exception e)
        => e is FileNotFoundException or DirectoryNotFoundException || (e is IOException && e.HResult == 3);
}
