using System.Text;
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
        CgroupNamespaceKind.Private,
        MappingSource.Hook);

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
    public void A_snapshot_an_editor_saved_with_a_byte_order_mark_reads_the_same()
    {
        var store = new StateStore(StatePath);
        store.Save([Sample(), Sample("db", Manager.Libvirt)]);
        var expected = store.Load().Select(Comparable).ToList();
        File.WriteAllBytes(StatePath, [.. Encoding.UTF8.Preamble, .. File.ReadAllBytes(StatePath)]);

        Assert.That(new StateStore(StatePath).Load().Select(Comparable), Is.EqualTo(expected));
    }

    [Test]
    public void Loaded_mappings_share_one_string_per_hierarchy_key()
    {
        // A registry of 10,000 keeps ten hierarchy keys per mapping: one string each, not one per mapping.
        var store = new StateStore(StatePath);
        store.Save([Sample("a"), Sample("b")]);
        var loaded = store.Load();

        Assert.That(ReferenceEquals(loaded[0].Paths.Keys.Single(k => k == "cpuset"), loaded[1].Paths.Keys.Single(k => k == "cpuset")), Is.True);
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
    public void Flush_forces_only_what_was_written_since_the_last_one()
    {
        var store = new StateStore(StatePath) { FlushInBackground = false };
        var registry = new List<Mapping>();
        void Change(string name)
        {
            registry.Add(Sample(name));
            store.Apply(new StateChange.Put(Sample(name)), () => registry);
        }

        Change("a"); // the first change since start-up writes a snapshot
        var afterSnapshot = store.PendingSync;
        store.Flush();
        var afterFlush = store.PendingSync;
        Change("b"); // a new journal: a new directory entry too
        var afterFirstRecord = store.PendingSync;
        store.Flush();
        Change("c");
        var afterRecord = store.PendingSync;
        store.Flush();

        Assert.Multiple(() =>
        {
            Assert.That(afterSnapshot, Is.EqualTo(Unsynced.Snapshot | Unsynced.Directory));
            Assert.That(afterFlush, Is.EqualTo(Unsynced.None));
            Assert.That(afterFirstRecord, Is.EqualTo(Unsynced.Journal | Unsynced.Directory));
            Assert.That(afterRecord, Is.EqualTo(Unsynced.Journal), "a record in an existing journal: that file alone");
            Assert.That(store.PendingSync, Is.EqualTo(Unsynced.None));
            Assert.That(new StateStore(StatePath).Load().Select(m => m.Name), Is.EquivalentTo(new[] { "a", "b", "c" }));
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

    private static string Fixture(string name) =>
        Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "state-v1", name);

    private static Dictionary<string, string> P(params string[] keyDir)
    {
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < keyDir.Length; i += 2)
        {
            paths[keyDir[i]] = keyDir[i + 1];
        }

        return paths;
    }

    /// <summary>The registry fixtures/state-v1 holds (its README says how it was written).</summary>
    internal static Mapping[] TodaysFiles() =>
    [
        new(Manager.Lxc, "web", "", ContainerState.Running, 4242, "/machine/lxc.payload.web",
            P("cpuset", "/sys/fs/cgroup/cpuset/machine/lxc.payload.web", "name=systemd", "/sys/fs/cgroup/systemd/machine/lxc.payload.web",
                "unified", "/sys/fs/cgroup/unified/machine/lxc.payload.web"),
            1732841000123456, CgroupNamespaceKind.Private, MappingSource.Hook),
        new(Manager.Libvirt, "db: \"main\" #1", "c5833ee2-cac8-401e-bcf6-862a1cf9ef5e", ContainerState.Running, 5151,
            @"/machine/machine-lxc\x2d5151\x2ddb.scope",
            P("cpu,cpuacct", @"/sys/fs/cgroup/cpu,cpuacct/machine/machine-lxc\x2d5151\x2ddb.scope",
                "memory", @"/sys/fs/cgroup/memory/machine/machine-lxc\x2d5151\x2ddb.scope"),
            1732841000200000, CgroupNamespaceKind.Host, MappingSource.Adopted),
        new(Manager.Lxc, "yes", "", ContainerState.Running, 777, "/machine.slice/lxc-yes.scope",
            P("unified", "/sys/fs/cgroup/unified/machine.slice/lxc-yes.scope"),
            1732841000450000, CgroupNamespaceKind.Private, MappingSource.Hook, "lxc-yes.scope", "lxc-yes"),
        new(Manager.Lxc, "new", "", ContainerState.Prepared, 0, "", P(), 1732841000500000, CgroupNamespaceKind.Host, MappingSource.Hook),
        new(Manager.Libvirt, "t%ab 50%", "u\nv", ContainerState.Running, 9, "/machine/t\tab",
            P("cpuset", "/sys/fs/cgroup/cpuset/machine/t\tab"), 1732841000600000, CgroupNamespaceKind.Private, MappingSource.Adopted),
    ];

    [Test]
    public void State_files_written_before_the_shared_codec_read_the_same()
    {
        File.Copy(Fixture("state.yaml"), StatePath);
        File.Copy(Fixture("state.yaml.journal"), StatePath + ".journal");
        var store = new StateStore(StatePath);

        var loaded = store.Load();

        Assert.Multiple(() =>
        {
            Assert.That(loaded.Select(Comparable), Is.EquivalentTo(TodaysFiles().Select(Comparable)));
            Assert.That(store.LoadWarning, Is.Null);
        });
    }

    [Test]
    public void A_snapshot_written_through_the_emitter_before_the_shared_codec_reads_the_same()
    {
        var text = File.ReadAllText(Fixture("escaped.yaml"));

        Assert.Multiple(() =>
        {
            Assert.That(StateStore.ParseOwnFormat(text), Is.Null, "double-quoted and folded scalars are the YAML parser's");
            Assert.That(StateStore.Parse(text).Select(Comparable), Is.EqualTo(TodaysFiles().Select(Comparable)));
        });
    }

    [Test]
    public void A_snapshot_written_before_the_shared_codec_is_written_back_byte_for_byte()
    {
        var text = File.ReadAllText(Fixture("state.yaml"));
        var mappings = StateStore.ParseOwnFormat(text, out var generation);
        var writer = new StringWriter();

        StateStore.Write(writer, mappings!, generation);

        Assert.That(writer.ToString(), Is.EqualTo(text));
    }

    [Test]
    public void An_empty_registry_is_written_as_an_empty_list_and_reads_back_empty()
    {
        var writer = new StringWriter();
        StateStore.Write(writer, []);
        var text = writer.ToString();

        Assert.Multiple(() =>
        {
            Assert.That(text, Does.EndWith("\nversion: 1\ncontainers: []\ncount: 0\n"));
            Assert.That(StateStore.ParseOwnFormat(text), Is.Empty);
            Assert.That(StateStore.ParseYaml(text), Is.Empty);
        });
    }

    [TestCase("/machine/a\tb")]
    [TestCase("/machine/a\nb")]
    [TestCase("/machine/a\u2028b")]
    [TestCase("/machine/a\u200bb")]
    public void Values_that_need_escapes_are_double_quoted_and_read_back_intact(string cgroupPath)
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

    [TestCase(1)]
    [TestCase(7)]
    [TestCase(int.MaxValue)]
    public void The_file_read_in_pieces_gives_what_the_whole_text_gives(int piece)
    {
        // 2,000 entries (past the 64 KB buffer), names of two-byte characters that pieces cut in the middle, a BOM, and
        // a header comment longer than the buffer (it grows).
        var writer = new StringWriter();
        StateStore.Write(writer, Enumerable.Range(0, 2000).Select(i => Sample($"ü-ñ{i}", i % 2 == 0 ? Manager.Lxc : Manager.Libvirt)), generation: 42);
        var text = "# " + new string('x', 100_000) + "\n" + writer;
        var bytes = (byte[])[.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes(text)];

        var pieces = StateStore.ReadOwnFormat(new Trickle(bytes, piece), out var generation);
        var whole = StateStore.ParseOwnFormat(text, out var wholeGeneration);

        Assert.Multiple(() =>
        {
            Assert.That(pieces, Is.Not.Null);
            Assert.That(pieces!.Select(Comparable), Is.EqualTo(whole!.Select(Comparable)));
            Assert.That(pieces, Has.Count.EqualTo(2000));
            Assert.That((generation, wholeGeneration), Is.EqualTo((42L, 42L)));
        });
    }

    [TestCase("\r\n")]
    [TestCase("\u2028")]
    [TestCase("\0")]
    public void What_the_piecewise_reader_declines_loads_as_the_whole_text_parses(string oddity)
    {
        var writer = new StringWriter();
        StateStore.Write(writer, [Sample("a"), Sample("b", Manager.Libvirt)]);
        var text = writer.ToString().Replace("\n  name: b", oddity + "  name: b", StringComparison.Ordinal);
        if (oddity == "\r\n")
        {
            text = writer.ToString().Replace("\n", "\r\n", StringComparison.Ordinal);
        }

        File.WriteAllText(StatePath, text);
        using (var stream = File.OpenRead(StatePath))
        {
            Assert.That(StateStore.ReadOwnFormat(stream, out _), Is.Null);
        }

        string Outcome(Func<IReadOnlyList<Mapping>> load)
        {
            try
            {
                return string.Join(",", load().Select(m => m.Name));
            }
            catch (Exception e) when (e is FormatException or YamlDotNet.Core.YamlException or StateFileException)
            {
                return e is StateFileException { InnerException: { } inner } ? inner.Message : e.Message;
            }
        }

        Assert.That(Outcome(new StateStore(StatePath).Load), Is.EqualTo(Outcome(() => StateStore.Parse(text))));
    }

    /// <summary>A stream that hands out at most a few bytes a read, as a pipe or a slow disk may.</summary>
    private sealed class Trickle(byte[] data, int piece) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, piece));
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
