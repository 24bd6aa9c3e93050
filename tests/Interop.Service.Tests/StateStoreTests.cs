using Interop.Core.Model;

namespace Interop.Service.Tests;

public sealed class StateStoreTests
{
    private string _dir = "";

    [SetUp]
    public void CreateDir() => _dir = Directory.CreateTempSubdirectory("interop-state-").FullName;

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    private string StatePath => Path.Combine(_dir, "state.yaml");

    internal static Mapping Sample(string name = "web.01-a", Manager manager = Manager.Lxc) => new(
        manager,
        name,
        manager == Manager.Libvirt ? "c5833ee2-cac8-401e-bcf6-862a1cf9ef5e" : "",
        ContainerState.Running,
        4242,
        $"/machine/lxc.payload.{name}",
        new Dictionary<string, string>
        {
            ["cpuset"] = $"/sys/fs/cgroup/cpuset/machine/lxc.payload.{name}",
            ["name=systemd"] = $"/sys/fs/cgroup/systemd/machine/lxc.payload.{name}",
        },
        1732841000123456,
        Mapping.NamespacePrivate,
        Mapping.SourceHook);

    [Test]
    public void Save_then_load_gives_back_every_field()
    {
        var store = new StateStore(StatePath);
        var saved = new[] { Sample(), Sample("db: \"quoted\" #x", Manager.Libvirt) };

        store.Save(saved);
        var loaded = store.Load();

        Assert.That(loaded, Has.Count.EqualTo(2));
        for (var i = 0; i < saved.Length; i++)
        {
            Assert.Multiple(() =>
            {
                Assert.That(loaded[i] with { Paths = saved[i].Paths }, Is.EqualTo(saved[i]));
                Assert.That(loaded[i].Paths, Is.EquivalentTo(saved[i].Paths));
            });
        }
    }

    [Test]
    public void Save_replaces_the_file_and_leaves_no_temp_file()
    {
        var store = new StateStore(StatePath);
        store.Save([Sample("a")]);
        store.Save([Sample("b")]);

        Assert.Multiple(() =>
        {
            Assert.That(store.Load().Select(m => m.Name), Is.EqualTo(new[] { "b" }));
            Assert.That(Directory.GetFiles(_dir), Is.EqualTo(new[] { StatePath }));
        });
    }

    [Test]
    public void A_file_cut_at_any_line_boundary_is_torn_not_a_shorter_registry()
    {
        var store = new StateStore(StatePath);
        store.Save([Sample("a"), Sample("b"), Sample("c")]);
        var lines = File.ReadAllLines(StatePath);

        for (var keep = 1; keep < lines.Length; keep++)
        {
            File.WriteAllLines(StatePath, lines.Take(keep));
            Assert.Throws<StateFileException>(() => store.Load(), $"cut after line {keep} of {lines.Length}");
        }
    }

    [Test]
    public void Save_makes_the_content_visible_at_once_and_Flush_settles_the_queued_fsync()
    {
        var store = new StateStore(StatePath);

        store.Save([Sample("a")]);
        var visible = new StateStore(StatePath).Load();
        store.Flush();

        Assert.Multiple(() =>
        {
            Assert.That(visible.Select(m => m.Name), Is.EqualTo(new[] { "a" }), "readable before any fsync");
            Assert.That(store.FlushPending, Is.False);
            Assert.That(store.Load().Select(m => m.Name), Is.EqualTo(new[] { "a" }));
        });
    }

    [Test]
    public void A_missing_file_is_an_empty_registry()
    {
        Assert.That(new StateStore(Path.Combine(_dir, "none", "state.yaml")).Load(), Is.Empty);
    }

    [TestCase("garbage: [")]
    [TestCase("version: 1\ncontainers:\n  - manager: lxc\n")]
    [TestCase("version: 2\ncontainers: []\n")]
    [TestCase("version: 1\ncontainers:\n  - {manager: zz, name: a, uuid: '', state: running, leader: 5, cgroup_path: /x, since: 1, cgroup_namespace: host, source: hook, paths: {}}\n")]
    [TestCase("version: 1\ncontainers:\n  - {manager: lxc, name: ../x, uuid: '', state: running, leader: 5, cgroup_path: /x, since: 1, cgroup_namespace: host, source: hook, paths: {}}\n")]
    [TestCase("\0\0\0")]
    [TestCase("")]
    [TestCase("# only a comment\n")]
    public void A_corrupt_file_is_reported_and_can_be_kept_aside(string text)
    {
        File.WriteAllText(StatePath, text);
        var store = new StateStore(StatePath);

        var e = Assert.Throws<StateFileException>(() => store.Load())!;
        var aside = store.KeepAside();

        Assert.Multiple(() =>
        {
            Assert.That(e.Message, Does.StartWith(StatePath + ": "));
            Assert.That(File.Exists(StatePath), Is.False);
            Assert.That(File.ReadAllText(aside), Is.EqualTo(text));
            Assert.That(aside, Does.StartWith(StatePath + ".corrupt-"));
        });
    }

    [TestCase("web.01-a")]
    [TestCase("db: \"q\" #x")]
    [TestCase("null")]
    [TestCase("it's")]
    [TestCase("-x")]
    [TestCase("ü-ñ")]
    [TestCase("a,b")]
    [TestCase("'quoted'")]
    [TestCase("#hash")]
    [TestCase("tail ")]
    [TestCase(" lead")]
    [TestCase("colon:")]
    [TestCase("[x]")]
    [TestCase("true")]
    [TestCase("No")]
    [TestCase("~")]
    [TestCase("a: b")]
    [TestCase("@x")]
    [TestCase("x@y=z+1")]
    [TestCase("%x")]
    [TestCase("ë")]
    public void The_fast_reader_and_the_YAML_parser_agree_on_what_Write_writes(string name)
    {
        var mappings = new[] { Sample(name), Sample("plain", Manager.Libvirt) with { Paths = new Dictionary<string, string>() } };
        var writer = new StringWriter();
        StateStore.Write(writer, mappings);
        var text = writer.ToString();

        var fast = StateStore.ParseOwnFormat(text);
        var full = StateStore.ParseYaml(text);

        Assert.Multiple(() =>
        {
            Assert.That(full.Select(Comparable), Is.EqualTo(mappings.Select(Comparable)));
            Assert.That(fast, Is.Not.Null, "the reader takes everything the writer writes without escapes");
            Assert.That(fast!.Select(Comparable), Is.EqualTo(full.Select(Comparable)));
        });
    }

    [Test]
    public void Ordinary_registries_are_written_exactly_as_the_YAML_emitter_writes_them()
    {
        var mappings = Enumerable.Range(0, 20).Select(i => Sample($"c{i}", i % 2 == 0 ? Manager.Lxc : Manager.Libvirt))
            .Append(Sample("prepared") with { State = ContainerState.Prepared, Leader = 0, CgroupPath = "", Paths = new Dictionary<string, string>() })
            .Append(Sample(@"lxc\x2dweb") with { CgroupPath = @"/machine.slice/machine-lxc\x2d42\x2dweb.scope" })
            .ToList();
        var fast = new StringWriter();
        var yaml = new StringWriter();
        StateStore.Write(fast, mappings);
        StateStore.WriteYaml(yaml, mappings);

        Assert.That(fast.ToString(), Is.EqualTo(yaml.ToString()));
    }

    [Test]
    public void An_empty_registry_is_written_as_the_emitter_writes_it_and_reads_back_empty()
    {
        var fast = new StringWriter();
        var yaml = new StringWriter();
        StateStore.Write(fast, []);
        StateStore.WriteYaml(yaml, []);

        Assert.Multiple(() =>
        {
            Assert.That(fast.ToString(), Is.EqualTo(yaml.ToString()));
            Assert.That(StateStore.ParseOwnFormat(fast.ToString()), Is.Empty);
        });
    }

    [TestCase("/machine/a\tb")]
    [TestCase("/machine/a\nb")]
    [TestCase("/machine/a\u2028b")]
    [TestCase("/machine/a\u200bb")]
    public void Values_that_need_escapes_go_through_the_emitter_and_read_back_intact(string cgroupPath)
    {
        var mapping = Sample("web") with { CgroupPath = cgroupPath };
        var writer = new StringWriter();
        StateStore.Write(writer, [mapping]);

        Assert.That(StateStore.Parse(writer.ToString()).Select(Comparable), Is.EqualTo(new[] { Comparable(mapping) }));
    }

    [Test]
    public void Prepared_containers_without_paths_take_the_fast_reader()
    {
        var writer = new StringWriter();
        StateStore.Write(writer, [Sample("p") with { State = ContainerState.Prepared, Paths = new Dictionary<string, string>() }]);

        Assert.That(StateStore.ParseOwnFormat(writer.ToString()), Has.Count.EqualTo(1));
    }

    private static readonly Dictionary<string, string> NoPaths = [];

    // Records compare dictionaries by reference: compare the paths as text instead.
    private static (Mapping, string) Comparable(Mapping m) =>
        (m with { Paths = NoPaths }, string.Join(";", m.Paths.OrderBy(p => p.Key, StringComparer.Ordinal)));

    [Test]
    public void Ordinary_registries_take_the_fast_reader()
    {
        var writer = new StringWriter();
        StateStore.Write(writer, Enumerable.Range(0, 50).Select(i => Sample($"c{i}")));

        Assert.That(StateStore.ParseOwnFormat(writer.ToString()), Has.Count.EqualTo(50));
    }

    [TestCase("name: web # a note", "web")]
    [TestCase("name: \"web\"", "web")]
    [TestCase("name:   web", "web")]
    public void Hand_edits_the_fast_reader_does_not_know_fall_back_to_the_YAML_parser(string nameLine, string expected)
    {
        var writer = new StringWriter();
        StateStore.Write(writer, [Sample("orig")]);
        var text = writer.ToString().Replace("  name: orig", "  " + nameLine, StringComparison.Ordinal);

        Assert.Multiple(() =>
        {
            Assert.That(StateStore.ParseOwnFormat(text), Is.Null);
            Assert.That(StateStore.Parse(text).Single().Name, Is.EqualTo(expected));
        });
    }
}
