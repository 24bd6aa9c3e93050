using Interop.Core.Model;

namespace Interop.Service.Tests;

/// <summary>The state file's journal: changes appended, replayed on load, compacted into the snapshot.</summary>
public sealed class StateJournalTests
{
    private string _dir = "";

    [SetUp]
    public void CreateDir() => _dir = Directory.CreateTempSubdirectory("interop-journal-").FullName;

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    private string StatePath => Path.Combine(_dir, "state.yaml");

    private static Mapping Sample(string name) => StateStoreTests.Sample(name);

    /// <summary>A store that has written its first snapshot, and the registry it tracks.</summary>
    private (StateStore Store, Dictionary<ContainerId, Mapping> Registry) Started(params string[] names)
    {
        var registry = names.Select(Sample).ToDictionary(m => m.Id);
        var store = new StateStore(StatePath);
        store.Save(registry.Values);
        return (store, registry);
    }

    private static void Change(StateStore store, Dictionary<ContainerId, Mapping> registry, StateChange change)
    {
        change.ApplyTo(registry);
        store.Apply(change, () => registry.Values.ToList());
    }

    private static string[] Names(IEnumerable<Mapping> mappings) => [.. mappings.Select(m => $"{m.Name}:{m.State.ToWire()}:{m.Leader}").Order(StringComparer.Ordinal)];

    [Test]
    public void A_crash_between_the_snapshot_rename_and_the_journal_removal_never_replays_the_old_journal()
    {
        var (store, registry) = Started("a");
        Change(store, registry, new StateChange.Put(Sample("b")));
        Change(store, registry, new StateChange.Put(Sample("a") with { State = ContainerState.Prepared }));
        var oldJournal = File.ReadAllBytes(store.JournalPath);

        // The next rewrite (b released, a stopping), then the old journal as a crash would have left it.
        registry.Remove(Sample("b").Id);
        registry[Sample("a").Id] = Sample("a") with { State = ContainerState.Stopping };
        store.Save(registry.Values);
        File.WriteAllBytes(store.JournalPath, oldJournal);

        var reader = new StateStore(StatePath);
        var loaded = reader.Load();

        Assert.Multiple(() =>
        {
            Assert.That(Names(loaded), Is.EqualTo(new[] { "a:stopping:4242" }), "no ghost of b, no older state of a");
            Assert.That(reader.LoadWarning, Does.Contain("passed over"));
        });

        // A journal that follows the snapshot is still replayed after a restart.
        Change(reader, registry, new StateChange.Put(Sample("c")));
        Change(reader, registry, new StateChange.Put(Sample("d")));
        Assert.That(Names(new StateStore(StatePath).Load()), Is.EqualTo(new[] { "a:stopping:4242", "c:running:4242", "d:running:4242" }));
    }

    [Test]
    public void Changes_go_to_the_journal_and_load_replays_them_on_the_snapshot()
    {
        var (store, registry) = Started("a", "b");
        var snapshot = File.ReadAllText(StatePath);

        Change(store, registry, new StateChange.Put(Sample("c")));
        Change(store, registry, new StateChange.Put(Sample("a") with { State = ContainerState.Stopping, Leader = 7 }));
        Change(store, registry, new StateChange.Removed(new ContainerId(Manager.Lxc, "b")));

        Assert.Multiple(() =>
        {
            Assert.That(File.ReadAllText(StatePath), Is.EqualTo(snapshot), "the snapshot is not rewritten for a change");
            Assert.That(File.ReadAllLines(store.JournalPath), Has.Length.EqualTo(4), "a header, then one line a change");
            Assert.That(Names(new StateStore(StatePath).Load()), Is.EqualTo(new[] { "a:stopping:7", "c:running:4242" }));
        });
    }

    [Test]
    public void The_first_change_after_start_up_writes_a_snapshot_and_empties_the_journal()
    {
        var (first, registry) = Started("a");
        Change(first, registry, new StateChange.Put(Sample("b")));
        Assert.That(File.Exists(first.JournalPath), Is.True);

        var restarted = new StateStore(StatePath);
        var loaded = restarted.Load().ToDictionary(m => m.Id);
        Change(restarted, loaded, new StateChange.Put(Sample("c")));

        Assert.Multiple(() =>
        {
            Assert.That(File.Exists(restarted.JournalPath), Is.False);
            Assert.That(File.ReadAllText(StatePath), Does.Contain("name: c").And.Contain("name: b"));
            Assert.That(Names(new StateStore(StatePath).Load()), Is.EqualTo(new[] { "a:running:4242", "b:running:4242", "c:running:4242" }));
        });
    }

    [Test]
    public void A_journal_that_outgrows_the_snapshot_is_folded_into_a_new_snapshot()
    {
        var (store, registry) = Started("a");
        var records = 0;
        while (File.Exists(store.JournalPath) || records == 0)
        {
            Change(store, registry, new StateChange.Put(Sample("a") with { Leader = 1000 + records }));
            records++;
            Assert.That(records, Is.LessThan(10_000), "the journal never folded");
        }

        Assert.Multiple(() =>
        {
            Assert.That(records * 200, Is.GreaterThan(StateStore.MinJournalBytes), "folded only once past the minimum");
            Assert.That(File.ReadAllText(StatePath), Does.Contain($"leader: {1000 + records - 1}"));
            Assert.That(Names(new StateStore(StatePath).Load()), Is.EqualTo(new[] { $"a:running:{1000 + records - 1}" }));
        });
    }

    [TestCase("cut")]
    [TestCase("nul")]
    [TestCase("altered")]
    public void A_torn_last_record_is_dropped_with_a_warning_and_the_rest_kept(string damage)
    {
        var (store, registry) = Started("a");
        Change(store, registry, new StateChange.Put(Sample("b")));
        Change(store, registry, new StateChange.Put(Sample("c")));
        var text = File.ReadAllText(store.JournalPath);
        var lastStart = text.LastIndexOf('\n', text.Length - 2) + 1;
        File.WriteAllText(store.JournalPath, damage switch
        {
            "cut" => text[..(lastStart + 10)],
            "nul" => text[..lastStart] + new string('\0', 300),
            _ => text[..lastStart] + text[lastStart..].Replace("name", "nome", StringComparison.Ordinal).Replace("\tc\t", "\tx\t", StringComparison.Ordinal),
        });

        var reader = new StateStore(StatePath);
        Assert.Multiple(() =>
        {
            Assert.That(Names(reader.Load()), Is.EqualTo(new[] { "a:running:4242", "b:running:4242" }));
            Assert.That(reader.LoadWarning, Does.Contain("torn last record").And.Contain(store.JournalPath));
        });
    }

    [Test]
    public void A_bad_record_before_a_good_one_is_corruption_and_both_files_are_kept_aside()
    {
        var (store, registry) = Started("a");
        Change(store, registry, new StateChange.Put(Sample("b")));
        Change(store, registry, new StateChange.Put(Sample("c")));
        var lines = File.ReadAllLines(store.JournalPath);
        lines[1] = lines[1].Replace("\tb\t", "\tz\t", StringComparison.Ordinal); // lines[0] is the header
        File.WriteAllLines(store.JournalPath, lines);

        var reader = new StateStore(StatePath);
        var e = Assert.Throws<StateFileException>(() => reader.Load());
        var aside = reader.KeepAside();

        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.StartWith(store.JournalPath + ": record 1 of 2").And.Contain("checksum"));
            Assert.That(aside, Does.StartWith(StatePath + ".corrupt-"));
            Assert.That(File.Exists(StatePath) || File.Exists(store.JournalPath), Is.False);
            Assert.That(Directory.GetFiles(_dir, "state.yaml.journal.corrupt-*"), Has.Length.EqualTo(1));
            Assert.That(reader.Load(), Is.Empty);
        });
    }

    [Test]
    public void A_crash_between_the_new_snapshot_and_the_journal_removal_replays_to_the_same_registry()
    {
        var (store, registry) = Started("a", "b");
        Change(store, registry, new StateChange.Removed(new ContainerId(Manager.Lxc, "a")));
        Change(store, registry, new StateChange.Put(Sample("c")));
        Change(store, registry, new StateChange.Put(Sample("b") with { State = ContainerState.Stopping }));
        var journal = File.ReadAllText(store.JournalPath);

        store.Save(registry.Values);
        File.WriteAllText(store.JournalPath, journal);

        Assert.That(Names(new StateStore(StatePath).Load()), Is.EqualTo(Names(registry.Values)));
    }

    [Test]
    public void After_a_failed_append_the_next_change_writes_a_whole_snapshot()
    {
        var (store, registry) = Started("a");
        Directory.CreateDirectory(store.JournalPath); // the append cannot open it
        Assert.That(() => Change(store, registry, new StateChange.Put(Sample("b"))), Throws.InstanceOf<UnauthorizedAccessException>().Or.InstanceOf<IOException>());
        Directory.Delete(store.JournalPath);

        Change(store, registry, new StateChange.Put(Sample("c")));

        Assert.Multiple(() =>
        {
            Assert.That(File.Exists(store.JournalPath), Is.False, "a snapshot, not an append");
            Assert.That(Names(new StateStore(StatePath).Load()), Is.EqualTo(new[] { "a:running:4242", "b:running:4242", "c:running:4242" }));
        });
    }

    [TestCase("plain")]
    [TestCase("tab\there")]
    [TestCase("new\nline")]
    [TestCase("per%cent %41")]
    [TestCase("ünï ✓ \u2028")]
    [TestCase("50% 😀 \t 𝄞")]
    public void Records_carry_any_text_intact(string text)
    {
        var mapping = Sample("web") with
        {
            Uuid = text,
            CgroupPath = "/machine/" + text,
            Paths = new Dictionary<string, string> { [text] = "/sys/fs/cgroup/" + text, ["cpu"] = "" },
        };

        var line = StateJournal.Encode(new StateChange.Put(mapping));
        var back = (StateChange.Put)StateJournal.Decode(line[..^1]);

        Assert.Multiple(() =>
        {
            Assert.That(line.IndexOf('\n', StringComparison.Ordinal), Is.EqualTo(line.Length - 1), "one line");
            Assert.That(back.Mapping with { Paths = mapping.Paths }, Is.EqualTo(mapping));
            Assert.That(back.Mapping.Paths, Is.EquivalentTo(mapping.Paths));
        });
    }

    [TestCase("")]
    [TestCase("P\tlxc\tweb\t00000000")]
    [TestCase("R\tlxc\tweb")]
    public void Records_that_fail_their_check_are_refused(string line)
        => Assert.Throws<FormatException>(() => StateJournal.Decode(line));

    [TestCase("X\tlxc\tweb", "kind 'X'")]
    [TestCase("R\tlxc\tweb\textra", "with 4 fields")]
    [TestCase("P\tlxc\tweb", "with 3 fields")]
    [TestCase("R\tlxc\ta/b", "'/'")]
    public void Records_that_pass_their_check_but_make_no_sense_are_refused(string body, string expected)
    {
        var line = $"{body}\t{StateJournal.Crc32(body):x8}";
        var e = Assert.Catch(() => StateJournal.Decode(line));
        Assert.That(e!.Message, Does.Contain(expected));
    }

    [Test]
    public void The_checksum_is_the_standard_CRC_32() => Assert.That(StateJournal.Crc32("123456789"), Is.EqualTo(0xCBF43926u));
}
