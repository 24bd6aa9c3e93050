using System.Globalization;

namespace Interop.Core.Systemd;

/// <summary>One unit property to set through systemd: a number (D-Bus "t") or a bit mask (D-Bus "ay").</summary>
public sealed record UnitProperty(string Name, ulong Number, byte[]? Mask = null)
{
    /// <summary>The D-Bus signature of the value.</summary>
    public string Signature => Mask is null ? "t" : "ay";

    public override string ToString() =>
        Mask is null ? $"{Name}={(Number == ulong.MaxValue ? "infinity" : Number.ToString(CultureInfo.InvariantCulture))}" : $"{Name}=[{Convert.ToHexString(Mask)}]";
}

/// <summary>
/// Container limits on a systemd host go through systemd (SetUnitProperties on the container's unit, runtime):
/// the cgroup key an admin gives to <c>interopctl set</c> becomes the unit property that owns that file, and the
/// value is parsed like systemd parses the property (bytes with K/M/G/T/P/E suffixes, "max"/"infinity").
/// </summary>
public static class SystemdLimits
{
    /// <summary>cgroup key to unit property (v2 keys, then the v1 ones systemd still maps).</summary>
    public static readonly IReadOnlyDictionary<string, string> Properties = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["memory.max"] = "MemoryMax",
        ["memory.high"] = "MemoryHigh",
        ["memory.low"] = "MemoryLow",
        ["memory.min"] = "MemoryMin",
        ["memory.swap.max"] = "MemorySwapMax",
        ["pids.max"] = "TasksMax",
        ["cpu.weight"] = "CPUWeight",
        ["cpu.max"] = "CPUQuotaPerSecUSec",
        ["io.weight"] = "IOWeight",
        ["cpuset.cpus"] = "AllowedCPUs",
        ["cpuset.mems"] = "AllowedMemoryNodes",
        ["memory.limit_in_bytes"] = "MemoryLimit",
        ["cpu.shares"] = "CPUShares",
        ["blkio.weight"] = "BlockIOWeight",
    };

    private const ulong Infinity = ulong.MaxValue;
    private const ulong DefaultCpuPeriodUs = 100_000;

    /// <summary>The unit properties that set <paramref name="key"/> to <paramref name="value"/> on unit <paramref name="unit"/>.</summary>
    /// <exception cref="InvalidInputException">the key has no systemd property, or the value does not parse.</exception>
    public static IReadOnlyList<UnitProperty> Map(string key, string value, string unit)
    {
        if (!Properties.TryGetValue(key, out var property))
        {
            throw new InvalidInputException("key", $"{Printable.Of(key)} has no systemd property; {unit}'s limits go through systemd (keys: {string.Join(", ", Properties.Keys)})");
        }

        var v = value.Trim();
        return key switch
        {
            "memory.max" or "memory.high" or "memory.low" or "memory.min" or "memory.swap.max" or "memory.limit_in_bytes" => [new(property, Bytes(key, v))],
            "pids.max" => [new(property, Count(key, v, 1, Infinity, allowInfinity: true))],
            "cpu.weight" or "io.weight" => [new(property, Count(key, v, 1, 10_000, allowInfinity: false))],
            "cpu.shares" => [new(property, Count(key, v, 2, 262_144, allowInfinity: false))],
            "blkio.weight" => [new(property, Count(key, v, 10, 1_000, allowInfinity: false))],
            "cpu.max" => CpuMax(v),
            _ => [new(property, 0, Mask(key, v))],
        };
    }

    /// <summary>systemd parse_size (base 1024): a number of bytes with an optional K, M, G, T, P or E suffix; "max" or "infinity" (v1: -1) for no limit.</summary>
    public static ulong Bytes(string key, string value)
    {
        if (value is "max" or "infinity" || (key == "memory.limit_in_bytes" && value == "-1"))
        {
            return Infinity;
        }

        var suffix = value.Length > 0 ? char.ToUpperInvariant(value[^1]) : '\0';
        var shift = suffix switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, 'P' => 50, 'E' => 60, _ => 0 };
        var digits = shift == 0 ? value : value[..^1];
        if (!ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || (shift > 0 && n > (Infinity >> shift)))
        {
            throw new InvalidInputException("value", $"{key} takes bytes (e.g. 512M, 1073741824) or max, not '{Printable.Of(value)}'");
        }

        return n << shift;
    }

    private static ulong Count(string key, string value, ulong min, ulong max, bool allowInfinity)
    {
        if (allowInfinity && value is "max" or "infinity")
        {
            return Infinity;
        }

        if (!ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min || n > max)
        {
            var range = allowInfinity ? $"a number from {min} or max" : $"a number from {min} to {max}";
            throw new InvalidInputException("value", $"{key} takes {range}, not '{Printable.Of(value)}'");
        }

        return n;
    }

    /// <summary>cpu.max "QUOTA PERIOD" (µs; QUOTA may be max; PERIOD defaults to 100000): CPUQuotaPerSecUSec and CPUQuotaPeriodUSec.</summary>
    private static IReadOnlyList<UnitProperty> CpuMax(string value)
    {
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        ulong period = DefaultCpuPeriodUs;
        var ok = parts.Length is 1 or 2
            && (parts.Length == 1 || (ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out period) && period is >= 1_000 and <= 1_000_000));
        ulong quota = 0;
        ok = ok && (parts[0] == "max" || (ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out quota) && quota >= 1_000));
        if (!ok)
        {
            throw new InvalidInputException("value", $"cpu.max takes \"QUOTA [PERIOD]\" in microseconds (QUOTA at least 1000 or max, PERIOD 1000 to 1000000), not '{Printable.Of(value)}'");
        }

        var perSec = parts[0] == "max" ? Infinity : (ulong)Math.Min((decimal)quota * 1_000_000m / period, Infinity - 1);
        return [new("CPUQuotaPerSecUSec", perSec), new("CPUQuotaPeriodUSec", parts.Length == 2 ? period : DefaultCpuPeriodUs)];
    }

    /// <summary>A cpu or node list ("0-3,8") as systemd's bit mask: bit i of byte i/8.</summary>
    private static byte[] Mask(string key, string value)
    {
        var bits = new SortedSet<int>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            var okFirst = int.TryParse(dash < 0 ? part : part[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var first);
            var last = first;
            var okLast = dash < 0 || int.TryParse(part[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out last);
            if (!okFirst || !okLast || last < first || last > 8191)
            {
                throw new InvalidInputException("value", $"{key} takes a list such as 0-3,8, not '{Printable.Of(value)}'");
            }

            for (var i = first; i <= last; i++)
            {
                bits.Add(i);
            }
        }

        if (bits.Count == 0)
        {
            return [];
        }

        var mask = new byte[(bits.Max / 8) + 1];
        foreach (var b in bits)
        {
            mask[b / 8] |= (byte)(1 << (b % 8));
        }

        return mask;
    }
}
