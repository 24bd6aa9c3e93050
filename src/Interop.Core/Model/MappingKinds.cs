namespace Interop.Core.Model;

/// <summary>Whether a container's leader has its own cgroup namespace. Wire names (D-Bus, state files, --json): "private", "host".</summary>
public enum CgroupNamespaceKind
{
    /// <summary>Not carried: a partial mapping a client built from a reply that does not hold it. Wire name "".</summary>
    Unknown,
    Private,
    Host,
}

/// <summary>How a mapping entered the registry. Wire names (D-Bus, state files, --json): "hook", "adopted".</summary>
public enum MappingSource
{
    /// <summary>Not carried: a partial mapping a client built from a reply that does not hold it. Wire name "".</summary>
    Unknown,

    /// <summary>A hook registered it.</summary>
    Hook,

    /// <summary>Reconcile found it in cgroupfs.</summary>
    Adopted,
}

public static class CgroupNamespaceKindNames
{
    public const string Private = "private";
    public const string Host = "host";

    public static string ToWire(this CgroupNamespaceKind kind) => kind switch
    {
        CgroupNamespaceKind.Private => Private,
        CgroupNamespaceKind.Host => Host,
        CgroupNamespaceKind.Unknown => "",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Parses "private" or "host"; anything else (the empty string too) is an <see cref="InvalidInputException"/>.</summary>
    public static CgroupNamespaceKind Parse(string value) => value switch
    {
        Private => CgroupNamespaceKind.Private,
        Host => CgroupNamespaceKind.Host,
        _ => throw new InvalidInputException("cgroup_namespace", $"'{Printable.Of(value)}' is not a cgroup namespace (expected 'private' or 'host')"),
    };
}

public static class MappingSourceNames
{
    public const string Hook = "hook";
    public const string Adopted = "adopted";

    public static string ToWire(this MappingSource source) => source switch
    {
        MappingSource.Hook => Hook,
        MappingSource.Adopted => Adopted,
        MappingSource.Unknown => "",
        _ => throw new ArgumentOutOfRangeException(nameof(source)),
    };

    /// <summary>Parses "hook" or "adopted"; anything else (the empty string too) is an <see cref="InvalidInputException"/>.</summary>
    public static MappingSource Parse(string value) => value switch
    {
        Hook => MappingSource.Hook,
        Adopted => MappingSource.Adopted,
        _ => throw new InvalidInputException("source", $"'{Printable.Of(value)}' is not a mapping source (expected 'hook' or 'adopted')"),
    };
}
