using System.Globalization;
using System.Text;
using Interop.Core;
using Interop.Core.Model;
using Interop.Core.Text;

namespace Interop.Service;

/// <summary>One change to the registry: a mapping put (added or replaced) or a container removed.</summary>
public abstract record StateChange
{
    /// <summary>Makes the change to a registry keyed by container.</summary>
    public abstract void ApplyTo(IDictionary<ContainerId, Mapping> registry);

    public sealed record Put(Mapping Mapping) : StateChange
    {
        public override void ApplyTo(IDictionary<ContainerId, Mapping> registry) => registry[Mapping.Id] = Mapping;
    }

    public sealed record Removed(ContainerId Id) : StateChange
    {
        public override void ApplyTo(IDictionary<ContainerId, Mapping> registry) => registry.Remove(Id);
    }
}

/// <summary>
/// The journal's record format: one line a change, tab-separated fields, each escaped (%XX for '%', tab, and
/// every control character), ending with the CRC-32 of the rest of the line. A line that is cut short, filled
/// with NULs (what an interrupted append can leave after a power loss) or altered fails its check.
/// </summary>
/// <remarks>
/// <c>P manager name uuid state leader cgroup_path since cgroup_namespace source [key dir]... crc</c> for a put
/// (the fields are <see cref="MappingCodec"/>'s, which also checks them on the way back),
/// <c>S</c> (a put on a systemd host) is a <c>P</c> with the unit and the machine name after source, before the dirs;
/// <c>R manager name crc</c> for a removal. The file is interopd's alone: it is not meant to be read or edited
/// by hand (the snapshot, state.yaml, is).
/// </remarks>
internal static class StateJournal
{
    public static string Encode(StateChange change)
    {
        var fields = change switch
        {
            StateChange.Put(var m) => PutFields(m),
            StateChange.Removed(var id) => ["R", id.Manager.ToWire(), id.Name],
            _ => throw new ArgumentOutOfRangeException(nameof(change)),
        };
        var body = string.Join('\t', fields.Select(Escape));
        return $"{body}\t{Crc32(body):x8}\n";
    }

    /// <summary>The journal's first line: "G", the snapshot generation the changes below follow, the check.</summary>
    public static string EncodeHeader(long generation)
    {
        var body = "G\t" + generation.ToString(CultureInfo.InvariantCulture);
        return $"{body}\t{Crc32(body):x8}\n";
    }

    /// <summary>True when <paramref name="line"/> is a whole, checked header (a journal written before headers has none).</summary>
    public static bool TryDecodeHeader(string line, out long generation)
    {
        generation = 0;
        var parts = line.Split('\t');
        return parts.Length == 3 && parts[0] == "G" && parts[2].Length == 8
            && uint.TryParse(parts[2], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var crc)
            && Crc32(parts[0] + "\t" + parts[1]) == crc
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out generation);
    }

    /// <summary>The change one line (without its newline) records.</summary>
    /// <exception cref="FormatException">the line fails its check or does not parse.</exception>
    /// <exception cref="InteropException">a field fails <see cref="MappingCodec.Read"/>'s check (a name, a manager, a state...).</exception>
    public static StateChange Decode(string line)
    {
        var tab = line.LastIndexOf('\t');
        if (tab < 0 || !uint.TryParse(line.AsSpan(tab + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var crc)
            || line.Length - tab - 1 != 8 || Crc32(line[..tab]) != crc)
        {
            throw new FormatException("a journal record fails its checksum");
        }

        var f = line[..tab].Split('\t').Select(Unescape).ToArray();
        switch (f[0])
        {
            case "R" when f.Length == 3:
                return new StateChange.Removed(new ContainerId(ManagerNames.Parse(f[1]), Names.ValidateComponent(f[2], "name")));
            case "P" or "S" when f.Length >= 1 + MappingCodec.Required && f.Length % 2 == 0:
                // P: the required fields, then the paths; S (systemd hosts): unit and machine too, then the paths.
                var count = f[0] == "S" ? MappingCodec.Keys.Count : MappingCodec.Required;
                if (f.Length < 1 + count)
                {
                    throw new FormatException("a journal record S without its unit and machine");
                }

                var values = MappingCodec.NewValues();
                Array.Copy(f, 1, values, 0, count);
                var paths = new Dictionary<string, string>(StringComparer.Ordinal);
                for (var i = 1 + count; i < f.Length; i += 2)
                {
                    paths[f[i]] = f[i + 1];
                }

                return new StateChange.Put(MappingCodec.Read(values, paths));
            default:
                throw new FormatException($"a journal record of kind '{Printable.Of(f[0])}' with {f.Length} fields");
        }
    }

    private static string[] PutFields(Mapping m)
    {
        var count = MappingCodec.CountOf(m);
        var fields = new List<string>(1 + count + (2 * m.Paths.Count)) { count == MappingCodec.Required ? "P" : "S" };
        for (var i = 0; i < count; i++)
        {
            fields.Add(MappingCodec.Value(m, i));
        }

        foreach (var (key, dir) in m.Paths.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            fields.Add(key);
            fields.Add(dir);
        }

        return [.. fields];
    }

    private static string Escape(string value) => PercentEscape.Escape(value, static r => Rune.IsControl(r));

    private static string Unescape(string value)
        => Encoding.UTF8.GetString(PercentEscape.UnescapeToBytes(value) ?? throw new FormatException("a bad escape in a journal record"));

    /// <summary>CRC-32 (IEEE 802.3, as zlib) of the text's UTF-8 bytes.</summary>
    internal static uint Crc32(string text) => System.IO.Hashing.Crc32.HashToUInt32(Encoding.UTF8.GetBytes(text));
}
