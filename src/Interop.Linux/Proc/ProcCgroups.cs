using System.Globalization;

namespace Interop.Linux.Proc;

/// <summary>One data line of /proc/cgroups.</summary>
/// <param name="Subsystem">Controller name as v1 knows it (e.g. "blkio").</param>
/// <param name="HierarchyId">v1 hierarchy id, 0 when not mounted on v1 (unmounted or on v2).</param>
/// <param name="NumCgroups">Number of cgroups using it.</param>
/// <param name="Enabled">Whether it is enabled (cgroup_disable= turns it off).</param>
public sealed record ProcCgroupsEntry(string Subsystem, int HierarchyId, int NumCgroups, bool Enabled);

/// <summary>
/// Parser for /proc/cgroups: a "#subsys_name hierarchy num_cgroups enabled" header, then one line per
/// controller compiled into the kernel. Fields are separated by tabs or runs of spaces. This is the
/// list libvirt calls "controller names" when it escapes partition components ("cpu.foo" -> "_cpu.foo").
/// </summary>
public static class ProcCgroups
{
    public const string DefaultPath = "/proc/cgroups";

    public static IReadOnlyList<ProcCgroupsEntry> Read(string path = DefaultPath)
        => Parse(File.ReadAllText(path), path);

    /// <summary>Parses the text: lines starting with '#' and empty lines are skipped, malformed lines throw <see cref="FormatException"/>.</summary>
    public static IReadOnlyList<ProcCgroupsEntry> Parse(string text, string source = DefaultPath)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<ProcCgroupsEntry>();
        var number = 0;
        Span<Range> fields = stackalloc Range[5];
        foreach (var raw in text.AsSpan().EnumerateLines())
        {
            number++;
            var line = raw.Trim();
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }

            var count = line.SplitAny(fields, " \t", StringSplitOptions.RemoveEmptyEntries);
            if (count != 4
                || !int.TryParse(line[fields[1]], NumberStyles.None, CultureInfo.InvariantCulture, out var hierarchy)
                || !int.TryParse(line[fields[2]], NumberStyles.None, CultureInfo.InvariantCulture, out var cgroups)
                || line[fields[3]] is not ("0" or "1"))
            {
                throw new FormatException($"{source} line {number}: expected 'subsys hierarchy num_cgroups enabled', got '{raw.ToString()}'");
            }

            result.Add(new ProcCgroupsEntry(line[fields[0]].ToString(), hierarchy, cgroups, line[fields[3]] is "1"));
        }

        return result;
    }

    /// <summary>Every controller name listed, enabled or not, in file order.</summary>
    public static IReadOnlyList<string> ControllerNames(IReadOnlyList<ProcCgroupsEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var names = new string[entries.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = entries[i].Subsystem;
        }

        return names;
    }

    /// <summary>Reads the controller names from /proc/cgroups (or <paramref name="path"/>).</summary>
    public static IReadOnlyList<string> ReadControllerNames(string path = DefaultPath) => ControllerNames(Read(path));
}
