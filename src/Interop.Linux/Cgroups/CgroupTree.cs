using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Interop.Core;
using Interop.Linux.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Interop.Linux.Cgroups;

/// <summary>
/// Walks below a cgroup dir whose content a container made: any name the kernel allows (it refuses only '/' and
/// '\n'), any depth, any count. Nothing a container makes can stop a walk: a name Interop would refuse as input
/// (a control character, text that is not UTF-8) is never addressed by name (never removed, never listed as a
/// child) and is reported once, escaped; a walk goes at most <see cref="MaxDepth"/> levels and never builds a
/// path longer than <see cref="MaxPathBytes"/>; what lies beyond is "unknown", which every caller takes the safe
/// way (a dir with unknown content may hold tasks, and is never removed).
/// </summary>
public static class CgroupTree
{
    /// <summary>Levels below the dir a walk starts at (a systemd guest's own tree is 5-8 deep).</summary>
    public const int MaxDepth = 32;

    /// <summary>Below PATH_MAX (4096) with room for a control file's name.</summary>
    public const int MaxPathBytes = 3800;

    /// <summary>GetTasks and the other task walks stop after this many pids.</summary>
    public const int MaxTasks = 100_000;

    /// <summary>A task walk reads at most this many dirs (a container may make any number).</summary>
    public const int MaxDirs = 20_000;

    private const int MaxRemembered = 10_000;

    private static readonly ConcurrentDictionary<string, byte> Reported = new(StringComparer.Ordinal);

    /// <summary>Where the one warning per skipped dir goes (interopd: its log; the same ILogger abstraction as every library). Default: nowhere.</summary>
    public static ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>True when Interop can address <paramref name="name"/> (a dir name read from cgroupfs) by its name.</summary>
    public static bool IsAddressable(string name)
    {
        if (name.Contains('\uFFFD', StringComparison.Ordinal))
        {
            return false; // bytes that are not UTF-8: the decoded name would open another path, or none
        }

        try
        {
            Names.ValidateComponent(name, "cgroup dir");
            return true;
        }
        catch (InvalidInputException)
        {
            return false;
        }
    }

    /// <summary>
    /// The names of the child dirs of an absolute dir (symlinks skipped): <paramref name="addressable"/> gets the
    /// names Interop may use, the return value says how many others there were (reported once each).
    /// </summary>
    internal static unsafe int Children(string absDir, string displayDir, List<string> addressable)
    {
        // getdents64 gives each entry's type: no stat per entry (every prepare and release lists the container's parent
        // in every hierarchy; .NET's enumeration took ~3 times as long). A symlink is not a dir (DT_LNK), as before.
        var fd = Libc.Open(absDir, Libc.ORdOnly | Libc.ODirectory | Libc.OCloExec);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno is Libc.ENOENT or Libc.ENOTDIR ? 0 : throw CgroupFs.Error(absDir, errno, "list");
        }

        var skipped = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(8192);
        try
        {
            while (true)
            {
                nint n;
                fixed (byte* p = buffer)
                {
                    n = Libc.Getdents64(fd, p, (nuint)buffer.Length);
                }

                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Libc.EINTR)
                    {
                        continue;
                    }

                    if (errno == Libc.ENOENT)
                    {
                        break; // removed while being read
                    }

                    throw CgroupFs.Error(absDir, errno, "list");
                }

                if (n == 0)
                {
                    break;
                }

                var records = buffer.AsSpan(0, (int)n);
                while (records.Length >= 19)
                {
                    var length = Math.Min(Math.Max((int)MemoryMarshal.Read<ushort>(records[16..]), 19), records.Length);
                    var type = records[18];
                    var field = records[19..length];
                    var nameBytes = field[..Math.Max(0, field.IndexOf((byte)0))];
                    records = records[length..];
                    if (nameBytes.SequenceEqual("."u8) || nameBytes.SequenceEqual(".."u8) || !IsDir(absDir, nameBytes, type))
                    {
                        continue;
                    }

                    // Bytes that are not UTF-8 decode with U+FFFD, which IsAddressable refuses, as .NET's names did.
                    var name = Encoding.UTF8.GetString(nameBytes);
                    if (IsAddressable(name))
                    {
                        addressable.Add(name);
                    }
                    else
                    {
                        skipped++;
                        Report(displayDir.TrimEnd('/') + "/" + name, "its name is not one Interop addresses (control character or not UTF-8)");
                    }
                }
            }
        }
        finally
        {
            Libc.Close(fd);
            ArrayPool<byte>.Shared.Return(buffer);
        }

        addressable.Sort(StringComparer.Ordinal);
        return skipped;
    }

    /// <summary>A directory entry that is a dir: its d_type says so, or (a filesystem that does not fill it) lstat does.</summary>
    private static bool IsDir(string absDir, ReadOnlySpan<byte> name, byte type)
    {
        if (type != Libc.DtUnknown)
        {
            return type == Libc.DtDir;
        }

        var info = new DirectoryInfo(Path.Combine(absDir, Encoding.UTF8.GetString(name)));
        return info.Exists && (info.Attributes & FileAttributes.ReparsePoint) == 0;
    }

    /// <summary>True when a walk may go into <paramref name="absDir"/>: within the depth and path length bounds.</summary>
    internal static bool WithinBounds(string absDir, int depth, string displayDir)
    {
        if (depth <= MaxDepth && Encoding.UTF8.GetByteCount(absDir) <= MaxPathBytes)
        {
            return true;
        }

        Report(displayDir, $"it lies deeper than Interop walks ({MaxDepth} levels, {MaxPathBytes} bytes of path); what is below it is left alone");
        return false;
    }

    /// <summary>
    /// True when <paramref name="absDir"/> or anything below it may hold a task: a pid in a cgroup.procs, or content
    /// the walk cannot see (a name it does not address, a depth past its bounds, an error).
    /// </summary>
    internal static bool MayHoldTasks(string absDir, string displayDir, int depth = 0)
    {
        if (!WithinBounds(absDir, depth, displayDir))
        {
            return true;
        }

        try
        {
            if (HasPid(absDir))
            {
                return true;
            }

            var children = new List<string>();
            if (Children(absDir, displayDir, children) > 0)
            {
                // Content with a name Interop does not address: look inside by its absolute path all the same.
                foreach (var entry in new DirectoryInfo(absDir).EnumerateDirectories())
                {
                    if ((entry.Attributes & FileAttributes.ReparsePoint) == 0 && !IsAddressable(entry.Name)
                        && (entry.Name.Contains('\uFFFD', StringComparison.Ordinal) || MayHoldTasks(entry.FullName, displayDir + "/" + entry.Name, depth + 1)))
                    {
                        return true;
                    }
                }
            }

            foreach (var child in children)
            {
                if (MayHoldTasks(absDir + "/" + child, displayDir + "/" + child, depth + 1))
                {
                    return true;
                }
            }

            return false;
        }
        catch (Exception e) when (e is CgroupException or IOException)
        {
            Report(displayDir, "it cannot be read (" + e.Message + ")");
            return true;
        }
    }

    /// <summary>The pids in <paramref name="absDir"/> and below it (in every dir the walk reaches), at most <paramref name="max"/>.</summary>
    internal static List<uint> Tasks(string absDir, string displayDir, int max = MaxTasks)
    {
        var pids = new List<uint>();
        var dirs = 0;
        Collect(absDir, displayDir, 0);
        return pids;

        void Collect(string dir, string display, int depth)
        {
            if (pids.Count >= max || !WithinBounds(dir, depth, display))
            {
                return;
            }

            if (++dirs > MaxDirs)
            {
                Report(displayDir, $"it holds more than {MaxDirs} cgroup dirs; tasks are listed from the first {MaxDirs}");
                return;
            }

            try
            {
                foreach (var pid in ParsePids(ReadAll(dir + "/" + CgroupFs.Procs)))
                {
                    if (pids.Count >= max)
                    {
                        return;
                    }

                    pids.Add(pid);
                }

                foreach (var entry in new DirectoryInfo(dir).EnumerateDirectories())
                {
                    if ((entry.Attributes & FileAttributes.ReparsePoint) == 0 && !entry.Name.Contains('\uFFFD', StringComparison.Ordinal))
                    {
                        Collect(entry.FullName, display + "/" + entry.Name, depth + 1);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The dir went away meanwhile, or is unreadable: its tasks are not listed.
            }
        }
    }

    /// <summary>Logs <paramref name="why"/> for <paramref name="displayPath"/> once per daemon (escaped: it may hold any byte).</summary>
    internal static void Report(string displayPath, string why)
    {
        if (Reported.Count < MaxRemembered && Reported.TryAdd(displayPath, 0))
        {
            Logger.LogWarning("cgroup dir '{Dir}' is skipped: {Why}", Escape(displayPath), why);
        }
    }

    /// <summary>Every control character escaped, whatever the length.</summary>
    internal static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            sb.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString());
        }

        return sb.ToString();
    }

    private static bool HasPid(string absDir)
    {
        return ParsePids(ReadAll(absDir + "/" + CgroupFs.Procs)).Any();
    }

    /// <summary>A control file's text through plain read(2) (no .NET file locks, no extra stat); "" when it is gone.</summary>
    private static string ReadAll(string file)
    {
        try
        {
            return CgroupFs.ReadCore(file, missingIsNull: true) ?? "";
        }
        catch (CgroupException e) when (e.Errno is Libc.ENOTDIR or Libc.ENODEV)
        {
            return "";
        }
    }

    private static IEnumerable<uint> ParsePids(string text)
    {
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (uint.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                yield return pid;
            }
        }
    }
}
