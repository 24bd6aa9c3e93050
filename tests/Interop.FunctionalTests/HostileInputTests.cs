using Interop.Core;
using Interop.Core.Model;
using Interop.FunctionalTests.Support;

namespace Interop.FunctionalTests;

/// <summary>
/// DESIGN.md section 11 through the bus: hostile names, keys, paths and pids get the right error name, create
/// nothing (the scratch tree listing is unchanged) and leave the daemon answering.
/// </summary>
[TestFixture]
public class HostileInputTests
{
    private const string Invalid = "org.interop.Interop1.Error.InvalidArgument";
    private static readonly Dictionary<string, string> NoFacts = [];
    private Rig _rig = null!;
    private IReadOnlyList<string> _before = [];

    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var name in new[] { "a/b", "..", ".", "../../etc", "ctl\u0001x", "tab\tname", "new\nline", new string('a', 256), "\u00e9" + new string('b', 254), string.Empty })
        {
            yield return new TestCaseData("prepare", name, string.Empty).SetArgDisplayNames("prepare", Printable.Of(name.Length > 20 ? name[..20] + "..." : name));
        }

        foreach (var key in new[] { "cgroup.procs", "tasks", "release_agent", "notify_on_release", "cgroup.subtree_control", "../x", "cpuset.cpus/../../x", "CPU.shares", "nodot", "" })
        {
            yield return new TestCaseData("get", "h1", key).SetArgDisplayNames("get", key);
            yield return new TestCaseData("set", "h1", key).SetArgDisplayNames("set", key);
        }

        yield return new TestCaseData("cgroup", "../x", string.Empty).SetArgDisplayNames("by-cgroup", "../x");
        yield return new TestCaseData("partition", "/../../etc", string.Empty).SetArgDisplayNames("partition", "/../../etc");
        yield return new TestCaseData("partition", "relative/web", string.Empty).SetArgDisplayNames("partition", "relative/web");
    }

    [OneTimeSetUp]
    public void StartOneContainer()
    {
        _rig = Rig.Start();
        Sync.Run(_rig.Client.PrepareContainerAsync(Manager.Lxc, "h1", NoFacts));
        var (leader, _) = _rig.StartLxcTasks("h1");
        Sync.Run(_rig.Client.RegisterContainerAsync(Manager.Lxc, "h1", (uint)leader, NoFacts));
    }

    [OneTimeTearDown]
    public void TearDown() => _rig?.Dispose();

    [SetUp]
    public void Snapshot() => _before = _rig.Scratch.Listing();

    [TestCaseSource(nameof(Cases))]
    public void HostileInput_IsInvalidArgument_AndCreatesNothing(string what, string name, string key)
    {
        var client = _rig.Client;
        TestDelegate call = what switch
        {
            "prepare" => () => Sync.Run(client.PrepareContainerAsync(Manager.Lxc, name, NoFacts)),
            "get" => () => Sync.Run(client.GetValueAsync(Manager.Lxc, name, key)),
            "set" => () => Sync.Run(client.SetValueAsync(Manager.Lxc, name, key, "1")),
            "cgroup" => () => Sync.Run(client.GetContainerByCgroupAsync(name)),
            _ => () => Sync.Run(client.PrepareContainerAsync(Manager.Libvirt, "p1", new Dictionary<string, string> { ["partition"] = name })),
        };
        var e = Assert.Throws<InvalidInputException>(call);
        Assert.That(e!.ErrorName, Is.EqualTo(Invalid));
        AssertNothingChanged();
    }

    [TestCase(0u)]
    [TestCase(1u)]
    [TestCase(4194304u)]
    [TestCase(uint.MaxValue)]
    public void RegisterWithABadPid_IsInvalidArgument(uint pid)
    {
        var e = Assert.Throws<InvalidInputException>(() => Sync.Run(_rig.Client.RegisterContainerAsync(Manager.Lxc, "p" + pid, pid, NoFacts)));
        Assert.That(e!.ErrorName, Is.EqualTo(Invalid));
        AssertNothingChanged();
    }

    [Test]
    public void GetValue_OfAnUnknownContainer_IsNoSuchContainer()
    {
        var e = Assert.Throws<NoSuchContainerException>(() => Sync.Run(_rig.Client.GetValueAsync(Manager.Lxc, "nobody", "cpuset.cpus")));
        Assert.That(e!.ErrorName, Is.EqualTo("org.interop.Interop1.Error.NoSuchContainer"));
        AssertNothingChanged();
    }

    private void AssertNothingChanged()
    {
        Assert.That(_rig.Scratch.Listing(), Is.EqualTo(_before), "nothing created or removed");
        Assert.That(Sync.Run(_rig.Client.ListContainersAsync()).Select(m => m.Name), Is.EqualTo(new[] { "h1" }), "the daemon still answers, registry unchanged");
        Assert.That(_rig.Daemon.HasExited, Is.False);
    }
}
