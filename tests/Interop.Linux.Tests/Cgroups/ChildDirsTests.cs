using Interop.Linux.Cgroups;
using Interop.Linux.Tests.Support;

namespace Interop.Linux.Tests.Cgroups;

/// <summary>ChildDirs on this host's real cgroupfs, in a scratch cgroup per test: its answer is always what a listing of every hierarchy gives.</summary>
[NonParallelizable]
public class ChildDirsTests
{
    private static readonly Hierarchy Pids = HostHierarchies.V1("pids");
    private static readonly Hierarchy Unified = HostHierarchies.Unified;

    [Test]
    public void A_kept_dir_follows_dirs_made_and_removed_in_each_hierarchy()
    {
        using var scratch = HostHierarchies.Scratch(Pids, Unified);
        Hierarchy[] hs = [Pids, Unified];
        using var record = Create(hs);
        var parent = scratch.Rel("machine");
        Make(hs, parent);
        Make(hs, parent + "/lxc.payload.a");
        record.Keep(parent);
        Assert.That(record.Of(parent), Is.EquivalentTo(new[] { "lxc.payload.a" }));

        Make([Pids], parent + "/lxc.payload.b");
        Make(hs, parent + "/lxc-7-web.libvirt-lxc");
        Directory.Delete(Pids.DirOf(parent + "/lxc.payload.a"));

        Assert.Multiple(() =>
        {
            Assert.That(record.Of(parent), Is.EquivalentTo(new[] { "lxc.payload.a", "lxc.payload.b", "lxc-7-web.libvirt-lxc" }), "lxc.payload.a is still in the unified hierarchy");
            Assert.That(record.Of(parent), Is.EquivalentTo(Listed(hs, parent)));
            Assert.That(record.Of(parent, n => n.StartsWith("lxc.payload.", StringComparison.Ordinal)), Is.EquivalentTo(new[] { "lxc.payload.a", "lxc.payload.b" }), "only the names asked for");
            Assert.That(record.Of(scratch.Rel("elsewhere"), _ => true), Is.Null, "not kept: the caller lists");
        });

        Directory.Delete(Unified.DirOf(parent + "/lxc.payload.a"));
        Directory.Delete(Pids.DirOf(parent + "/lxc.payload.b"));
        Assert.That(record.Of(parent), Is.EquivalentTo(new[] { "lxc-7-web.libvirt-lxc" }));
    }

    [Test]
    public void A_dir_that_is_not_kept_or_over_the_limit_gets_no_answer()
    {
        using var scratch = HostHierarchies.Scratch(Pids);
        using var record = Create([Pids], maxDirs: 1);
        Make([Pids], scratch.Rel("one"));
        Make([Pids], scratch.Rel("two"));
        record.Keep(scratch.Rel("one"));
        record.Keep(scratch.Rel("two"));

        Assert.Multiple(() =>
        {
            Assert.That(record.Of(scratch.Rel("one")), Is.Empty);
            Assert.That(record.Of(scratch.Rel("two")), Is.Null, "over the limit: the caller lists");
            Assert.That(record.Count, Is.EqualTo(1));
        });
    }

    /// <param name="askedWhileGone">Whether the record is asked between the removal and the new dir (else the watched
    /// inode goes and a new one takes its path between two answers: its own IN_DELETE_SELF may never come).</param>
    [TestCase(true)]
    [TestCase(false)]
    public void A_parent_removed_and_made_again_is_listed_again_and_watched(bool askedWhileGone)
    {
        using var scratch = HostHierarchies.Scratch(Pids);
        using var record = Create([Pids]);
        var parent = scratch.Rel("machine");
        Make([Pids], parent + "/old");
        record.Keep(parent);
        Assert.That(record.Of(parent), Is.EquivalentTo(new[] { "old" }));

        Directory.Delete(Pids.DirOf(parent + "/old"));
        Directory.Delete(Pids.DirOf(parent));
        if (askedWhileGone)
        {
            Assert.That(record.Of(parent), Is.Empty, "gone");
        }

        Make([Pids], parent + "/new");
        Assert.That(record.Of(parent), Is.EquivalentTo(new[] { "new" }));
        Make([Pids], parent + "/newer");
        Assert.That(record.Of(parent), Is.EquivalentTo(new[] { "new", "newer" }), "the new dir is watched");
    }

    [Test]
    public void A_renamed_child_and_a_name_interop_does_not_address_are_answered_as_a_listing_would()
    {
        using var scratch = HostHierarchies.Scratch(Pids);
        using var record = Create([Pids]);
        var parent = scratch.Rel("machine");
        Make([Pids], parent);
        record.Keep(parent);
        Assert.That(record.Of(parent), Is.Empty);

        Make([Pids], parent + "/before");
        Directory.Move(Pids.DirOf(parent + "/before"), Pids.DirOf(parent + "/after")); // cgroup v1 renames within a parent
        Directory.CreateDirectory(Pids.DirOf(parent) + "/bad\tname");

        Assert.Multiple(() =>
        {
            Assert.That(record.Of(parent), Is.EquivalentTo(new[] { "after" }));
            Assert.That(record.Of(parent), Is.EquivalentTo(Listed([Pids], parent)));
        });
    }

    [Test]
    public void Many_changes_between_and_during_answers_end_as_a_listing()
    {
        using var scratch = HostHierarchies.Scratch(Pids, Unified);
        Hierarchy[] hs = [Pids, Unified];
        using var record = Create(hs);
        var parent = scratch.Rel("machine");
        Make(hs, parent);
        record.Keep(parent);
        var random = new Random(15);
        for (var round = 0; round < 300; round++)
        {
            var h = hs[random.Next(hs.Length)];
            var child = parent + "/c" + random.Next(40);
            if (Directory.Exists(h.DirOf(child)))
            {
                Directory.Delete(h.DirOf(child));
            }
            else
            {
                CgroupFs.CreateDir(h, child);
            }

            if (random.Next(4) == 0)
            {
                Assert.That(record.Of(parent), Is.EquivalentTo(Listed(hs, parent)), $"round {round}");
            }
        }

        Assert.That(record.Of(parent), Is.EquivalentTo(Listed(hs, parent)));
    }

    [Test]
    public void A_dir_missing_in_one_hierarchy_is_watched_once_it_appears_there()
    {
        using var scratch = HostHierarchies.Scratch(Pids, Unified);
        Hierarchy[] hs = [Pids, Unified];
        using var record = Create(hs);
        var parent = scratch.Rel("machine");
        Make([Pids], parent + "/a");
        record.Keep(parent);
        Assert.That(record.Of(parent), Is.EquivalentTo(new[] { "a" }));

        Make([Unified], parent + "/b");
        Assert.That(record.Of(parent), Is.EquivalentTo(new[] { "a", "b" }));
        Make([Unified], parent + "/c");
        Assert.That(record.Of(parent), Is.EquivalentTo(new[] { "a", "b", "c" }));
    }

    private static ChildDirs Create(Hierarchy[] hierarchies, int maxDirs = 64) =>
        ChildDirs.Create(hierarchies, maxDirs) ?? throw new InvalidOperationException("this host refuses inotify");

    private static HashSet<string> Listed(Hierarchy[] hierarchies, string dir) =>
        [.. hierarchies.SelectMany(h => CgroupFs.ListChildren(h, dir))];

    /// <summary>Makes <paramref name="rel"/> and the dirs above it (below the scratch root) in each hierarchy.</summary>
    private static void Make(Hierarchy[] hierarchies, string rel)
    {
        foreach (var h in hierarchies)
        {
            var path = "";
            foreach (var part in rel.Split('/'))
            {
                path = CgroupFs.Join(path, part);
                if (!Directory.Exists(h.DirOf(path)))
                {
                    CgroupFs.CreateDir(h, path);
                }
            }
        }
    }
}
