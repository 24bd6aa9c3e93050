using System.Text;
using Interop.Core.Adapters.Libvirt;
using Interop.Core.Model;

namespace Interop.Core.Tests.Adapters.Libvirt;

public class LibvirtHookTests
{
    private const string Uuid = "c5833ee2-cac8-401e-bcf6-862a1cf9ef5e";

    private static readonly string[] CaptureFiles =
    [
        "libvirt-9.0.0-lxc-lifecycle.txt",
        "libvirt-9.0.0-lxc-partition-shared.txt",
        "libvirt-9.0.0-lxc-failed-start.txt",
    ];

    private static IEnumerable<TestCaseData> Captures() =>
        CaptureFiles.SelectMany(HookCapture.Load).Select(c => new TestCaseData(c).SetName(c.ToString()));

    // What each captured call must become: (file, call) -> event, name, uuid, leader, partition.
    private static readonly Dictionary<(string File, int Call), (LifecycleEvent Event, string Name, string Uuid, int? Leader, string Partition)> Expected = new()
    {
        [("libvirt-9.0.0-lxc-lifecycle.txt", 15)] = (LifecycleEvent.Prepare, "e-lv-rt", Uuid, null, "/machine"),
        [("libvirt-9.0.0-lxc-lifecycle.txt", 16)] = (LifecycleEvent.Start, "e-lv-rt", Uuid, null, "/machine"),
        [("libvirt-9.0.0-lxc-lifecycle.txt", 17)] = (LifecycleEvent.Started, "e-lv-rt", Uuid, 16923, "/machine"),
        [("libvirt-9.0.0-lxc-lifecycle.txt", 18)] = (LifecycleEvent.Stopped, "e-lv-rt", Uuid, 16923, "/machine"),
        [("libvirt-9.0.0-lxc-lifecycle.txt", 19)] = (LifecycleEvent.Released, "e-lv-rt", Uuid, null, "/machine"),
        [("libvirt-9.0.0-lxc-partition-shared.txt", 10)] = (LifecycleEvent.Prepare, "e-lv1", "0162eadf-53c1-4c5e-ab46-977102d35ef0", null, "/shared"),
        [("libvirt-9.0.0-lxc-partition-shared.txt", 11)] = (LifecycleEvent.Start, "e-lv1", "0162eadf-53c1-4c5e-ab46-977102d35ef0", null, "/shared"),
        [("libvirt-9.0.0-lxc-partition-shared.txt", 12)] = (LifecycleEvent.Started, "e-lv1", "0162eadf-53c1-4c5e-ab46-977102d35ef0", 14178, "/shared"),
        [("libvirt-9.0.0-lxc-partition-shared.txt", 13)] = (LifecycleEvent.Stopped, "e-lv1", "0162eadf-53c1-4c5e-ab46-977102d35ef0", 14178, "/shared"),
        [("libvirt-9.0.0-lxc-partition-shared.txt", 14)] = (LifecycleEvent.Released, "e-lv1", "0162eadf-53c1-4c5e-ab46-977102d35ef0", null, "/shared"),
        [("libvirt-9.0.0-lxc-failed-start.txt", 6)] = (LifecycleEvent.Prepare, "e-lv1", "0162eadf-53c1-4c5e-ab46-977102d35ef0", null, "/shared"),
        [("libvirt-9.0.0-lxc-failed-start.txt", 7)] = (LifecycleEvent.Start, "e-lv1", "0162eadf-53c1-4c5e-ab46-977102d35ef0", null, "/shared"),
        [("libvirt-9.0.0-lxc-failed-start.txt", 8)] = (LifecycleEvent.Stopped, "e-lv1", "0162eadf-53c1-4c5e-ab46-977102d35ef0", 13999, "/shared"),
        [("libvirt-9.0.0-lxc-failed-start.txt", 9)] = (LifecycleEvent.Released, "e-lv1", "0162eadf-53c1-4c5e-ab46-977102d35ef0", null, "/shared"),
    };

    [Test]
    public void Every_capture_has_an_expectation()
    {
        var loaded = CaptureFiles.SelectMany(HookCapture.Load).Select(c => (c.File, c.Call)).ToList();
        Assert.That(loaded, Is.EquivalentTo(Expected.Keys));
    }

    [TestCaseSource(nameof(Captures))]
    public void Captured_call_parses_end_to_end(HookCapture capture)
    {
        var expected = Expected[(capture.File, capture.Call)];
        var call = LibvirtHook.Parse(capture.Args, capture.Stdin);

        Assert.Multiple(() =>
        {
            Assert.That(call.Manager, Is.EqualTo(Manager.Libvirt));
            Assert.That(call.Event, Is.EqualTo(expected.Event));
            Assert.That(call.Name, Is.EqualTo(expected.Name));
            Assert.That(call.HookType, Is.EqualTo(capture.Args[1]));
            Assert.That(call.Leader, Is.EqualTo(expected.Leader));
            Assert.That(call.Facts[FactKeys.Uuid], Is.EqualTo(expected.Uuid));
            Assert.That(call.Facts[FactKeys.Partition], Is.EqualTo(expected.Partition));
            Assert.That(call.Facts[FactKeys.Hook], Is.EqualTo(capture.Args[1]));
            Assert.That(call.Facts.ContainsKey(FactKeys.Reason), Is.False);
        });

        // The same bytes through the byte overload give the same call.
        var fromBytes = LibvirtHook.Parse(capture.Args, Encoding.UTF8.GetBytes(capture.Stdin));
        Assert.That(fromBytes with { Facts = call.Facts }, Is.EqualTo(call));
        Assert.That(fromBytes.Facts, Is.EquivalentTo(call.Facts));
    }

    /// <summary>The leaf computed from a started call is the dir the leader really was in.</summary>
    [TestCaseSource(nameof(Captures))]
    public void Captured_started_call_predicts_the_leaders_cgroup(HookCapture capture)
    {
        var call = LibvirtHook.Parse(capture.Args, capture.Stdin);
        if (call.Event != LifecycleEvent.Started)
        {
            Assert.That(call.Event, Is.Not.EqualTo(LifecycleEvent.Started));
            return;
        }

        var layout = new LibvirtLayout(LibvirtNamesTests.Controllers);
        var leaf = LibvirtNamesTests.LeafName(LibvirtNames.MachineName(call.Leader!.Value, call.Name), LibvirtNamesTests.Controllers);
        var expectedPath = "/" + layout.ParentDir("machine", call.Facts) + "/" + leaf;
        var cpuLine = capture.LeaderCgroup.Single(l => l.Split(':')[1] == "cpu");
        Assert.That(cpuLine.Split(':')[2], Is.EqualTo(expectedPath));
        Assert.That(layout.Classify(leaf), Is.EqualTo(new Interop.Core.Adapters.LayoutMatch(Manager.Libvirt, Interop.Core.Adapters.DirRole.Payload, call.Name, call.Leader)));
        Assert.That(layout.IsStaleDirOf(leaf, call.Name), Is.True);
    }

    [TestCase("prepare", LifecycleEvent.Prepare)]
    [TestCase("start", LifecycleEvent.Start)]
    [TestCase("started", LifecycleEvent.Started)]
    [TestCase("stopped", LifecycleEvent.Stopped)]
    [TestCase("release", LifecycleEvent.Released)]
    [TestCase("reconnect", LifecycleEvent.Reconnect)]
    [TestCase("migrate", LifecycleEvent.Ignored)]
    [TestCase("restore", LifecycleEvent.Ignored)]
    [TestCase("attach", LifecycleEvent.Ignored)]
    public void Ops_map_to_events(string op, LifecycleEvent expected)
    {
        var call = LibvirtHook.Parse(["web", op, "begin", "-"], Xml("web", id: "4242"));
        Assert.That(call.Event, Is.EqualTo(expected));
        Assert.That(call.HookType, Is.EqualTo(op));
    }

    [TestCase(new[] { "web", "release", "end", "-" }, null, TestName = "dash means no reason")]
    [TestCase(new[] { "web", "release", "end", "destroyed" }, "destroyed", TestName = "one-word reason")]
    [TestCase(new[] { "web", "release", "end", "shutdown by guest" }, "shutdown by guest", TestName = "reason with spaces in one argument")]
    [TestCase(new[] { "web", "release", "end", "shutdown", "by", "guest" }, "shutdown by guest", TestName = "reason split by a shell is joined back")]
    [TestCase(new[] { "web", "release", "end" }, null, TestName = "no extra argument at all")]
    public void Release_reason(string[] args, string? reason)
    {
        var call = LibvirtHook.Parse(args, Xml("web"));
        Assert.That(call.Event, Is.EqualTo(LifecycleEvent.Released));
        Assert.That(call.Facts.TryGetValue(FactKeys.Reason, out var actual) ? actual : null, Is.EqualTo(reason));
    }

    [Test]
    public void Reason_with_a_control_character_is_refused()
    {
        var ex = Assert.Throws<InvalidInputException>(() => LibvirtHook.Parse(["web", "release", "end", "a\u001bb"], Xml("web")));
        Assert.That(ex!.Field, Is.EqualTo(FactKeys.Reason));
    }

    [Test]
    public void Partition_defaults_to_machine()
    {
        var call = LibvirtHook.Parse(["web", "prepare", "begin", "-"], Xml("web", partition: null));
        Assert.That(call.Facts[FactKeys.Partition], Is.EqualTo("/machine"));
    }

    [Test]
    public void Predefined_entities_in_the_name_are_read()
    {
        var call = LibvirtHook.Parse(["a&b", "prepare", "begin", "-"], Xml("a&amp;b"));
        Assert.That(call.Name, Is.EqualTo("a&b"));
    }

    [Test]
    public void Nothing_comes_from_the_environment()
    {
        Environment.SetEnvironmentVariable("LXC_PID", "4242");
        try
        {
            var call = LibvirtHook.Parse(["web", "prepare", "begin", "-"], Xml("web"));
            Assert.That(call.Leader, Is.Null);
        }
        finally
        {
            Environment.SetEnvironmentVariable("LXC_PID", null);
        }
    }

    private static IEnumerable<TestCaseData> HostileXml()
    {
        yield return new TestCaseData("<!DOCTYPE domain [<!ELEMENT domain ANY>]><domain type='lxc'><name>web</name><uuid>" + Uuid + "</uuid></domain>", "xml").SetName("DTD");
        yield return new TestCaseData("<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><domain type='lxc'><name>&x;</name></domain>", "xml").SetName("external entity");
        yield return new TestCaseData(
            "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>" +
            "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]><domain type='lxc'><name>&lol3;</name></domain>", "xml").SetName("billion laughs");
        yield return new TestCaseData("<domain type='lxc'><name>web</name>", "xml").SetName("truncated");
        yield return new TestCaseData("not xml at all", "xml").SetName("not XML");
        yield return new TestCaseData("", "xml").SetName("empty stdin");
        yield return new TestCaseData(Xml("web") + "<domain type='lxc'/>", "xml").SetName("second root");
        yield return new TestCaseData("<network><name>web</name></network>", "xml").SetName("wrong root");
        yield return new TestCaseData("<d:domain xmlns:d='urn:x' type='lxc'><name>web</name></d:domain>", "xml").SetName("namespaced root");
        yield return new TestCaseData(Xml("web").Replace("type='lxc'", "type='kvm'", StringComparison.Ordinal), "xml").SetName("qemu domain");
        yield return new TestCaseData(Xml("web").Replace(" type='lxc'", "", StringComparison.Ordinal), "xml").SetName("no type");
        yield return new TestCaseData(Xml("other"), "name").SetName("name mismatch");
        yield return new TestCaseData("<domain type='lxc'><uuid>" + Uuid + "</uuid></domain>", "xml").SetName("no name");
        yield return new TestCaseData("<domain type='lxc'><name>web</name><name>web</name><uuid>" + Uuid + "</uuid></domain>", "xml").SetName("two names");
        yield return new TestCaseData("<domain type='lxc'><name>web</name></domain>", "uuid").SetName("no uuid");
        yield return new TestCaseData(Xml("web").Replace(Uuid, "not-a-uuid", StringComparison.Ordinal), "uuid").SetName("bad uuid");
        yield return new TestCaseData(Xml("web", partition: "machine"), "partition").SetName("relative partition");
        yield return new TestCaseData(Xml("web", partition: "/machine/../etc"), "partition").SetName("partition with dot-dot");
        yield return new TestCaseData(Xml("web", partition: "/"), "partition").SetName("root partition");
    }

    [TestCaseSource(nameof(HostileXml))]
    public void Hostile_or_wrong_xml_is_refused(string xml, string field)
    {
        var ex = Assert.Throws<InvalidInputException>(() => LibvirtHook.Parse(["web", "prepare", "begin", "-"], xml));
        Assert.That(ex!.Field, Is.EqualTo(field));
        var fromBytes = Assert.Throws<InvalidInputException>(() => LibvirtHook.Parse(["web", "prepare", "begin", "-"], Encoding.UTF8.GetBytes(xml)));
        Assert.That(fromBytes!.Field, Is.EqualTo(field));
    }

    [Test]
    public void Xml_over_one_MiB_is_refused_with_one_clear_error()
    {
        var padding = new string(' ', LibvirtHook.MaxXmlBytes);
        var xml = Xml("web").Replace("<name>", padding + "<name>", StringComparison.Ordinal);
        var ex = Assert.Throws<InvalidInputException>(() => LibvirtHook.Parse(["web", "prepare", "begin", "-"], xml));
        Assert.That(ex!.Field, Is.EqualTo("xml"));
        Assert.That(ex.Message, Does.Contain("1 MiB"));
        var fromBytes = Assert.Throws<InvalidInputException>(() => LibvirtHook.Parse(["web", "prepare", "begin", "-"], Encoding.UTF8.GetBytes(xml)));
        Assert.That(fromBytes!.Message, Does.Contain("1 MiB"));
    }

    [Test]
    public void Xml_just_under_one_MiB_is_read()
    {
        var doc = Xml("web");
        var padding = new string(' ', LibvirtHook.MaxXmlBytes - doc.Length);
        var xml = doc.Replace("<name>", padding + "<name>", StringComparison.Ordinal);
        Assert.That(Encoding.UTF8.GetByteCount(xml), Is.EqualTo(LibvirtHook.MaxXmlBytes));
        Assert.That(LibvirtHook.Parse(["web", "prepare", "begin", "-"], xml).Name, Is.EqualTo("web"));
    }

    [TestCase("started")]
    [TestCase("reconnect")]
    public void Started_and_reconnect_need_the_id(string op)
    {
        var ex = Assert.Throws<InvalidInputException>(() => LibvirtHook.Parse(["web", op, "begin", "-"], Xml("web", id: null)));
        Assert.That(ex!.Field, Is.EqualTo("id"));
    }

    [TestCase("abc")]
    [TestCase("0")]
    [TestCase("1")]
    [TestCase("-5")]
    [TestCase("")]
    [TestCase("99999999999")]
    [TestCase("12 ")]
    public void Bad_ids_are_refused(string id)
    {
        var ex = Assert.Throws<InvalidInputException>(() => LibvirtHook.Parse(["web", "started", "begin", "-"], Xml("web", id: id)));
        Assert.That(ex!.Field, Is.EqualTo("id"));
    }

    [TestCase("started", 4242)]
    [TestCase("reconnect", 4242)]
    [TestCase("stopped", 4242)]
    public void The_id_is_the_leader(string op, int pid)
    {
        Assert.That(LibvirtHook.Parse(["web", op, "begin", "-"], Xml("web", id: pid.ToString(System.Globalization.CultureInfo.InvariantCulture))).Leader, Is.EqualTo(pid));
    }

    private static IEnumerable<TestCaseData> HostileArgv()
    {
        yield return new TestCaseData(new[] { "/", "prepare", "begin", "-" }, "name").SetName("name is a slash");
        yield return new TestCaseData(new[] { "a/b", "prepare", "begin", "-" }, "name").SetName("name has a slash");
        yield return new TestCaseData(new[] { "..", "prepare", "begin", "-" }, "name").SetName("name is dot-dot");
        yield return new TestCaseData(new[] { ".", "prepare", "begin", "-" }, "name").SetName("name is dot");
        yield return new TestCaseData(new[] { "a\0b", "prepare", "begin", "-" }, "name").SetName("name has NUL");
        yield return new TestCaseData(new[] { "a\nb", "prepare", "begin", "-" }, "name").SetName("name has newline");
        yield return new TestCaseData(new[] { "a\u0001b", "prepare", "begin", "-" }, "name").SetName("name has a control char");
        yield return new TestCaseData(new[] { new string('n', 256), "prepare", "begin", "-" }, "name").SetName("name of 256 bytes");
        yield return new TestCaseData(new[] { new string('é', 128), "prepare", "begin", "-" }, "name").SetName("name of 256 UTF-8 bytes");
        yield return new TestCaseData(new[] { "", "prepare", "begin", "-" }, "name").SetName("empty name");
        yield return new TestCaseData(new[] { "web", "pre\npare", "begin", "-" }, "op").SetName("op with newline");
        yield return new TestCaseData(new[] { "web", "", "begin", "-" }, "op").SetName("empty op");
        yield return new TestCaseData(new[] { "web", "prepare", "be/gin", "-" }, "subop").SetName("subop with slash");
        yield return new TestCaseData(new[] { "web", "prepare" }, "argv").SetName("too few arguments");
        yield return new TestCaseData(Array.Empty<string>(), "argv").SetName("no arguments");
    }

    [TestCaseSource(nameof(HostileArgv))]
    public void Hostile_argv_is_refused_naming_the_field(string[] args, string field)
    {
        var ex = Assert.Throws<InvalidInputException>(() => LibvirtHook.Parse(args, Xml("web")));
        Assert.That(ex!.Field, Is.EqualTo(field));
    }

    [Test]
    public void A_255_byte_name_is_accepted()
    {
        var name = new string('n', 255);
        Assert.That(LibvirtHook.Parse([name, "prepare", "begin", "-"], Xml(name)).Name, Is.EqualTo(name));
    }

    private static string Xml(string name, string? id = null, string? partition = "/machine")
    {
        var idAttr = id is null ? "" : $" id='{id}'";
        var resource = partition is null ? "" : $"<resource><partition>{partition}</partition></resource>";
        return $"<domain type='lxc'{idAttr}>\n  <name>{name}</name>\n  <uuid>{Uuid}</uuid>\n  {resource}\n  <os><type arch='x86_64'>exe</type></os>\n</domain>\n";
    }
}
