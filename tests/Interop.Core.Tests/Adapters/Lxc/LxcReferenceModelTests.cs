using Interop.Core.Adapters;
using Interop.Core.Adapters.Lxc;
using Interop.Core.Model;

namespace Interop.Core.Tests.Adapters.Lxc;

/// <summary>The reference model of LXC's placement rules, against LXC 5.0.2 cgfsng.c.</summary>
public class LxcReferenceModelTests
{
    internal static readonly string[] EdgeNames = ["web.01-a", "c1", "9lives", "a.b.c", "-dash", "x-7", "x-07", "Ünïcødé-容器", "lxc.payload.x", "name with space"];

    private static readonly LxcCgroupSettings Default = new();
    private static readonly LxcCgroupSettings SharedRoot = LxcCgroupSettings.ForSharedRoot("machine");
    private static readonly LxcCgroupSettings DeepDir = new(Dir: "machine/lxc.partition");
    private static readonly LxcCgroupSettings PatternLxc = new(Pattern: "lxc/%n");
    private static readonly LxcCgroupSettings PatternTwice = new(Pattern: "/ct/%n/x-%n/");
    private static readonly LxcCgroupSettings ExplicitDirs = new(ContainerDir: "ct/web", MonitorDir: "mon/web");

    // (settings, name, payload, container, monitor, pivot, mode)
    public static IEnumerable<TestCaseData> Placements()
    {
        static TestCaseData Row(string label, LxcCgroupSettings s, string name, string payload, string container, string monitor, string pivot, LxcLayoutMode mode) =>
            new TestCaseData(s, name, payload, container, monitor, pivot, mode).SetArgDisplayNames(label);

        yield return Row("default", Default, "web.01-a", "lxc.payload.web.01-a", "lxc.payload.web.01-a", "lxc.monitor.web.01-a", "lxc.pivot", LxcLayoutMode.Default);
        yield return Row("dir", SharedRoot, "web.01-a", "machine/lxc.payload.web.01-a", "machine/lxc.payload.web.01-a", "machine/lxc.monitor.web.01-a", "machine/lxc.pivot", LxcLayoutMode.Dir);
        yield return Row("deep dir", DeepDir, "9lives", "machine/lxc.partition/lxc.payload.9lives", "machine/lxc.partition/lxc.payload.9lives", "machine/lxc.partition/lxc.monitor.9lives", "machine/lxc.partition/lxc.pivot", LxcLayoutMode.Dir);
        yield return Row("dir with trailing slash", new LxcCgroupSettings(Dir: "machine/"), "c1", "machine/lxc.payload.c1", "machine/lxc.payload.c1", "machine/lxc.monitor.c1", "machine/lxc.pivot", LxcLayoutMode.Dir);
        yield return Row("pattern", PatternLxc, "web.01-a", "lxc/web.01-a/payload", "lxc/web.01-a/payload", "lxc/web.01-a/monitor", "lxc.pivot", LxcLayoutMode.Pattern);
        yield return Row("pattern twice, slashes", PatternTwice, "Ünïcødé-容器", "ct/Ünïcødé-容器/x-Ünïcødé-容器/payload", "ct/Ünïcødé-容器/x-Ünïcødé-容器/payload", "ct/Ünïcødé-容器/x-Ünïcødé-容器/monitor", "lxc.pivot", LxcLayoutMode.Pattern);
        yield return Row("explicit", ExplicitDirs, "web", "ct/web", "ct/web", "mon/web", "lxc.pivot", LxcLayoutMode.Explicit);
        yield return Row("explicit inner + pivot", ExplicitDirs with { ContainerInnerDir = "ns", MonitorPivotDir = "piv" }, "web", "ct/web", "ct/web/ns", "mon/web", "piv/lxc.pivot", LxcLayoutMode.Explicit);
        yield return Row("dir wins over pattern", SharedRoot with { Pattern = "lxc/%n" }, "c1", "machine/lxc.payload.c1", "machine/lxc.payload.c1", "machine/lxc.monitor.c1", "machine/lxc.pivot", LxcLayoutMode.Dir);
        yield return Row("explicit wins over pattern", ExplicitDirs with { Pattern = "lxc/%n" }, "c1", "ct/web", "ct/web", "mon/web", "lxc.pivot", LxcLayoutMode.Explicit);
        yield return Row("monitor.pivot with dir", SharedRoot with { MonitorPivotDir = "piv" }, "c1", "machine/lxc.payload.c1", "machine/lxc.payload.c1", "machine/lxc.monitor.c1", "piv/lxc.pivot", LxcLayoutMode.Dir);
        yield return Row("empty pattern is unset", new LxcCgroupSettings(Pattern: string.Empty), "c1", "lxc.payload.c1", "lxc.payload.c1", "lxc.monitor.c1", "lxc.pivot", LxcLayoutMode.Default);
    }

    [TestCaseSource(nameof(Placements))]
    public void Place_matches_cgfsng(LxcCgroupSettings settings, string name, string payload, string container, string monitor, string pivot, LxcLayoutMode mode)
    {
        var p = LxcReferenceModel.Place(name, settings);

        Assert.That(p, Is.EqualTo(new LxcPlacement(mode, payload, container, monitor, pivot, mode != LxcLayoutMode.Explicit)));
    }

    public static IEnumerable<TestCaseData> Suffixed()
    {
        yield return new TestCaseData(Default, "lxc.payload.web.01-a-3", "lxc.monitor.web.01-a-12").SetArgDisplayNames("default");
        yield return new TestCaseData(SharedRoot, "machine/lxc.payload.web.01-a-3", "machine/lxc.monitor.web.01-a-12").SetArgDisplayNames("dir");
        yield return new TestCaseData(PatternLxc, "lxc/web.01-a/payload-3", "lxc/web.01-a/monitor-12").SetArgDisplayNames("pattern: suffix on the leaf");
        yield return new TestCaseData(ExplicitDirs, "ct/web", "mon/web").SetArgDisplayNames("explicit: never suffixed");
    }

    [TestCaseSource(nameof(Suffixed))]
    public void Retry_suffix_goes_on_the_last_component_independently(LxcCgroupSettings settings, string payload, string monitor)
    {
        var p = LxcReferenceModel.Place("web.01-a", settings, payloadSuffix: 3, monitorSuffix: 12);
        Assert.Multiple(() =>
        {
            Assert.That(p.Payload, Is.EqualTo(payload));
            Assert.That(p.Monitor, Is.EqualTo(monitor));
        });
    }

    [Test]
    public void Candidates_are_the_plain_dir_then_1_to_999()
    {
        var payloads = LxcReferenceModel.PayloadCandidates("c1", SharedRoot).ToList();
        var monitors = LxcReferenceModel.MonitorCandidates("c1", SharedRoot).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(payloads, Has.Count.EqualTo(1000));
            Assert.That(payloads[0], Is.EqualTo("machine/lxc.payload.c1"));
            Assert.That(payloads[1], Is.EqualTo("machine/lxc.payload.c1-1"));
            Assert.That(payloads[^1], Is.EqualTo("machine/lxc.payload.c1-999"));
            Assert.That(monitors[^1], Is.EqualTo("machine/lxc.monitor.c1-999"));
            Assert.That(LxcReferenceModel.PayloadCandidates("c1", ExplicitDirs), Is.EqualTo(new[] { "ct/web" }));
        });
    }

    [Test]
    public void FirstFree_simulates_the_retry_loop()
    {
        var taken = new HashSet<string> { "machine/lxc.payload.c1", "machine/lxc.payload.c1-1" };
        Assert.Multiple(() =>
        {
            Assert.That(LxcReferenceModel.FirstFree(LxcReferenceModel.PayloadCandidates("c1", SharedRoot), taken.Contains), Is.EqualTo("machine/lxc.payload.c1-2"));
            Assert.That(LxcReferenceModel.FirstFree(LxcReferenceModel.MonitorCandidates("c1", SharedRoot), taken.Contains), Is.EqualTo("machine/lxc.monitor.c1"));
            Assert.That(LxcReferenceModel.FirstFree(LxcReferenceModel.PayloadCandidates("c1", SharedRoot), _ => true), Is.Null, "all 1000 taken: LXC fails");
            Assert.That(LxcReferenceModel.FirstFree(LxcReferenceModel.PayloadCandidates("w", ExplicitDirs), "ct/web".Equals), Is.Null, "explicit dir exists: LXC refuses");
        });
    }

    [TestCase(-1)]
    [TestCase(1000)]
    public void Suffix_out_of_LXC_range_is_a_bug(int suffix)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LxcReferenceModel.Place("c1", Default, payloadSuffix: suffix));
    }

    public static IEnumerable<TestCaseData> BadSettings()
    {
        static TestCaseData Row(string label, LxcCgroupSettings s, string field) => new TestCaseData(s, field).SetArgDisplayNames(label);
        yield return Row("container without monitor", new LxcCgroupSettings(ContainerDir: "a"), "lxc.cgroup.dir.monitor");
        yield return Row("monitor without container", new LxcCgroupSettings(MonitorDir: "a"), "lxc.cgroup.dir.container");
        yield return Row("inner alone", new LxcCgroupSettings(ContainerInnerDir: "ns"), "lxc.cgroup.dir.container");
        yield return Row("explicit with dir", ExplicitDirs with { Dir = "machine" }, "lxc.cgroup.dir");
        yield return Row("absolute dir", new LxcCgroupSettings(Dir: "/machine"), "lxc.cgroup.dir");
        yield return Row("dotdot dir", new LxcCgroupSettings(Dir: "machine/../x"), "lxc.cgroup.dir");
        yield return Row("absolute container", new LxcCgroupSettings(ContainerDir: "/a", MonitorDir: "b"), "lxc.cgroup.dir.container");
        yield return Row("inner with slash", ExplicitDirs with { ContainerInnerDir = "a/b" }, "lxc.cgroup.dir.container.inner");
        yield return Row("absolute pivot", SharedRoot with { MonitorPivotDir = "/p" }, "lxc.cgroup.dir.monitor.pivot");
        yield return Row("pattern with dotdot", new LxcCgroupSettings(Pattern: "../%n"), "lxc.cgroup.pattern");
    }

    [TestCaseSource(nameof(BadSettings))]
    public void Refuses_settings_LXC_refuses(LxcCgroupSettings settings, string field)
    {
        var ex = Assert.Throws<InvalidInputException>(() => LxcReferenceModel.Place("c1", settings));
        Assert.That(ex!.Field, Is.EqualTo(field));
    }

    [TestCase("/")]
    [TestCase("..")]
    [TestCase("a\0b")]
    [TestCase("a\u0001b")]
    [TestCase("")]
    public void Place_refuses_hostile_names(string name)
    {
        var ex = Assert.Throws<InvalidInputException>(() => LxcReferenceModel.Place(name, SharedRoot));
        Assert.That(ex!.Field, Is.EqualTo("name"));
    }

    [Test]
    public void Place_refuses_a_name_whose_dir_would_pass_255_bytes()
    {
        var name = new string('n', 255 - "lxc.payload.".Length + 1);
        var ex = Assert.Throws<InvalidInputException>(() => LxcReferenceModel.Place(name, SharedRoot));
        Assert.That(ex!.Field, Is.EqualTo("name"));
    }

    [Test]
    public void Legacy_forms()
    {
        Assert.Multiple(() =>
        {
            Assert.That(LxcReferenceModel.LegacyPlace("web.01-a", LxcLegacyForm.Lxc30), Is.EqualTo(("lxc/web.01-a", (string?)null)));
            Assert.That(LxcReferenceModel.LegacyPlace("web.01-a", LxcLegacyForm.Lxc304), Is.EqualTo(("lxc.payload/web.01-a", (string?)"lxc.monitor/web.01-a")));
            Assert.That(LxcReferenceModel.ClassifyLegacyPath("lxc/web.01-a"), Is.EqualTo(new LayoutMatch(Manager.Lxc, DirRole.Payload, "web.01-a")));
            Assert.That(LxcReferenceModel.ClassifyLegacyPath("lxc.monitor/c-2"), Is.EqualTo(new LayoutMatch(Manager.Lxc, DirRole.Monitor, "c-2", Suffix: 2)));
            Assert.That(LxcReferenceModel.ClassifyLegacyPath("lxc.payload/a/b"), Is.Null);
            Assert.That(LxcReferenceModel.ClassifyLegacyPath("machine/c1"), Is.Null);
        });
    }

    public static IEnumerable<TestCaseData> RoundTripLayouts()
    {
        foreach (var (label, s) in new[] { ("default", Default), ("dir", SharedRoot), ("deep dir", DeepDir), ("pattern", PatternLxc), ("pattern twice", PatternTwice) })
        {
            foreach (var name in EdgeNames)
            {
                yield return new TestCaseData(s, name).SetArgDisplayNames($"{label}: {name}");
            }
        }
    }

    [TestCaseSource(nameof(RoundTripLayouts))]
    public void ClassifyPath_reverses_Place(LxcCgroupSettings settings, string name)
    {
        var p = LxcReferenceModel.Place(name, settings);
        var suffixed = LxcReferenceModel.Place(name, settings, payloadSuffix: 5, monitorSuffix: 999);
        var nameSuffix = LxcLayout.TrySplitSuffix(name, out _, out var n) ? n : (int?)null;
        var isPattern = settings.Pattern is not null;

        Assert.Multiple(() =>
        {
            Assert.That(LxcReferenceModel.ClassifyPath(p.Payload, settings), Is.EqualTo(new LayoutMatch(Manager.Lxc, DirRole.Payload, name, Suffix: isPattern ? null : nameSuffix)));
            Assert.That(LxcReferenceModel.ClassifyPath(p.Monitor, settings), Is.EqualTo(new LayoutMatch(Manager.Lxc, DirRole.Monitor, name, Suffix: isPattern ? null : nameSuffix)));
            Assert.That(LxcReferenceModel.ClassifyPath(p.Pivot, settings), Is.EqualTo(new LayoutMatch(Manager.Lxc, DirRole.Pivot, string.Empty)));

            // Suffixed: the pattern form is unambiguous; the others keep the literal name and expose the suffix.
            var payload = LxcReferenceModel.ClassifyPath(suffixed.Payload, settings)!;
            var monitor = LxcReferenceModel.ClassifyPath(suffixed.Monitor, settings)!;
            Assert.That(payload.Role, Is.EqualTo(DirRole.Payload));
            Assert.That(payload.Suffix, Is.EqualTo(5));
            Assert.That(monitor.Suffix, Is.EqualTo(999));
            Assert.That(payload.Name, Is.EqualTo(isPattern ? name : name + "-5"));
            Assert.That(monitor.Name, Is.EqualTo(isPattern ? name : name + "-999"));
            Assert.That(LxcLayout.TrySplitSuffix(payload.Name, out var baseName, out _) ? baseName : null, Is.EqualTo(isPattern ? (nameSuffix is null ? null : name[..name.LastIndexOf('-')]) : name));
        });
    }

    [TestCase("machine/lxc.payload.c1/child")]
    [TestCase("other/lxc.payload.c1")]
    [TestCase("machine/lxc.payload.")]
    [TestCase("machine/foo")]
    public void ClassifyPath_dir_mode_rejects_foreign_paths(string path)
    {
        Assert.That(LxcReferenceModel.ClassifyPath(path, SharedRoot), Is.Null);
    }

    [TestCase("lxc/c1/payload/x")]
    [TestCase("lxc/c1/payload-0")]
    [TestCase("lxc/c1/payload-1000")]
    [TestCase("lxc/c1/other")]
    [TestCase("ct/a/x-b/payload")]
    public void ClassifyPath_pattern_mode_rejects_foreign_paths(string path)
    {
        var settings = path.StartsWith("ct/", StringComparison.Ordinal) ? PatternTwice : PatternLxc;
        Assert.That(LxcReferenceModel.ClassifyPath(path, settings), Is.Null);
    }

    [Test]
    public void ClassifyPath_explicit_mode_knows_only_the_pivot()
    {
        var s = ExplicitDirs with { MonitorPivotDir = "piv" };
        Assert.Multiple(() =>
        {
            Assert.That(LxcReferenceModel.ClassifyPath("ct/web", s), Is.Null);
            Assert.That(LxcReferenceModel.ClassifyPath("piv/lxc.pivot", s)?.Role, Is.EqualTo(DirRole.Pivot));
        });
    }

    [Test]
    public void ClassifyPath_pattern_without_name_gives_null()
    {
        Assert.That(LxcReferenceModel.ClassifyPath("all/payload", new LxcCgroupSettings(Pattern: "all")), Is.Null);
    }
}
