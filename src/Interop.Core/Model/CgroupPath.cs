namespace Interop.Core.Model;

/// <summary>A test of a cgroup path in normal form (as /proc/PID/cgroup prints it), given as a span: no string for it.</summary>
public delegate bool CgroupPathTest(ReadOnlySpan<char> path);

/// <summary>
/// A cgroup path inside one hierarchy, as the kernel prints it in /proc/PID/cgroup: absolute, '/'-separated,
/// no trailing '/', "/" for the hierarchy's root. The one home of "is this path at or below that one"
/// (DESIGN.md section 7: under the shared root) and of the "/machine" versus "machine" spellings: code that
/// holds either spelling turns it into a <see cref="CgroupPath"/> instead of trimming slashes itself.
/// </summary>
/// <remarks>
/// Normalising is all it does: a path's components are validated where they enter (Names.ValidateRelativePath).
/// <c>default(CgroupPath)</c> is the root.
/// </remarks>
public readonly struct CgroupPath : IEquatable<CgroupPath>
{
    private readonly string? _value;

    private CgroupPath(string value) => _value = value;

    /// <summary>The hierarchy's root, "/".</summary>
    public static CgroupPath Root => default;

    /// <summary>The absolute form, as /proc/PID/cgroup prints it: "/machine/lxc.payload.web", or "/".</summary>
    public string Value => _value ?? "/";

    /// <summary>The form relative to the hierarchy's mount point: "machine/lxc.payload.web", or "" for the root.</summary>
    public string Relative => _value is null ? string.Empty : _value[1..];

    public bool IsRoot => _value is null;

    /// <summary>The last component ("" for the root).</summary>
    public string Name => _value is null ? string.Empty : _value[(_value.LastIndexOf('/') + 1)..];

    /// <summary>The parent (the root's parent is the root).</summary>
    public CgroupPath Parent
    {
        get
        {
            if (_value is null)
            {
                return Root;
            }

            var cut = _value.LastIndexOf('/');
            return cut == 0 ? Root : new CgroupPath(_value[..cut]);
        }
    }

    /// <summary>
    /// Either spelling ("/machine", "machine", "machine/", "/", "") as a normalised path: one leading '/',
    /// no trailing or doubled '/'.
    /// </summary>
    public static CgroupPath Of(string path)
    {
        ArgumentNullException.ThrowIfNull(path);

        // The common case (a path read from /proc/PID/cgroup) is already normal: no copy.
        if (path.Length > 1 && path[0] == '/' && path[^1] != '/' && !path.Contains("//", StringComparison.Ordinal))
        {
            return new CgroupPath(path);
        }

        // A relative one ("machine/lxc.payload.web") only lacks the leading '/'.
        if (path.Length > 0 && path[0] != '/' && path[^1] != '/' && !path.Contains("//", StringComparison.Ordinal))
        {
            return new CgroupPath("/" + path);
        }

        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 0 ? Root : new CgroupPath("/" + string.Join('/', parts));
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="ancestor"/> or lies below it, whichever spelling each uses.</summary>
    public static bool IsAtOrBelow(string path, string ancestor) => Of(path).IsAtOrBelow(Of(ancestor));

    /// <summary>True when this is <paramref name="ancestor"/> or lies below it, component-wise ("/a/b" is below "/a", "/ab" is not; everything is at or below the root).</summary>
    public bool IsAtOrBelow(CgroupPath ancestor) => IsAtOrBelow(Value, ancestor);

    /// <summary>
    /// <see cref="IsAtOrBelow(CgroupPath)"/> for a path already in normal form (as /proc/PID/cgroup prints it), given as
    /// a span: no string for it.
    /// </summary>
    public static bool IsAtOrBelow(ReadOnlySpan<char> normalPath, CgroupPath ancestor)
    {
        if (ancestor._value is null)
        {
            return true;
        }

        return normalPath.StartsWith(ancestor._value, StringComparison.Ordinal)
            && (normalPath.Length == ancestor._value.Length || normalPath[ancestor._value.Length] == '/');
    }

    /// <summary>True when this lies strictly below <paramref name="ancestor"/> (not the ancestor itself).</summary>
    public bool IsBelow(CgroupPath ancestor) => !Equals(ancestor) && IsAtOrBelow(ancestor);

    /// <summary>The part below <paramref name="ancestor"/>, without a leading '/' ("lxc.payload.web"; "" for the ancestor itself).</summary>
    /// <exception cref="ArgumentException">this is not at or below <paramref name="ancestor"/>.</exception>
    public string RelativeTo(CgroupPath ancestor)
    {
        if (!IsAtOrBelow(ancestor))
        {
            throw new ArgumentException($"{Value} is not at or below {ancestor.Value}", nameof(ancestor));
        }

        return ancestor._value is null ? Relative : Value.Length == ancestor.Value.Length ? string.Empty : Value[(ancestor.Value.Length + 1)..];
    }

    public bool Equals(CgroupPath other) => string.Equals(_value, other._value, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is CgroupPath other && Equals(other);

    public override int GetHashCode() => _value is null ? 0 : StringComparer.Ordinal.GetHashCode(_value);

    public override string ToString() => Value;

    public static bool operator ==(CgroupPath left, CgroupPath right) => left.Equals(right);

    public static bool operator !=(CgroupPath left, CgroupPath right) => !left.Equals(right);
}
