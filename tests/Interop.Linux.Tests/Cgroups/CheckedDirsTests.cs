using Interop.Linux.Cgroups;
using Interop.Linux.Tests.Support;

namespace Interop.Linux.Tests.Cgroups;

/// <summary>CheckedDirs on this host's real cgroupfs, in a scratch cgroup per test: what forgets a checked dir and what does not.</summary>
[NonParallelizable]
public class CheckedDirsTests
{
    private static readonly Hierarchy Pids = HostHierarchies.V1("pids");
    private static readonly Hierarchy Cpuset = HostHierarchies.Cpuset;
    private static readonly Hierarchy Unified = HostHierarchies.Unified;

    [Test]
    public void A_checked_dir_stays_checked_while_it_is_only_read_and_is_forgotten_at_the_first_write()
    {
        using var scratch = HostHierarchies.Scratch(Pids);
        using var record = Create();
        var dir = MakeDir(scratch, Pids, "machine");
        Record(record, Pids, dir, [Pids.DirOf(dir)]);
        Assert.That(record.IsChecked(Pids.Key, dir), Is.True);

        CgroupFs.Read(Pids, dir, CgroupFs.CloneChildren);
        CgroupFs.ListChildren(Pids, dir);
        Assert.That(record.IsChecked(Pids.Key, dir), Is.True, "reads change nothing");

        CgroupFs.Write(Pids, dir, CgroupFs.CloneChildren, "1");
        Assert.That(record.IsChecked(Pids.Key, dir), Is.False, "a write, even of the same value, is a change");
    }

    [Test]
    public void A_write_in_a_watched_ancestor_forgets_the_dir_and_other_hierarchies_keep_theirs()
    {
        using var scratch = HostHierarchies.Scratch(Pids, Unified);
        using var record = Create();
        var dir = MakeDir(scratch, Pids, "a/machine");
        MakeDir(scratch, Unified, "a/machine");
        foreach (var h in new[] { Pids, Unified })
        {
            Record(record, h, dir, [h.DirOf(scratch.Rel("a")), h.DirOf(dir)]);
        }

        CgroupFs.Write(Unified, scratch.Rel("a"), "cgroup.max.depth", "max");

        Assert.Multiple(() =>
        {
            Assert.That(record.IsChecked(Unified.Key, dir), Is.False);
            Assert.That(record.IsChecked(Pids.Key, dir), Is.True);
            Assert.That(record.CheckedKeys(dir), Is.EquivalentTo(new[] { Pids.Key }));
        });
    }

    [Test]
    public void A_removed_dir_is_forgotten_a_container_dir_below_it_is_not_and_one_made_again_is_not_checked_until_recorded_again()
    {
        using var scratch = HostHierarchies.Scratch(Pids);
        using var record = Create();
        var dir = MakeDir(scratch, Pids, "machine");
        string[] path = [Pids.DirOf(scratch.Name), Pids.DirOf(dir)];
        Record(record, Pids, dir, path);
        CgroupFs.CreateDir(Pids, scratch.Rel("machine/lxc.payload.c1"));
        Directory.Delete(Pids.DirOf(scratch.Rel("machine/lxc.payload.c1")));
        Assert.That(record.IsChecked(Pids.Key, dir), Is.True, "a container's dir below it came and went");

        Directory.Delete(Pids.DirOf(dir));
        CgroupFs.CreateDir(Pids, dir);

        Assert.That(record.IsChecked(Pids.Key, dir), Is.False);
        Record(record, Pids, dir, path);
        Assert.That(record.IsChecked(Pids.Key, dir), Is.True, "the new dir is watched and recorded");
    }

    [Test]
    public void Without_top_files_a_write_in_the_top_dir_does_not_count_and_the_removal_below_it_still_does()
    {
        using var scratch = HostHierarchies.Scratch(Cpuset);
        using var record = Create();
        var dir = MakeDir(scratch, Cpuset, "machine");
        string[] path = [Cpuset.DirOf(scratch.Name), Cpuset.DirOf(dir)];
        Record(record, Cpuset, dir, path, topFiles: false);

        // What LXC does at every start to the first level below the hierarchy root.
        CgroupFs.Write(Cpuset, scratch.Name, CgroupFs.CloneChildren, "0");
        Assert.That(record.IsChecked(Cpuset.Key, dir), Is.True);

        CgroupFs.Write(Cpuset, dir, CgroupFs.CloneChildren, "1");
        Assert.That(record.IsChecked(Cpuset.Key, dir), Is.False, "a write in the checked dir itself counts");

        Record(record, Cpuset, dir, path, topFiles: false);
        Directory.Delete(Cpuset.DirOf(dir));
        Assert.That(record.IsChecked(Cpuset.Key, dir), Is.False);
    }

    [Test]
    public void A_write_between_watch_and_record_is_not_lost()
    {
        using var scratch = HostHierarchies.Scratch(Cpuset);
        using var record = Create();
        var dir = MakeDir(scratch, Cpuset, "machine");
        var token = record.Watch(Cpuset.Key, [Cpuset.DirOf(dir)]);

        // What another writer (or the check's own repair) does while the check runs.
        CgroupFs.Write(Cpuset, dir, CgroupFs.CloneChildren, "0");
        record.MarkChecked(Cpuset.Key, dir, token);

        Assert.That(record.IsChecked(Cpuset.Key, dir), Is.False);
    }

    [Test]
    public void A_dir_that_does_not_exist_cannot_be_watched_and_is_never_recorded()
    {
        using var scratch = HostHierarchies.Scratch(Pids);
        using var record = Create();
        var dir = scratch.Rel("not-yet");

        var token = record.Watch(Pids.Key, [Pids.DirOf(dir)]);
        record.MarkChecked(Pids.Key, dir, token);

        Assert.Multiple(() =>
        {
            Assert.That(token, Is.EqualTo(-1));
            Assert.That(record.IsChecked(Pids.Key, dir), Is.False);
        });
    }

    [Test]
    public void After_dispose_nothing_is_checked()
    {
        using var scratch = HostHierarchies.Scratch(Pids);
        var record = Create();
        var dir = MakeDir(scratch, Pids, "machine");
        Record(record, Pids, dir, [Pids.DirOf(dir)]);

        record.Dispose();

        Assert.That(record.IsChecked(Pids.Key, dir), Is.False);
    }

    /// <summary>Watches <paramref name="path"/> and records <paramref name="dir"/> as checked, as a passed check does.</summary>
    private static void Record(CheckedDirs record, Hierarchy h, string dir, string[] path, bool topFiles = true) =>
        record.MarkChecked(h.Key, dir, record.Watch(h.Key, path, topFiles));

    private static CheckedDirs Create() => CheckedDirs.Create() ?? throw new InvalidOperationException("this host refuses inotify");

    private static string MakeDir(Interop.TestSupport.ScratchCgroups scratch, Hierarchy h, string rel)
    {
        var path = "";
        foreach (var part in scratch.Rel(rel).Split('/'))
        {
            path = CgroupFs.Join(path, part);
            CgroupFs.CreateDir(h, path);
        }

        return scratch.Rel(rel);
    }
}
