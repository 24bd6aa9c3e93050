using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Interop.Core.Adapters;
using Interop.Core.Adapters.Lxc;
using Interop.Core.Model;

namespace Interop.Core.Tests.Adapters.Lxc;

/// <summary>Which rule placed a container (src/lxc/cgroups/cgfsng.c cgfsng_payload_create, first match wins).</summary>
public enum LxcLayoutMode
{
    /// <summary>lxc.cgroup.dir.container + lxc.cgroup.dir.monitor (5.0+): used verbatim, no retry.</summary>
    Explicit,

    /// <summary>lxc.cgroup.dir = D: D/lxc.payload.NAME, D/lxc.monitor.NAME.</summary>
    Dir,

    /// <summary>lxc.cgroup.pattern (system-wide lxc.conf, %n = name): PATTERN/payload, PATTERN/monitor.</summary>
    Pattern,

    /// <summary>Nothing set: lxc.payload.NAME, lxc.monitor.NAME at the base.</summary>
    Default,
}

/// <summary>Where LXC before 4.0 put a container's cgroup.</summary>
public enum LxcLegacyForm
{
    /// <summary>3.0.0-3.0.3: lxc/NAME (built-in pattern "lxc/%n"), no monitor cgroup.</summary>
    Lxc30,

    /// <summary>3.0.4-3.2: lxc.payload/NAME and lxc.monitor/NAME.</summary>
    Lxc304,
}

/// <summary>
/// The cgroup settings of one container as LXC would read them. Null or empty means unset
/// (confile.c: an empty value clears the key). <see cref="Pattern"/> comes from the system-wide lxc.conf
/// (initutils.c: empty by default for root, DEFAULT_CGROUP_PATTERN from meson's cgroup-pattern).
/// </summary>
public sealed record LxcCgroupSettings(
    string? Dir = null,
    string? ContainerDir = null,
    string? ContainerInnerDir = null,
    string? MonitorDir = null,
    string? MonitorPivotDir = null,
    string? Pattern = null)
{
    /// <summary>Interop's include file: lxc.cgroup.dir = the shared root.</summary>
    public static LxcCgroupSettings ForSharedRoot(string sharedRoot) => new(Dir: sharedRoot);
}

/// <summary>
/// Where one container's cgroups are, relative to LXC's base cgroup (for root: PID 1's cgroup in each
/// hierarchy, cgfsng.c __initialize_cgroups), '/'-separated, no leading '/'.
/// </summary>
/// <param name="Mode">The rule that applied.</param>
/// <param name="Payload">The payload (limit) dir LXC creates, with the retry suffix if any.</param>
/// <param name="Container">Where init lives: <paramref name="Payload"/>, or Payload/INNER with lxc.cgroup.dir.container.inner.</param>
/// <param name="Monitor">The monitor's dir, with its own retry suffix if any.</param>
/// <param name="Pivot">Where LXC moves the monitor on stop and leaves an empty dir behind.</param>
/// <param name="Retries">Whether LXC retries with -1 .. -999 when the dir cannot be created (false for explicit dirs).</param>
public sealed record LxcPlacement(LxcLayoutMode Mode, string Payload, string Container, string Monitor, string Pivot, bool Retries);

/// <summary>
/// A reference model of where LXC 5 puts a container's cgroups under every setting it reads (DESIGN.md section 5), as
/// read from LXC 5.0.2 src/lxc/cgroups/cgfsng.c. The product needs only the Dir layout's names (<see cref="LxcLayout"/>:
/// Interop's include file sets lxc.cgroup.dir); this model keeps the other rules checked against LXC's source, and
/// shows that every dir LXC can give a container is one <see cref="LxcLayout"/> recognizes.
/// </summary>
/// <remarks>
/// Implementation notes:
/// <list type="bullet">
/// <item>cgfsng_monitor_create runs first, then cgfsng_payload_create. Each has its own retry loop: on a
/// failure in any hierarchy (EEXIST or otherwise, __cgroup_tree_create refuses an existing final dir) it
/// prunes what it made and tries "-1" .. "-999" appended to the LAST component (lxc.payload.NAME-1,
/// lxc.monitor.NAME-1, PATTERN/payload-1). So payload and monitor suffixes are independent. Explicit dirs
/// have no suffix: an existing dir makes the start fail.</item>
/// <item>cgfsng_monitor_destroy creates the pivot at lxc.cgroup.dir.monitor.pivot/lxc.pivot, else
/// lxc.cgroup.dir/lxc.pivot, else lxc.pivot at the base, moves the monitor there and leaves it.</item>
/// </list>
/// </remarks>
public static class LxcReferenceModel
{
    /// <summary>cgroup.h DEFAULT_PAYLOAD_CGROUP (pattern mode leaf).</summary>
    public const string PatternPayload = "payload";

    /// <summary>cgroup.h DEFAULT_MONITOR_CGROUP (pattern mode leaf).</summary>
    public const string PatternMonitor = "monitor";

    /// <summary>cgfsng.c: the retry loop stops at idx 1000, so suffixes run -1 .. -999.</summary>
    public const int MaxSuffix = 999;

    private const string PayloadPrefix = LxcLayout.PayloadPrefix;
    private const string MonitorPrefix = LxcLayout.MonitorPrefix;
    private const string Pivot = LxcLayout.Pivot;

    /// <summary>
    /// Where LXC 5 puts container <paramref name="name"/> (cgfsng.c cgfsng_monitor_create / cgfsng_payload_create /
    /// cgfsng_monitor_destroy). Suffix 0 means none; 1..999 is LXC's Nth retry (ignored in Explicit mode).
    /// </summary>
    /// <exception cref="InvalidInputException">a bad name or settings LXC itself refuses (confile.c, check_cgroup_dir_config).</exception>
    public static LxcPlacement Place(string name, LxcCgroupSettings settings, int payloadSuffix = 0, int monitorSuffix = 0)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Names.ValidateComponent(name, "name");
        CheckSuffix(payloadSuffix);
        CheckSuffix(monitorSuffix);
        var mode = ModeOf(settings);

        string payload, container, monitor;
        switch (mode)
        {
            case LxcLayoutMode.Explicit:
                payload = ConfigPath(settings.ContainerDir!, "lxc.cgroup.dir.container");
                monitor = ConfigPath(settings.MonitorDir!, "lxc.cgroup.dir.monitor");
                container = string.IsNullOrEmpty(settings.ContainerInnerDir)
                    ? payload
                    : payload + "/" + Names.ValidateComponent(settings.ContainerInnerDir, "lxc.cgroup.dir.container.inner");
                break;
            case LxcLayoutMode.Dir:
                var dir = ConfigPath(settings.Dir!, "lxc.cgroup.dir");
                payload = dir + "/" + Leaf(PayloadPrefix + name, payloadSuffix);
                monitor = dir + "/" + Leaf(MonitorPrefix + name, monitorSuffix);
                container = payload;
                break;
            case LxcLayoutMode.Pattern:
                var tree = ExpandPattern(settings.Pattern!, name);
                payload = tree + "/" + Leaf(PatternPayload, payloadSuffix);
                monitor = tree + "/" + Leaf(PatternMonitor, monitorSuffix);
                container = payload;
                break;
            default:
                payload = Leaf(PayloadPrefix + name, payloadSuffix);
                monitor = Leaf(MonitorPrefix + name, monitorSuffix);
                container = payload;
                break;
        }

        return new LxcPlacement(mode, payload, container, monitor, PivotOf(settings), mode != LxcLayoutMode.Explicit);
    }

    /// <summary>The rule LXC applies, first match wins; refuses combinations LXC refuses.</summary>
    public static LxcLayoutMode ModeOf(LxcCgroupSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);

        // cgfsng.c check_cgroup_dir_config: any of container/monitor/inner set means explicit mode, which
        // conflicts with lxc.cgroup.dir and needs both container and monitor. monitor.pivot alone is allowed.
        var container = !string.IsNullOrEmpty(settings.ContainerDir);
        var monitor = !string.IsNullOrEmpty(settings.MonitorDir);
        var inner = !string.IsNullOrEmpty(settings.ContainerInnerDir);
        if (container || monitor || inner)
        {
            if (!string.IsNullOrEmpty(settings.Dir))
            {
                throw new InvalidInputException("lxc.cgroup.dir", "conflicts with lxc.cgroup.dir.container/monitor (LXC refuses to start)");
            }

            if (!container || !monitor)
            {
                throw new InvalidInputException(
                    container ? "lxc.cgroup.dir.monitor" : "lxc.cgroup.dir.container",
                    "lxc.cgroup.dir.container and lxc.cgroup.dir.monitor must both be set (LXC refuses to start)");
            }

            return LxcLayoutMode.Explicit;
        }

        if (!string.IsNullOrEmpty(settings.Dir))
        {
            return LxcLayoutMode.Dir;
        }

        // cgfsng.c cgfsng_data_init: an empty lxc.cgroup.pattern counts as unset.
        return string.IsNullOrEmpty(settings.Pattern) ? LxcLayoutMode.Default : LxcLayoutMode.Pattern;
    }

    /// <summary>
    /// The payload dirs LXC tries in order: the plain one, then -1 .. -999 (only the plain one in Explicit mode).
    /// </summary>
    public static IEnumerable<string> PayloadCandidates(string name, LxcCgroupSettings settings) =>
        Candidates(name, settings, suffix => Place(name, settings, payloadSuffix: suffix).Payload);

    /// <summary>The monitor dirs LXC tries in order (independent of the payload's retries).</summary>
    public static IEnumerable<string> MonitorCandidates(string name, LxcCgroupSettings settings) =>
        Candidates(name, settings, suffix => Place(name, settings, monitorSuffix: suffix).Monitor);

    private static IEnumerable<string> Candidates(string name, LxcCgroupSettings settings, Func<int, string> withSuffix)
    {
        yield return withSuffix(0);
        if (!Place(name, settings).Retries)
        {
            yield break;
        }

        for (var i = 1; i <= MaxSuffix; i++)
        {
            yield return withSuffix(i);
        }
    }

    /// <summary>
    /// The dir LXC ends up with, given which dirs already exist in some hierarchy; null when LXC would fail
    /// ("Failed to create container cgroup": all 1000 taken, or an explicit dir exists).
    /// </summary>
    public static string? FirstFree(IEnumerable<string> candidates, Func<string, bool> exists)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(exists);
        return candidates.FirstOrDefault(c => !exists(c));
    }

    /// <summary>Where LXC before 4.0 put container <paramref name="name"/>: (payload, monitor or null).</summary>
    public static (string Payload, string? Monitor) LegacyPlace(string name, LxcLegacyForm form)
    {
        Names.ValidateComponent(name, "name");
        return form switch
        {
            LxcLegacyForm.Lxc30 => ("lxc/" + name, null),
            LxcLegacyForm.Lxc304 => ("lxc.payload/" + name, "lxc.monitor/" + name),
            _ => throw new ArgumentOutOfRangeException(nameof(form)),
        };
    }

    /// <summary>
    /// The reverse of <see cref="Place"/> for a path relative to the base. Explicit-mode payload and monitor
    /// dirs do not carry the name, so they give null (only their pivot is recognized); a pattern without %n
    /// gives null too. The name is literal, with <see cref="LayoutMatch.Suffix"/> set as in <see cref="LxcLayout.ClassifyChild"/>.
    /// </summary>
    public static LayoutMatch? ClassifyPath(string path, LxcCgroupSettings settings)
    {
        ArgumentNullException.ThrowIfNull(path);
        var trimmed = CgroupPath.Of(path).Relative;
        var mode = ModeOf(settings);
        var pivot = PivotOf(settings);
        if (trimmed == pivot)
        {
            return new LayoutMatch(Manager.Lxc, DirRole.Pivot, string.Empty);
        }

        switch (mode)
        {
            case LxcLayoutMode.Dir:
                var dir = ConfigPath(settings.Dir!, "lxc.cgroup.dir") + "/";
                return trimmed.StartsWith(dir, StringComparison.Ordinal) && trimmed.IndexOf('/', dir.Length) < 0
                    ? ClassifyNamed(trimmed[dir.Length..])
                    : null;
            case LxcLayoutMode.Default:
                return trimmed.Contains('/', StringComparison.Ordinal) ? null : ClassifyNamed(trimmed);
            case LxcLayoutMode.Pattern:
                return ClassifyPatternPath(trimmed, settings.Pattern!);
            default:
                return null;
        }
    }

    /// <summary>The reverse of <see cref="LegacyPlace"/>: lxc/NAME, lxc.payload/NAME, lxc.monitor/NAME (a -N suffix is exposed as in <see cref="LxcLayout.ClassifyChild"/>).</summary>
    public static LayoutMatch? ClassifyLegacyPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var parts = CgroupPath.Of(path).Relative.Split('/');
        if (parts.Length != 2 || parts[1].Length == 0)
        {
            return null;
        }

        DirRole? role = parts[0] switch
        {
            "lxc" or "lxc.payload" => DirRole.Payload,
            "lxc.monitor" => DirRole.Monitor,
            _ => null,
        };
        if (role is null)
        {
            return null;
        }

        int? suffix = LxcLayout.TrySplitSuffix(parts[1], out _, out var n) ? n : null;
        return new LayoutMatch(Manager.Lxc, role.Value, parts[1], Suffix: suffix);
    }

    private static LayoutMatch? ClassifyNamed(string child)
    {
        var match = LxcLayout.ClassifyChild(child);
        return match?.Role == DirRole.Pivot ? null : match;
    }

    private static LayoutMatch? ClassifyPatternPath(string path, string pattern)
    {
        var normalized = NormalizePattern(pattern);
        if (!normalized.Contains("%n", StringComparison.Ordinal))
        {
            return null;
        }

        // %n becomes one path component's worth of text; later occurrences must repeat the first.
        var regex = new StringBuilder("^");
        var pieces = normalized.Split("%n");
        for (var i = 0; i < pieces.Length; i++)
        {
            regex.Append(Regex.Escape(pieces[i]));
            if (i < pieces.Length - 1)
            {
                regex.Append(i == 0 ? "(?<n>[^/]+)" : "\\k<n>");
            }
        }

        regex.Append("/(?<leaf>[^/]+)$");
        var m = Regex.Match(path, regex.ToString(), RegexOptions.CultureInvariant);
        if (!m.Success)
        {
            return null;
        }

        var leaf = m.Groups["leaf"].Value;
        DirRole role;
        int? suffix = null;
        if (leaf is PatternPayload or PatternMonitor)
        {
            role = leaf == PatternPayload ? DirRole.Payload : DirRole.Monitor;
        }
        else if (LxcLayout.TrySplitSuffix(leaf, out var baseLeaf, out var n) && baseLeaf is PatternPayload or PatternMonitor)
        {
            role = baseLeaf == PatternPayload ? DirRole.Payload : DirRole.Monitor;
            suffix = n;
        }
        else
        {
            return null;
        }

        // Here the suffix sits on the leaf, not on the name, so the name is unambiguous.
        return new LayoutMatch(Manager.Lxc, role, m.Groups["n"].Value, Suffix: suffix);
    }

    private static string PivotOf(LxcCgroupSettings settings)
    {
        // cgfsng.c cgfsng_monitor_destroy.
        if (!string.IsNullOrEmpty(settings.MonitorPivotDir))
        {
            return ConfigPath(settings.MonitorPivotDir, "lxc.cgroup.dir.monitor.pivot") + "/" + Pivot;
        }

        return string.IsNullOrEmpty(settings.Dir) ? Pivot : ConfigPath(settings.Dir, "lxc.cgroup.dir") + "/" + Pivot;
    }

    // confile.c set_config_cgroup_dir & co.: "paths may not be absolute", "may not walk upwards via ../".
    private static string ConfigPath(string value, string key)
    {
        if (value.StartsWith('/'))
        {
            throw new InvalidInputException(key, $"'{Printable.Of(value)}' is absolute; LXC wants a path relative to its base cgroup");
        }

        return Names.ValidateRelativePath(value.TrimEnd('/'), key);
    }

    // The pattern is split on '/' by __cgroup_tree_create (lxc_iterate_parts skips empty parts), so a leading,
    // trailing or doubled '/' makes no difference; "..", absolute parts and the like are refused there as here.
    private static string NormalizePattern(string pattern) =>
        string.Join('/', pattern.Split('/', StringSplitOptions.RemoveEmptyEntries));

    private static string ExpandPattern(string pattern, string name)
    {
        var expanded = NormalizePattern(pattern).Replace("%n", name, StringComparison.Ordinal);
        return Names.ValidateRelativePath(expanded, "lxc.cgroup.pattern");
    }

    private static string Leaf(string leaf, int suffix)
    {
        var full = suffix == 0 ? leaf : leaf + "-" + suffix.ToString(CultureInfo.InvariantCulture);

        // The kernel refuses a component over 255 bytes (mkdir ENAMETOOLONG); LXC would fail all 1000 tries.
        return Names.ValidateComponent(full, "name");
    }

    private static void CheckSuffix(int suffix)
    {
        if (suffix is < 0 or > MaxSuffix)
        {
            throw new ArgumentOutOfRangeException(nameof(suffix), suffix, "LXC retry suffixes run 1..999 (0: none)");
        }
    }

}
