using System.Globalization;
using System.Runtime.InteropServices;

namespace Interop.Linux.Native;

/// <summary>Who owns a cgroup dir (statx: its layout is the same on every architecture) and whom a process runs as.</summary>
public static class Ownership
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxUid = 0x8;

    /// <summary>The owner uid of <paramref name="path"/> (not following a symlink), or null when it cannot be read.</summary>
    public static unsafe uint? OwnerOf(string path)
    {
        var buffer = stackalloc byte[256];
        return Libc.Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxUid, buffer) == 0 ? *(uint*)(buffer + 20) : null;
    }

    /// <summary>The real uid of process <paramref name="pid"/> (the "Uid:" line of /proc/PID/status), or null when it is gone.</summary>
    public static uint? RealUidOf(int pid, string procRoot = "/proc")
    {
        try
        {
            foreach (var line in File.ReadLines(Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture), "status")))
            {
                if (line.StartsWith("Uid:", StringComparison.Ordinal))
                {
                    var fields = line[4..].Split('\t', ' ', StringSplitOptions.RemoveEmptyEntries);
                    return fields.Length > 0 && uint.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var uid) ? uid : null;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return null;
    }
}
