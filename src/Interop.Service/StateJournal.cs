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
/// <c>P manager name uuid state leader cgroup_path since cgroup_namespace source [key dir]... crc</c> for a put,
/// <c>S</c> (a put on a systemd host) is a <c>P</c> with the unit and the machine name after source, before the dirs;
/// <c>R manager name crc</c> for a removal. The file is interopd's alone: it is not meant to be read or edited
/// by hand (the snapshot, state.yaml, is).
/// </remarks>
internal static class StateJournal
{
    private static readonly uint[] CrcTable = MakeCrcTable();

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

    /// <summary>The change one line (without its newline) records.</summary>
    /// <exception cref="FormatException">the line fails its check or does not parse.</exception>
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
            case "P" or "S" when f.Length >= 10 && f.Length % 2 == 0:
                var first = f[0] == "S" ? 12 : 10;
                if (f.Length < first)
                {
                    throw new FormatException("a journal record S without its unit and machine");
                }

                var paths = new Dictionary<string, string>(StringComparer.Ordinal);
                for (var i = first; i < f.Length; i += 2)
                {
                    paths[f[i]] = f[i + 1];
                }

                return new StateChange.Put(new Mapping(
                    ManagerNames.Parse(f[1]),
                    Names.ValidateComponent(f[2], "name"),
                    f[3],
                    ContainerStateNames.Parse(f[4]),
                    int.Parse(f[5], NumberStyles.None, CultureInfo.InvariantCulture),
                    f[6],
                    paths,
                    ulong.Parse(f[7], NumberStyles.None, CultureInfo.InvariantCulture),
                    f[8] is Mapping.NamespacePrivate or Mapping.NamespaceHost ? f[8] : throw new FormatException("bad cgroup_namespace"),
                    f[9] is Mapping.SourceHook or Mapping.SourceAdopted ? f[9] : throw new FormatException("bad source"),
                    first == 12 ? f[10] : "",
                    first == 12 ? f[11] : ""));
            default:
                throw new FormatException($"a journal record of kind '{Printable.Of(f[0])}' with {f.Length} fields");
        }
    }

    private static string[] PutFields(Mapping m)
    {
        var fields = new List<string>
        {
            "P", m.Manager.ToWire(), m.Name, m.Uuid, m.State.ToWire(), m.Leader.ToString(CultureInfo.InvariantCulture),
            m.CgroupPath, m.Since.ToString(CultureInfo.InvariantCulture), m.CgroupNamespace, m.Source,
        };
        if (m.Unit.Length > 0 || m.Machine.Length > 0)
        {
            fields[0] = "S";
            fields.Add(m.Unit);
            fields.Add(m.Machine);
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

    // CRC-32 (IEEE 802.3, as zlib) of the text's UTF-8 bytes.
    internal static uint Crc32(string text)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] MakeCrcTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
