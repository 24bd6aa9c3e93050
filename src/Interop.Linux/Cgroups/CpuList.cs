using System.Globalization;
using System.Text;
using Interop.Core;

namespace Interop.Linux.Cgroups;

/// <summary>The kernel's cpu/node list format ("0-3,5,7-8"), as in cpuset.cpus and /sys/devices/system/cpu/*.</summary>
public static class CpuList
{
    /// <summary>Parses a list; blank text (or a lone newline) is the empty set.</summary>
    public static SortedSet<int> Parse(string? text)
    {
        var set = new SortedSet<int>();
        var body = (text ?? string.Empty).Trim();
        if (body.Length == 0)
        {
            return set;
        }

        foreach (var part in body.Split(','))
        {
            var range = part.Trim();
            var dash = range.IndexOf('-', StringComparison.Ordinal);
            if (dash < 0)
            {
                set.Add(ParseNumber(range, text!));
                continue;
            }

            var first = ParseNumber(range[..dash], text!);
            var last = ParseNumber(range[(dash + 1)..], text!);
            if (last < first)
            {
                throw new InvalidInputException("cpu list", $"'{Printable.Of(text)}' has a descending range");
            }

            for (var cpu = first; cpu <= last; cpu++)
            {
                set.Add(cpu);
            }
        }

        return set;
    }

    /// <summary>Formats a set in the kernel's compact form ("0-3,5"); the empty set is "".</summary>
    public static string Format(IEnumerable<int> cpus)
    {
        var sb = new StringBuilder();
        int? start = null;
        var previous = -2;
        foreach (var cpu in cpus.Distinct().Order())
        {
            if (start is not null && cpu == previous + 1)
            {
                previous = cpu;
                continue;
            }

            Flush(sb, start, previous);
            start = cpu;
            previous = cpu;
        }

        Flush(sb, start, previous);
        return sb.ToString();
    }

    /// <summary><paramref name="list"/> minus every cpu in <paramref name="remove"/>, formatted.</summary>
    public static string Subtract(string list, IEnumerable<int> remove)
    {
        var set = Parse(list);
        set.ExceptWith(remove);
        return Format(set);
    }

    private static void Flush(StringBuilder sb, int? start, int last)
    {
        if (start is null)
        {
            return;
        }

        if (sb.Length > 0)
        {
            sb.Append(',');
        }

        sb.Append(start.Value.ToString(CultureInfo.InvariantCulture));
        if (last != start.Value)
        {
            sb.Append('-').Append(last.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static int ParseNumber(string s, string whole)
    {
        if (!int.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            throw new InvalidInputException("cpu list", $"'{Printable.Of(whole)}' is not a cpu list (expected e.g. 0-3,5)");
        }

        return n;
    }
}
