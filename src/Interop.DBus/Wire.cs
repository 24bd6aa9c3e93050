using Interop.Core.Model;
using Interop.Core.Service;
using Tmds.DBus.Protocol;

namespace Interop.DBus;

/// <summary>
/// Hand-written (reflection-free, NativeAOT-safe) marshalling of the API's values. A variant is written as its
/// signature followed by the value, which is exactly the wire form of 'v'.
/// </summary>
internal static class Wire
{
    public static readonly string[] ManagerProperties = ["Version", "CgroupMode", "SharedRoot", "Hierarchies", "ContainerCount", "StateWritable"];

    public static readonly string[] ContainerProperties =
        ["Manager", "Name", "Uuid", "State", "Leader", "CgroupPath", "Paths", "Since", "CgroupNamespace", "Source", "Unit", "Machine"];

    public static uint Pid(int leader) => leader > 0 ? (uint)leader : 0u;

    /// <summary>Writes one manager property as a variant; false when the name is unknown.</summary>
    public static bool WriteManagerProperty(ref MessageWriter writer, string name, IInteropService service)
    {
        switch (name)
        {
            case "Version":
                writer.WriteVariantString(service.Version);
                return true;
            case "CgroupMode":
                writer.WriteVariantString(service.CgroupMode);
                return true;
            case "SharedRoot":
                writer.WriteVariantString(service.SharedRoot);
                return true;
            case "Hierarchies":
                writer.WriteSignature("a(sss)");
                WriteHierarchies(ref writer, service.Hierarchies);
                return true;
            case "ContainerCount":
                writer.WriteVariantUInt32(service.ContainerCount);
                return true;
            case "StateWritable":
                writer.WriteVariantBool(service is not IStateHealth health || health.StateWritable);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Writes one container property as a variant; false when the name is unknown.</summary>
    public static bool WriteContainerProperty(ref MessageWriter writer, string name, Mapping mapping)
    {
        switch (name)
        {
            case "Manager":
                writer.WriteVariantString(mapping.Manager.ToWire());
                return true;
            case "Name":
                writer.WriteVariantString(mapping.Name);
                return true;
            case "Uuid":
                writer.WriteVariantString(mapping.Uuid);
                return true;
            case "State":
                writer.WriteVariantString(mapping.State.ToWire());
                return true;
            case "Leader":
                writer.WriteVariantUInt32(Pid(mapping.Leader));
                return true;
            case "CgroupPath":
                writer.WriteVariantString(mapping.CgroupPath);
                return true;
            case "Paths":
                writer.WriteSignature("a{ss}");
                WriteStringDictionary(ref writer, mapping.Paths);
                return true;
            case "Since":
                writer.WriteVariantUInt64(mapping.Since);
                return true;
            case "CgroupNamespace":
                writer.WriteVariantString(mapping.CgroupNamespace.ToWire());
                return true;
            case "Source":
                writer.WriteVariantString(mapping.Source.ToWire());
                return true;
            case "Unit":
                writer.WriteVariantString(mapping.Unit);
                return true;
            case "Machine":
                writer.WriteVariantString(mapping.Machine);
                return true;
            default:
                return false;
        }
    }

    public static void WriteManagerProperties(ref MessageWriter writer, IInteropService service, IEnumerable<string> names)
    {
        var dict = writer.WriteDictionaryStart();
        foreach (var name in names)
        {
            writer.WriteDictionaryEntryStart();
            writer.WriteString(name);
            WriteManagerProperty(ref writer, name, service);
        }

        writer.WriteDictionaryEnd(dict);
    }

    public static void WriteContainerProperties(ref MessageWriter writer, Mapping mapping)
    {
        var dict = writer.WriteDictionaryStart();
        foreach (var name in ContainerProperties)
        {
            writer.WriteDictionaryEntryStart();
            writer.WriteString(name);
            WriteContainerProperty(ref writer, name, mapping);
        }

        writer.WriteDictionaryEnd(dict);
    }

    public static void WriteHierarchies(ref MessageWriter writer, IReadOnlyList<HierarchyInfo> hierarchies)
    {
        var array = writer.WriteArrayStart(DBusType.Struct);
        foreach (var h in hierarchies)
        {
            writer.WriteStructureStart();
            writer.WriteString(h.Controllers);
            writer.WriteString(h.MountPoint);
            writer.WriteString(h.SharedDir);
        }

        writer.WriteArrayEnd(array);
    }

    public static void WriteContainerList(ref MessageWriter writer, IReadOnlyList<Mapping> mappings)
    {
        var array = writer.WriteArrayStart(DBusType.Struct);
        foreach (var m in mappings)
        {
            writer.WriteStructureStart();
            writer.WriteString(m.Manager.ToWire());
            writer.WriteString(m.Name);
            writer.WriteString(m.State.ToWire());
            writer.WriteUInt32(Pid(m.Leader));
            writer.WriteString(m.CgroupPath);
            writer.WriteObjectPath(ObjectPaths.ForContainer(m.Manager, m.Name));
        }

        writer.WriteArrayEnd(array);
    }

    public static void WriteStringDictionary(ref MessageWriter writer, IReadOnlyDictionary<string, string> values)
    {
        var dict = writer.WriteDictionaryStart();
        foreach (var (key, value) in values)
        {
            writer.WriteDictionaryEntryStart();
            writer.WriteString(key);
            writer.WriteString(value);
        }

        writer.WriteDictionaryEnd(dict);
    }

    public static Dictionary<string, string> ReadStringDictionary(ref Reader reader)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var end = reader.ReadDictionaryStart();
        while (reader.HasNext(end))
        {
            var key = reader.ReadString();
            result[key] = reader.ReadString();
        }

        return result;
    }

    public static List<HierarchyInfo> ReadHierarchies(ref Reader reader)
    {
        var result = new List<HierarchyInfo>();
        var end = reader.ReadArrayStart(DBusType.Struct);
        while (reader.HasNext(end))
        {
            result.Add(new HierarchyInfo(reader.ReadString(), reader.ReadString(), reader.ReadString()));
        }

        return result;
    }

    /// <summary>Reads a container's GetAll reply (a{sv}) into a mapping; unknown keys are skipped.</summary>
    /// <summary>The manager object's GetAll reply; a property the daemon does not have keeps its default (StateWritable: null).</summary>
    public static DaemonProperties ReadManagerProperties(ref Reader reader)
    {
        string version = string.Empty, cgroupMode = string.Empty, sharedRoot = string.Empty;
        IReadOnlyList<HierarchyInfo> hierarchies = [];
        uint count = 0;
        bool? writable = null;
        var end = reader.ReadDictionaryStart();
        while (reader.HasNext(end))
        {
            switch (reader.ReadString())
            {
                case "Version":
                    reader.ReadSignature("s");
                    version = reader.ReadString();
                    break;
                case "CgroupMode":
                    reader.ReadSignature("s");
                    cgroupMode = reader.ReadString();
                    break;
                case "SharedRoot":
                    reader.ReadSignature("s");
                    sharedRoot = reader.ReadString();
                    break;
                case "Hierarchies":
                    reader.ReadSignature("a(sss)");
                    hierarchies = ReadHierarchies(ref reader);
                    break;
                case "ContainerCount":
                    reader.ReadSignature("u");
                    count = reader.ReadUInt32();
                    break;
                case "StateWritable":
                    reader.ReadSignature("b");
                    writable = reader.ReadBool();
                    break;
                default:
                    reader.ReadVariantValue();
                    break;
            }
        }

        return new DaemonProperties(version, cgroupMode, sharedRoot, hierarchies, count, writable);
    }

    public static Mapping ReadMapping(ref Reader reader)
    {
        Manager manager = default;
        string name = string.Empty, uuid = string.Empty, cgroupPath = string.Empty;
        var cgroupNamespace = CgroupNamespaceKind.Unknown;
        var source = MappingSource.Unknown;
        string unit = string.Empty, machine = string.Empty;
        var state = ContainerState.Prepared;
        uint leader = 0;
        ulong since = 0;
        IReadOnlyDictionary<string, string> paths = new Dictionary<string, string>();
        var end = reader.ReadDictionaryStart();
        while (reader.HasNext(end))
        {
            var key = reader.ReadString();
            switch (key)
            {
                case "Manager":
                    reader.ReadSignature("s");
                    manager = ManagerNames.Parse(reader.ReadString());
                    break;
                case "Name":
                    reader.ReadSignature("s");
                    name = reader.ReadString();
                    break;
                case "Uuid":
                    reader.ReadSignature("s");
                    uuid = reader.ReadString();
                    break;
                case "State":
                    reader.ReadSignature("s");
                    state = ContainerStateNames.Parse(reader.ReadString());
                    break;
                case "Leader":
                    reader.ReadSignature("u");
                    leader = reader.ReadUInt32();
                    break;
                case "CgroupPath":
                    reader.ReadSignature("s");
                    cgroupPath = reader.ReadString();
                    break;
                case "Paths":
                    reader.ReadSignature("a{ss}");
                    paths = ReadStringDictionary(ref reader);
                    break;
                case "Since":
                    reader.ReadSignature("t");
                    since = reader.ReadUInt64();
                    break;
                case "CgroupNamespace":
                    reader.ReadSignature("s");
                    cgroupNamespace = CgroupNamespaceKindNames.Parse(reader.ReadString());
                    break;
                case "Source":
                    reader.ReadSignature("s");
                    source = MappingSourceNames.Parse(reader.ReadString());
                    break;
                case "Unit":
                    reader.ReadSignature("s");
                    unit = reader.ReadString();
                    break;
                case "Machine":
                    reader.ReadSignature("s");
                    machine = reader.ReadString();
                    break;
                default:
                    reader.ReadVariantValue();
                    break;
            }
        }

        return new Mapping(manager, name, uuid, state, (int)Math.Min(leader, int.MaxValue), cgroupPath, paths, since, cgroupNamespace, source, unit, machine);
    }
}
