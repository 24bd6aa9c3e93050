using System.Globalization;
using Interop.Core;
using Interop.Core.Model;

namespace Interop.Service;

/// <summary>
/// A mapping's fields as the state files carry them, for both of them: the snapshot writes them as "key: value"
/// lines under these keys (<see cref="StateStore"/>), the journal as tab-separated fields in this order
/// (<see cref="StateJournal"/>). One list of fields, and one place (<see cref="Read"/>) that reads each back
/// and checks it; the paths (hierarchy key to dir) follow the fields in both files and are not checked.
/// </summary>
internal static class MappingCodec
{
    /// <summary>The fields' keys, in file order.</summary>
    public static readonly IReadOnlyList<string> Keys =
        ["manager", "name", "uuid", "state", "leader", "cgroup_path", "since", "cgroup_namespace", "source", "unit", "machine"];

    /// <summary>Every mapping has the first <see cref="Required"/> fields; unit and machine (systemd hosts only) follow when set.</summary>
    public const int Required = 9;

    /// <summary>
    /// How many of the fields <paramref name="mapping"/> writes: unit and machine only when one is set, so a host
    /// without systemd keeps its files as they were before systemd hosts were handled.
    /// </summary>
    public static int CountOf(Mapping mapping) => mapping.Unit.Length == 0 && mapping.Machine.Length == 0 ? Required : Keys.Count;

    /// <summary>Field <paramref name="index"/> of <paramref name="m"/> as text (its wire form).</summary>
    public static string Value(Mapping m, int index) => index switch
    {
        0 => m.Manager.ToWire(),
        1 => m.Name,
        2 => m.Uuid,
        3 => m.State.ToWire(),
        4 => m.Leader.ToString(CultureInfo.InvariantCulture),
        5 => m.CgroupPath,
        6 => m.Since.ToString(CultureInfo.InvariantCulture),
        7 => m.CgroupNamespace.ToWire(),
        8 => m.Source.ToWire(),
        9 => m.Unit,
        10 => m.Machine,
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    /// <summary>The index of the field <paramref name="key"/> names, or -1 for a key this version does not know (passed over).</summary>
    public static int IndexOf(ReadOnlySpan<char> key) => key switch
    {
        "manager" => 0,
        "name" => 1,
        "uuid" => 2,
        "state" => 3,
        "leader" => 4,
        "cgroup_path" => 5,
        "since" => 6,
        "cgroup_namespace" => 7,
        "source" => 8,
        "unit" => 9,
        "machine" => 10,
        _ => -1,
    };

    /// <summary>A fresh slot per field for a reader to fill (null: not in the file).</summary>
    public static string?[] NewValues() => new string?[Keys.Count];

    /// <summary>The mapping <paramref name="values"/> (indexed as <see cref="Keys"/>) and <paramref name="paths"/> describe, each field checked.</summary>
    /// <exception cref="FormatException">A required field is missing or a number does not parse.</exception>
    /// <exception cref="InvalidInputException">A name, manager, state, namespace or source is not valid.</exception>
    /// <exception cref="OverflowException">A number is out of range.</exception>
    public static Mapping Read(string?[] values, IReadOnlyDictionary<string, string> paths)
    {
        string F(int i) => values[i] ?? throw new FormatException($"container entry without '{Keys[i]}'");

        var name = Names.ValidateComponent(F(1), "name");
        return new Mapping(
            ManagerNames.Parse(F(0)),
            name,
            F(2),
            ContainerStateNames.Parse(F(3)),
            int.Parse(F(4), NumberStyles.None, CultureInfo.InvariantCulture),
            F(5),
            paths,
            ulong.Parse(F(6), NumberStyles.None, CultureInfo.InvariantCulture),
            CgroupNamespaceKindNames.Parse(F(7)),
            MappingSourceNames.Parse(F(8)),
            values[9] ?? "",
            values[10] ?? "");
    }
}
