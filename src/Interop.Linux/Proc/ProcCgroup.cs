// Implementation notes
// - /proc/<pid>/cgroup has one line per hierarchy: "ID:CONTROLLERS:PATH". v1 lines list the
//   hierarchy's controllers (kernel order, then "name=X"); the v2 line is "0::PATH". The path is
//   everything after the SECOND colon and may itself contain ':'.
// - Lines are matched to hierarchies by their controller SET, not by the text: old kernels and
//   hand-made captures print "cpuacct,cpu". A v1 named hierarchy may also carry id 0 in captures
//   (libvirt's kubevirt set has "0:name=openrc:/"), so v2 is "id 0 AND empty controllers".
// - Paths are kept verbatim: inside a cgroup namespace they are relative to the namespace root
//   (and may start with "/.."), and a v2 cgroup removed under a live task reads "PATH (deleted)".
// - Malformed lines throw FormatException: this file decides where a container lives, a guessed
//   path would be worse than an error.
using System.Globalization;
using System.Text;
using Interop.Core.Model;
using Interop.Linux.Cgroups;

namespace Interop.Linux.Proc;

/// <summary>One line of /proc/&lt;pid&gt;/cgroup.</summary>
/// <param name="HierarchyId">The kernel's hierarchy id (0 for v2).</param>
/// <param name="Controllers">The raw controller field ("cpu,cpuacct", "name=systemd", "" for v2).</param>
/// <param name="Path">The cgroup path relative to the hierarchy root (or to the reader's cgroup namespace root).</param>
public sealed record ProcCgroupLine(int HierarchyId, string Controllers, string Path)
{
    public bool IsUnified => HierarchyId == 0 && Controllers.Length == 0;

    /// <summary>Whether this line describes <paramref name="hierarchy"/> (v2 by id 0, v1 by the set of controllers and name=).</summary>
    public bool Matches(Hierarchy hierarchy) => Matches(HierarchyId, Controllers, hierarchy);

    /// <summary>Whether a line with this id and controllers field describes <paramref name="hierarchy"/>.</summary>
    internal static bool Matches(int id, ReadOnlySpan<char> controllers, Hierarchy hierarchy)
    {
        ArgumentNullException.ThrowIfNull(hierarchy);
        if (hierarchy.IsUnified)
        {
            return id == 0 && controllers.IsEmpty;
        }

        if (controllers.IsEmpty)
        {
            return false;
        }

        // The kernel prints the controllers in the order the key lists them (the common case, one compare), and a
        // field of another length cannot hold the same set: a lookup by pid matches every line against every
        // hierarchy, and most pairs differ.
        if (controllers.SequenceEqual(hierarchy.Key))
        {
            return true;
        }

        var expected = hierarchy.Controllers.Count + (hierarchy.Name is null ? 0 : 1);
        if (controllers.Length != FieldLength(hierarchy, expected))
        {
            return false;
        }

        var seen = 0;
        foreach (var range in controllers.Split(','))
        {
            var token = controllers[range];
            if (token.StartsWith("name=", StringComparison.Ordinal))
            {
                if (hierarchy.Name is null || !token[5..].SequenceEqual(hierarchy.Name))
                {
                    return false;
                }
            }
            else if (!Contains(hierarchy.Controllers, token))
            {
                return false;
            }

            seen++;
        }

        return seen == expected;
    }

    /// <summary>The length of the controllers field listing exactly <paramref name="hierarchy"/>'s <paramref name="tokens"/> tokens.</summary>
    private static int FieldLength(Hierarchy hierarchy, int tokens)
    {
        var length = tokens - 1 + (hierarchy.Name is null ? 0 : "name=".Length + hierarchy.Name.Length);
        for (var i = 0; i < hierarchy.Controllers.Count; i++)
        {
            length += hierarchy.Controllers[i].Length;
        }

        return length;
    }

    private static bool Contains(IReadOnlyList<string> controllers, ReadOnlySpan<char> token)
    {
        for (var i = 0; i < controllers.Count; i++)
        {
            if (token.SequenceEqual(controllers[i]))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Parser and reader for /proc/&lt;pid&gt;/cgroup.</summary>
public static class ProcCgroup
{
    public const string DefaultProcRoot = "/proc";

    /// <summary>Reads /proc/&lt;pid&gt;/cgroup under <paramref name="procRoot"/>.</summary>
    /// <exception cref="FileNotFoundException">The process does not exist.</exception>
    public static IReadOnlyList<ProcCgroupLine> Read(int pid, string procRoot = DefaultProcRoot)
        => TryRead(pid, procRoot) ?? throw new FileNotFoundException($"no process {pid}", PathOf(pid, procRoot));

    /// <summary>Like <see cref="Read"/> but null when the process is gone (<see cref="ProcFs.TryReadPidFile"/>).</summary>
    /// <exception cref="IOException">The file is there and cannot be read.</exception>
    public static IReadOnlyList<ProcCgroupLine>? TryRead(int pid, string procRoot = DefaultProcRoot)
    {
        var path = PathOf(pid, procRoot);
        return ProcFs.TryReadPidFile(path) is { } text ? Parse(text, path) : null;
    }

    private static string PathOf(int pid, string procRoot) => ProcFs.PidPath(procRoot, pid, "cgroup");

    public static IReadOnlyList<ProcCgroupLine> ReadFile(string path)
    {
        var text = File.ReadAllText(path);
        return Parse(text, path);
    }

    /// <summary>Parses the file's text; empty lines are skipped, malformed ones throw <see cref="FormatException"/>.</summary>
    public static IReadOnlyList<ProcCgroupLine> Parse(string text, string source = "/proc/<pid>/cgroup")
    {
        var result = new List<ProcCgroupLine>();
        foreach (var line in new Lines(text, source))
        {
            result.Add(new ProcCgroupLine(line.Id, line.Controllers.IsEmpty ? string.Empty : line.Controllers.ToString(), line.Path.ToString()));
        }

        return result;
    }

    public static bool TryParseLine(ReadOnlySpan<char> line, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ProcCgroupLine? entry)
    {
        entry = TrySplitLine(line, out var id, out var controllers, out var path)
            ? new ProcCgroupLine(id, controllers.IsEmpty ? string.Empty : controllers.ToString(), path.ToString())
            : null;
        return entry is not null;
    }

    /// <summary>
    /// Whether a line of <paramref name="text"/> (the whole of /proc/PID/cgroup) puts the task at or below
    /// <paramref name="dir"/> in one of <paramref name="hierarchies"/>: what <see cref="Parse"/>,
    /// <see cref="CgroupPath.IsAtOrBelow(CgroupPath)"/> and <see cref="ProcCgroupLine.Matches(Hierarchy)"/> tell, without a
    /// string or a record per line. Start-up reconcile asks it once per container (10,000 times on a big host), where
    /// that garbage had the GC compact the registry being loaded.
    /// </summary>
    /// <exception cref="FormatException">A line is malformed (as <see cref="Parse"/>).</exception>
    public static bool AnyAtOrBelow(string text, CgroupPath dir, IReadOnlyList<Hierarchy> hierarchies, string source = "/proc/<pid>/cgroup")
    {
        ArgumentNullException.ThrowIfNull(hierarchies);
        foreach (var line in new Lines(text, source))
        {
            // The path first: it rules out nearly every line, and it is cheaper than matching the line's hierarchy.
            if (CgroupPath.IsAtOrBelow(line.Path, dir) && IsOneOf(line, hierarchies))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="test"/> accepts the path of a line of <paramref name="text"/> (the whole of /proc/PID/cgroup)
    /// that describes one of <paramref name="hierarchies"/>, asked in the file's order until it does; lines of other
    /// hierarchies are not shown to it. No string per line: a lookup by pid reads one such file per call.
    /// </summary>
    /// <exception cref="FormatException">A line before the accepted one is malformed (as <see cref="Parse"/>).</exception>
    public static bool Any(string text, IReadOnlyList<Hierarchy> hierarchies, CgroupPathTest test, string source = "/proc/<pid>/cgroup")
    {
        ArgumentNullException.ThrowIfNull(hierarchies);
        ArgumentNullException.ThrowIfNull(test);
        foreach (var line in new Lines(text, source))
        {
            if (IsOneOf(line, hierarchies) && test(line.Path))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The cgroup path of each hierarchy (by <see cref="Hierarchy.Key"/>) that has a line in <paramref name="text"/> (the
    /// whole of /proc/PID/cgroup; the first line of a hierarchy wins); hierarchies without a line are absent. One string
    /// per path and nothing else per line: a lookup by pid reads one such file.
    /// </summary>
    /// <exception cref="FormatException">A line is malformed (as <see cref="Parse"/>).</exception>
    public static IReadOnlyDictionary<string, string> PathsByKey(IReadOnlyList<Hierarchy> hierarchies, string text, string source = "/proc/<pid>/cgroup")
    {
        ArgumentNullException.ThrowIfNull(hierarchies);
        ArgumentNullException.ThrowIfNull(text);
        var result = new Dictionary<string, string>(hierarchies.Count, StringComparer.Ordinal);
        foreach (var line in new Lines(text, source))
        {
            string? value = null;
            for (var i = 0; i < hierarchies.Count; i++)
            {
                if (!result.ContainsKey(hierarchies[i].Key) && ProcCgroupLine.Matches(line.Id, line.Controllers, hierarchies[i]))
                {
                    result[hierarchies[i].Key] = value ??= line.Path.ToString();
                }
            }
        }

        return result;
    }

    private static bool IsOneOf(in Line line, IReadOnlyList<Hierarchy> hierarchies)
    {
        for (var i = 0; i < hierarchies.Count; i++)
        {
            if (ProcCgroupLine.Matches(line.Id, line.Controllers, hierarchies[i]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One line of the file, split: spans of the text, nothing copied.</summary>
    private readonly ref struct Line(int id, ReadOnlySpan<char> controllers, ReadOnlySpan<char> path)
    {
        public int Id { get; } = id;

        public ReadOnlySpan<char> Controllers { get; } = controllers;

        public ReadOnlySpan<char> Path { get; } = path;
    }

    /// <summary>The lines of a whole file, split, blank ones skipped; a malformed line throws <see cref="FormatException"/> naming its number.</summary>
    private ref struct Lines
    {
        private readonly string _source;
        private SpanLineEnumerator _lines;
        private int _number;

        public Lines(string text, string source)
        {
            ArgumentNullException.ThrowIfNull(text);
            _source = source;
            _lines = text.AsSpan().EnumerateLines();
        }

        public Line Current { get; private set; }

        public readonly Lines GetEnumerator() => this;

        public bool MoveNext()
        {
            while (_lines.MoveNext())
            {
                if (SplitLine(_lines.Current, ++_number, _source, out var id, out var controllers, out var path))
                {
                    Current = new Line(id, controllers, path);
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Splits line <paramref name="number"/> of a whole file; false for a blank line, <see cref="FormatException"/> for a malformed one.</summary>
    private static bool SplitLine(ReadOnlySpan<char> line, int number, string source, out int id, out ReadOnlySpan<char> controllers, out ReadOnlySpan<char> path)
    {
        id = 0;
        controllers = path = default;
        if (line.IsWhiteSpace())
        {
            return false;
        }

        return TrySplitLine(line, out id, out controllers, out path)
            ? true
            : throw new FormatException($"{source} line {number}: expected 'id:controllers:/path', got '{line.ToString()}'");
    }

    private static bool TrySplitLine(ReadOnlySpan<char> line, out int id, out ReadOnlySpan<char> controllers, out ReadOnlySpan<char> path)
    {
        id = 0;
        controllers = path = default;
        line = line.TrimEnd('\r');
        var first = line.IndexOf(':');
        if (first <= 0)
        {
            return false;
        }

        var second = line[(first + 1)..].IndexOf(':');
        if (second < 0)
        {
            return false;
        }

        second += first + 1;
        path = line[(second + 1)..];
        controllers = line[(first + 1)..second];
        return !path.IsEmpty && path[0] == '/' && int.TryParse(line[..first], NumberStyles.None, CultureInfo.InvariantCulture, out id);
    }
}
