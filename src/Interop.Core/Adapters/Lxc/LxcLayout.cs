using System.Globalization;
using System.Text.RegularExpressions;
using Interop.Core.Model;

namespace Interop.Core.Adapters.Lxc;

/// <summary>
/// LXC's cgroup layout (DESIGN.md section 5) as Interop uses it: with Interop's include file (lxc.cgroup.dir = the shared
/// root) a container's dirs are lxc.payload.NAME and lxc.monitor.NAME in the shared root, next to LXC's lxc.pivot
/// (LXC 5.0.2 src/lxc/cgroups/cgfsng.c). The other rules LXC knows (explicit dirs, patterns, the pre-4.0 forms) are
/// modelled in the tests (Interop.Core.Tests LxcReferenceModel), which check that every dir LXC can give a container is
/// one this layout recognizes.
/// </summary>
/// <remarks>
/// Implementation notes:
/// <list type="bullet">
/// <item>When a dir cannot be created, LXC retries with "-1" .. "-999" appended (lxc.payload.NAME-1), payload and
/// monitor independently (cgfsng_payload_create, cgfsng_monitor_create).</item>
/// <item>Name ambiguity: "lxc.payload.web-7" is either container "web-7" or container "web" on its 7th retry.
/// <see cref="Classify"/> returns the literal name ("web-7") and sets <see cref="LayoutMatch.Suffix"/> to 7 to
/// expose the other reading (<see cref="TrySplitSuffix"/> gives "web"). The literal reading is the usual
/// one: Prepare removes stale dirs so a container keeps its canonical name.</item>
/// </list>
/// </remarks>
public sealed partial class LxcLayout : IContainerLayout
{
    /// <summary>cgroup.h DEFAULT_PAYLOAD_CGROUP_PREFIX.</summary>
    public const string PayloadPrefix = "lxc.payload.";

    /// <summary>cgroup.h DEFAULT_MONITOR_CGROUP_PREFIX.</summary>
    public const string MonitorPrefix = "lxc.monitor.";

    /// <summary>cgroup.h CGROUP_PIVOT.</summary>
    public const string Pivot = "lxc.pivot";

    public Manager Manager => Manager.Lxc;

    /// <summary>With Interop's include file (lxc.cgroup.dir = shared root) LXC's dirs sit right in the shared root.</summary>
    public string ParentDir(string sharedRoot, IReadOnlyDictionary<string, string> facts) =>
        Names.ValidateRelativePath(sharedRoot, "shared root");

    public bool IsStaleDirOf(string childName, string containerName)
    {
        ArgumentNullException.ThrowIfNull(childName);
        ArgumentNullException.ThrowIfNull(containerName);

        // Either reading starts with the container's name right after the prefix: most siblings (other containers'
        // dirs, thousands of them on a big host) fail that test without an allocation or a regex match.
        var rest = childName.StartsWith(PayloadPrefix, StringComparison.Ordinal) ? childName.AsSpan(PayloadPrefix.Length)
            : childName.StartsWith(MonitorPrefix, StringComparison.Ordinal) ? childName.AsSpan(MonitorPrefix.Length)
            : default;
        if (!rest.StartsWith(containerName, StringComparison.Ordinal) || rest.IsEmpty)
        {
            return false;
        }

        var match = ClassifyChild(childName);
        if (match is null || match.Role == DirRole.Pivot)
        {
            return false;
        }

        return match.Name == containerName
            || (TrySplitSuffix(match.Name, out var baseName, out _) && baseName == containerName);
    }

    public LayoutMatch? Classify(string childName) => ClassifyChild(childName);

    /// <summary>
    /// A retry-reading dir ("lxc.payload.web-7" for "web") is container "web-7"'s when one is registered by that name
    /// or its payload or monitor holds a task (LXC never starts a container twice, so that is no conflict either).
    /// </summary>
    public bool MayBelongToAnother(LayoutMatch match, string containerName, OtherContainers others)
    {
        ArgumentNullException.ThrowIfNull(match);
        ArgumentNullException.ThrowIfNull(others);
        if (IsExactDirOf(match, containerName))
        {
            return false;
        }

        return others.Names.Contains(match.Name)
            || new[] { PayloadPrefix + match.Name, MonitorPrefix + match.Name }.Where(others.Siblings.Contains).Any(others.DirHoldsTasks);
    }

    public bool IsExactDirOf(LayoutMatch match, string containerName)
    {
        ArgumentNullException.ThrowIfNull(match);
        return match.Name == containerName;
    }

    /// <summary>LXC makes no unit of its own: a unit under the shared root may hold its dirs below it.</summary>
    public LayoutMatch? ClassifyUnit(string unitName) => null;

    /// <summary>
    /// A payload's init: the lowest pid in the dir whose parent (the monitor, which lives outside the payload) is not
    /// one of the dir's tasks; 0 when the dir holds none.
    /// </summary>
    public int LeaderOf(LayoutMatch match, string dir, IHostProbe host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var tasks = host.Tasks(dir);
        var set = tasks.ToHashSet();
        return (int)tasks.OrderBy(t => t).FirstOrDefault(t => !set.Contains((uint)Math.Max(0, host.ParentOf((int)t))));
    }

    /// <summary>The payload dir's name is the container's (its literal reading, see the remarks).</summary>
    public string NameOf(LayoutMatch match, int leader, IHostProbe host)
    {
        ArgumentNullException.ThrowIfNull(match);
        return match.Name;
    }

    /// <summary>
    /// What a dir named <paramref name="childName"/> is in LXC's Dir and Default layouts: lxc.pivot,
    /// lxc.payload.NAME[-N] or lxc.monitor.NAME[-N]; null otherwise. The name is literal, see the remarks.
    /// </summary>
    public static LayoutMatch? ClassifyChild(string childName)
    {
        if (childName == Pivot)
        {
            return new LayoutMatch(Manager.Lxc, DirRole.Pivot, string.Empty);
        }

        DirRole role;
        string rest;
        if (childName.StartsWith(PayloadPrefix, StringComparison.Ordinal))
        {
            role = DirRole.Payload;
            rest = childName[PayloadPrefix.Length..];
        }
        else if (childName.StartsWith(MonitorPrefix, StringComparison.Ordinal))
        {
            role = DirRole.Monitor;
            rest = childName[MonitorPrefix.Length..];
        }
        else
        {
            return null;
        }

        if (rest.Length == 0)
        {
            return null;
        }

        int? suffix = TrySplitSuffix(rest, out _, out var n) ? n : null;
        return new LayoutMatch(Manager.Lxc, role, rest, Suffix: suffix);
    }

    /// <summary>
    /// Splits a trailing LXC retry suffix: "web-7" gives ("web", 7). Only "-1" .. "-999" without leading zeros
    /// count (cgfsng.c sprintf "-%d" with idx 1..999), and something must remain before it.
    /// </summary>
    public static bool TrySplitSuffix(string value, out string baseName, out int suffix)
    {
        var match = SuffixPattern().Match(value);
        if (!match.Success)
        {
            baseName = value;
            suffix = 0;
            return false;
        }

        baseName = match.Groups[1].Value;
        suffix = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        return true;
    }

    [GeneratedRegex("^(.+)-([1-9][0-9]{0,2})$", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex SuffixPattern();
}
