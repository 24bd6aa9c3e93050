using Interop.Core.Model;

namespace Interop.Service.Tests;

/// <summary>The one list of a mapping's fields and the one check of each, which the snapshot and the journal share.</summary>
public sealed class MappingCodecTests
{
    private static readonly Mapping Systemd = StateStoreTests.Sample("web") with { Unit = "lxc-web.scope", Machine = "lxc-web" };

    /// <summary>A snapshot of <see cref="Systemd"/> with one field's value replaced (plain text: no value below needs quotes).</summary>
    private static string SnapshotWith(string key, string value)
    {
        var writer = new StringWriter();
        StateStore.Write(writer, [Systemd]);
        var lines = writer.ToString().Split('\n');
        var prefix = lines.Any(l => l.StartsWith($"- {key}: ", StringComparison.Ordinal)) ? "- " : "  ";
        var at = Array.FindIndex(lines, l => l.StartsWith($"{prefix}{key}: ", StringComparison.Ordinal));
        Assert.That(at, Is.GreaterThan(0), $"the snapshot has a line for {key}");
        lines[at] = $"{prefix}{key}: {value}";
        return string.Join('\n', lines);
    }

    /// <summary>A journal record of <see cref="Systemd"/> with one field's value replaced, checksum recomputed.</summary>
    private static string RecordWith(string key, string value)
    {
        var fields = StateJournal.Encode(new StateChange.Put(Systemd))[..^1].Split('\t')[..^1];
        fields[1 + MappingCodec.Keys.ToList().IndexOf(key)] = value;
        var body = string.Join('\t', fields);
        return $"{body}\t{StateJournal.Crc32(body):x8}";
    }

    [TestCase("manager", "docker", "is not a manager")]
    [TestCase("name", "a/b", "'/'")]
    [TestCase("state", "paused", "is not a container state")]
    [TestCase("leader", "-1", "")]
    [TestCase("since", "soon", "")]
    [TestCase("cgroup_namespace", "shared", "is not a cgroup namespace")]
    [TestCase("cgroup_namespace", "Private", "is not a cgroup namespace")]
    [TestCase("source", "manual", "is not a mapping source")]
    public void The_snapshot_and_the_journal_refuse_a_bad_field_alike(string key, string value, string expected)
    {
        var fromSnapshot = Assert.Catch(() => StateStore.Parse(SnapshotWith(key, value)));
        var fromJournal = Assert.Catch(() => StateJournal.Decode(RecordWith(key, value)));

        Assert.Multiple(() =>
        {
            Assert.That(fromSnapshot, Is.InstanceOf<FormatException>().Or.InstanceOf<Interop.Core.InteropException>());
            Assert.That(fromSnapshot!.Message, Does.Contain(expected));
            Assert.That(fromJournal!.GetType(), Is.EqualTo(fromSnapshot.GetType()));
            Assert.That(fromJournal.Message, Is.EqualTo(fromSnapshot.Message));
        });
    }

    [Test]
    public void Both_files_carry_every_field_under_the_same_list()
    {
        var writer = new StringWriter();
        StateStore.Write(writer, [Systemd]);
        var snapshotKeys = writer.ToString().Split('\n')
            .Where(l => l.StartsWith("- ", StringComparison.Ordinal) || (l.StartsWith("  ", StringComparison.Ordinal) && !l.StartsWith("    ", StringComparison.Ordinal)))
            .Select(l => l[2..l.IndexOf(':', StringComparison.Ordinal)])
            .Where(k => k != "paths");
        var record = StateJournal.Encode(new StateChange.Put(Systemd)).Split('\t');

        Assert.Multiple(() =>
        {
            Assert.That(snapshotKeys, Is.EqualTo(MappingCodec.Keys));
            Assert.That(record[0], Is.EqualTo("S"));
            Assert.That(record[1..(1 + MappingCodec.Keys.Count)], Is.EqualTo(MappingCodec.Keys.Select((_, i) => MappingCodec.Value(Systemd, i))));
        });
    }

    [Test]
    public void Unit_and_machine_are_left_out_when_neither_is_set()
    {
        var plain = Systemd with { Unit = "", Machine = "" };
        var writer = new StringWriter();
        StateStore.Write(writer, [plain]);

        Assert.Multiple(() =>
        {
            Assert.That(MappingCodec.CountOf(plain), Is.EqualTo(MappingCodec.Required));
            Assert.That(writer.ToString(), Does.Not.Contain("unit:").And.Not.Contain("machine:"));
            Assert.That(StateJournal.Encode(new StateChange.Put(plain)), Does.StartWith("P\t"));
        });
    }
}
