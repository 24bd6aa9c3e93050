using System.Text.Json;
using System.Text.Json.Serialization;
using Interop.Core.Model;

namespace Interop.Ctl.Output;

// --json output for scripts. Field names are snake_case (lower case, words joined by "_") and stable;
// the records below are the schema; unit and machine appear only on a systemd host (where they are set).
// Source-generated (CtlJsonContext): no reflection, so it works under NativeAOT.

/// <summary>One row of 'list'.</summary>
internal sealed record ContainerSummaryJson(
    string Manager,
    string Name,
    string State,
    int Leader,
    string CgroupPath,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Unit = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Machine = null);

/// <summary>Every property of a mapping ('show', 'whois').</summary>
internal sealed record ContainerJson(
    string Manager,
    string Name,
    string Uuid,
    string State,
    int Leader,
    string CgroupPath,
    SortedDictionary<string, string> Paths,
    ulong SinceUs,
    string? Since,
    string CgroupNamespace,
    string Source,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Unit = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Machine = null,
    UsageJson? Usage = null);

/// <summary>What a container uses now, in base units (seconds, bytes); null where no hierarchy has the figure.</summary>
internal sealed record UsageJson(double? CpuSeconds, ulong? MemoryBytes, ulong? MemoryLimitBytes, ulong? Pids, ulong? IoReadBytes, ulong? IoWriteBytes);

/// <summary>One container in 'top --json'. cpu_percent: CPU time over the interval, 100 = one CPU.</summary>
internal sealed record TopContainerJson(
    string Manager,
    string Name,
    string State,
    string CgroupPath,
    double? CpuPercent,
    double? CpuSeconds,
    ulong? MemoryBytes,
    ulong? MemoryLimitBytes,
    ulong? Pids,
    ulong? IoReadBytes,
    ulong? IoWriteBytes);

/// <summary>'top --json': one snapshot (two samples interval_seconds apart).</summary>
internal sealed record TopJson(string Time, double IntervalSeconds, List<TopContainerJson> Containers);

internal sealed record TreeNodeJson(
    string Name,
    string Path,
    string Kind,
    string? Manager,
    string? Container,
    string? State,
    int? Leader,
    List<TreeNodeJson> Children,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Unit = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Machine = null);

internal sealed record TreeJson(string SharedRoot, List<TreeNodeJson> Children, List<ContainerSummaryJson> NotStarted, List<ContainerSummaryJson> OutsideSharedRoot);

internal sealed record HierarchyJson(string Controllers, string MountPoint, string SharedDir);

internal sealed record DaemonJson(bool Reachable, string Bus, string? Version, string? CgroupMode, string? SharedRoot, uint? ContainerCount, List<HierarchyJson> Hierarchies, string? Error, bool? StateWritable = null);

internal sealed record HierarchyHealthJson(string Key, string Dir, bool Exists, int? CloneChildren, bool? CpusEmpty, bool? MemsEmpty, List<string> Problems);

internal sealed record LocalJson(string CgroupMode, string SharedRoot, List<HierarchyHealthJson> Hierarchies, List<string> Warnings, string? Error);

internal sealed record StatusJson(bool Healthy, DaemonJson Daemon, LocalJson Local);

internal sealed record ActionsJson(List<string> Actions);

internal sealed record PruneJson(bool DryRun, List<string> Dirs);

internal sealed record ValueJson(string Manager, string Name, string Key, string Value);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(List<ContainerSummaryJson>))]
[JsonSerializable(typeof(ContainerJson))]
[JsonSerializable(typeof(TreeJson))]
[JsonSerializable(typeof(StatusJson))]
[JsonSerializable(typeof(ActionsJson))]
[JsonSerializable(typeof(PruneJson))]
[JsonSerializable(typeof(ValueJson))]
[JsonSerializable(typeof(TopJson))]
internal sealed partial class CtlJsonContext : JsonSerializerContext
{
}

internal static class Json
{
    public static void Write<T>(TextWriter output, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        => output.WriteLine(JsonSerializer.Serialize(value, type));

    public static ContainerSummaryJson Summary(Commands.ListedContainer m)
        => new(m.Manager.ToWire(), m.Name, m.State.ToWire(), m.Leader, m.CgroupPath, m.Unit.Length == 0 ? null : m.Unit, m.Machine.Length == 0 ? null : m.Machine);

    public static UsageJson Usage(Interop.Linux.Cgroups.ContainerUsage u)
        => new(u.CpuSeconds, u.MemoryBytes, u.MemoryLimitBytes, u.Pids, u.IoReadBytes, u.IoWriteBytes);

    public static ContainerJson Full(Mapping m, Interop.Linux.Cgroups.ContainerUsage? usage = null)
        => new(
            m.Manager.ToWire(),
            m.Name,
            m.Uuid,
            m.State.ToWire(),
            m.Leader,
            m.CgroupPath,
            new SortedDictionary<string, string>(m.Paths.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal),
            m.Since,
            m.Since == 0 ? null : Time.Iso(m.Since),
            m.CgroupNamespace.ToWire(),
            m.Source.ToWire(),
            m.Unit.Length == 0 ? null : m.Unit,
            m.Machine.Length == 0 ? null : m.Machine,
            usage is null ? null : Usage(usage));
}

/// <summary>Since is microseconds since the epoch; people read it as UTC.</summary>
internal static class Time
{
    private static readonly ulong MaxMicroseconds = (ulong)((DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / 10);

    public static DateTime FromMicroseconds(ulong us) => DateTime.UnixEpoch.AddTicks((long)Math.Min(us, MaxMicroseconds) * 10);

    public static string Iso(ulong us) => FromMicroseconds(us).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public static string Readable(ulong us) => us == 0 ? "-" : FromMicroseconds(us).ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture);
}
