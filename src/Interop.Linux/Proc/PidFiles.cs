using System.Globalization;

namespace Interop.Linux.Proc;

/// <summary>Pid files as daemons write them under /run: "NAME.pid" holding one decimal pid (libvirt: /run/libvirt/lxc/NAME.pid).</summary>
public static class PidFiles
{
    /// <summary>
    /// The names (file name without ".pid") of the pid files in <paramref name="dir"/> that hold <paramref name="pid"/>,
    /// in directory order; empty when <paramref name="pid"/> is not above 1 or the dir does not exist. A file that
    /// cannot be read is skipped and handed to <paramref name="skipped"/>.
    /// </summary>
    public static IReadOnlyList<string> NamesHolding(string dir, int pid, Action<string, Exception>? skipped = null)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (pid <= 1 || !Directory.Exists(dir))
        {
            return [];
        }

        var names = new List<string>();
        foreach (var file in Directory.EnumerateFiles(dir, "*.pid"))
        {
            try
            {
                if (int.TryParse(File.ReadAllText(file).AsSpan().Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) && p == pid)
                {
                    names.Add(Path.GetFileNameWithoutExtension(file));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                skipped?.Invoke(file, e);
            }
        }

        return names;
    }
}
