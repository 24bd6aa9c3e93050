using System.Globalization;
using Interop.Core.Model;
using Interop.DBus;
using Interop.Linux.Cgroups;

namespace Interop.Ctl.Output;

/// <summary>The columns top can sort by; numeric ones sort largest first, the others A to Z.</summary>
internal enum TopSort
{
    Cpu,
    Memory,
    Pids,
    Io,
    Name,
    Manager,
    State,
}

/// <summary>One container in one frame of top: usage now, and CPU % over the interval since the previous sample.</summary>
internal sealed record TopRow(string Manager, string Name, string State, string CgroupPath, double? CpuPercent, ContainerUsage Usage)
{
    public ulong? IoBytes => Usage.IoReadBytes is { } r && Usage.IoWriteBytes is { } w ? r + w : Usage.IoReadBytes ?? Usage.IoWriteBytes;
}

/// <summary>top's rows, sort and table, apart from the terminal so tests can check them.</summary>
internal static class TopView
{
    /// <summary>Column order for '&lt;' and '&gt;' (move the sort one column left or right), as the table shows them.</summary>
    public static readonly TopSort[] Order = [TopSort.Manager, TopSort.Name, TopSort.State, TopSort.Cpu, TopSort.Memory, TopSort.Pids, TopSort.Io];

    public static readonly string[] Headers = ["MANAGER", "NAME", "STATE", "CPU%", "MEM", "LIMIT", "PIDS", "READ", "WRITE"];

    /// <summary>The word --sort takes for each column.</summary>
    public static string Word(TopSort sort) => sort.ToString().ToLowerInvariant();

    public static TopSort? Parse(string word) =>
        Enum.GetValues<TopSort>().Where(s => Word(s) == word).Select(s => (TopSort?)s).FirstOrDefault();

    /// <summary>What a key does: a new sort column, or null (q quits; the caller checks it first).</summary>
    public static TopSort? ForKey(char key, TopSort current) => key switch
    {
        'c' or 'P' => TopSort.Cpu,
        'm' or 'M' => TopSort.Memory,
        'p' => TopSort.Pids,
        'i' => TopSort.Io,
        'n' => TopSort.Name,
        'g' => TopSort.Manager,
        's' => TopSort.State,
        '<' => Order[Math.Max(0, Array.IndexOf(Order, current) - 1)],
        '>' => Order[Math.Min(Order.Length - 1, Array.IndexOf(Order, current) + 1)],
        _ => null,
    };

    /// <summary>
    /// Rows for <paramref name="now"/>: CPU % is the CPU time used since <paramref name="before"/> over
    /// <paramref name="seconds"/>, 100 = one CPU busy (as top shows it); null for a container not in both samples.
    /// </summary>
    public static List<TopRow> Rows(
        IReadOnlyList<(ContainerSummary Container, ContainerUsage Usage)> now,
        IReadOnlyDictionary<ContainerId, (string CgroupPath, ContainerUsage Usage)>? before,
        double seconds)
    {
        var rows = new List<TopRow>(now.Count);
        foreach (var (m, usage) in now)
        {
            double? cpu = null;
            if (before is not null && seconds > 0 && before.TryGetValue(m.Id, out var prev) && prev.CgroupPath == m.CgroupPath
                && prev.Usage.CpuSeconds is { } a && usage.CpuSeconds is { } b && b >= a)
            {
                cpu = (b - a) / seconds * 100;
            }

            rows.Add(new TopRow(m.Manager.ToWire(), m.Name, m.State.ToWire(), m.CgroupPath, cpu, usage));
        }

        return rows;
    }

    /// <summary>Sorted by <paramref name="sort"/>: numbers largest first with "-" last, words A to Z; ties by manager, then name.</summary>
    public static List<TopRow> Sort(IEnumerable<TopRow> rows, TopSort sort)
    {
        Func<TopRow, double?>? number = sort switch
        {
            TopSort.Cpu => r => r.CpuPercent,
            TopSort.Memory => r => r.Usage.MemoryBytes,
            TopSort.Pids => r => r.Usage.Pids,
            TopSort.Io => r => r.IoBytes,
            _ => null,
        };
        Func<TopRow, string> word = sort switch
        {
            TopSort.Manager => r => r.Manager,
            TopSort.State => r => r.State,
            _ => r => r.Name,
        };

        var list = rows.ToList();
        list.Sort((x, y) =>
        {
            int c;
            if (number is not null)
            {
                var (a, b) = (number(x), number(y));
                c = (a, b) switch
                {
                    (null, null) => 0,
                    (null, _) => 1,
                    (_, null) => -1,
                    _ => b!.Value.CompareTo(a!.Value),
                };
            }
            else
            {
                c = string.CompareOrdinal(word(x), word(y));
            }

            if (c == 0)
            {
                c = string.CompareOrdinal(x.Manager, y.Manager);
            }

            return c != 0 ? c : string.CompareOrdinal(x.Name, y.Name);
        });
        return list;
    }

    /// <summary>One frame: a summary line, then the table (the sort column's header marked with '*').</summary>
    public static void Write(TextWriter output, IReadOnlyList<TopRow> rows, TopSort sort, DateTimeOffset time, double seconds)
    {
        var lxc = rows.Count(r => r.Manager == "lxc");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"interopctl top - {time:HH:mm:ss} UTC, {rows.Count} containers (lxc {lxc}, libvirt {rows.Count - lxc}), interval {seconds:0.0} s, sort {Word(sort)}"));
        var marked = Headers.ToArray();
        var column = sort switch
        {
            TopSort.Manager => 0,
            TopSort.Name => 1,
            TopSort.State => 2,
            TopSort.Cpu => 3,
            TopSort.Memory => 4,
            TopSort.Pids => 6,
            _ => 7,
        };
        marked[column] += "*";
        Table.Write(output, marked, [.. rows.Select(Cells)]);
    }

    public static string[] Cells(TopRow r) =>
    [
        r.Manager,
        r.Name,
        r.State,
        r.CpuPercent is { } cpu ? cpu.ToString("0.0", CultureInfo.InvariantCulture) : "-",
        Bytes(r.Usage.MemoryBytes),
        Bytes(r.Usage.MemoryLimitBytes),
        r.Usage.Pids?.ToString(CultureInfo.InvariantCulture) ?? "-",
        Bytes(r.Usage.IoReadBytes),
        Bytes(r.Usage.IoWriteBytes),
    ];

    /// <summary>Bytes for people in binary units: 512B, 1.5K, 20.0M, 3.2G; "-" when unknown.</summary>
    public static string Bytes(ulong? bytes)
    {
        if (bytes is not { } b)
        {
            return "-";
        }

        if (b < 1024)
        {
            return b.ToString(CultureInfo.InvariantCulture) + "B";
        }

        var units = "KMGTPE";
        var value = (double)b;
        var i = -1;
        while (value >= 1024 && i < units.Length - 1)
        {
            value /= 1024;
            i++;
        }

        return value.ToString("0.0", CultureInfo.InvariantCulture) + units[i];
    }
}
