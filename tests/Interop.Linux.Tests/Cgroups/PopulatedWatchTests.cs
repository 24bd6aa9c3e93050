using System.Collections.Concurrent;
using Interop.Linux.Cgroups;
using Interop.Linux.Tests.Support;

namespace Interop.Linux.Tests.Cgroups;

/// <summary>PopulatedWatch on this host's real cgroup2 hierarchy (/sys/fs/cgroup/unified), in a scratch cgroup per test.</summary>
[NonParallelizable]
public class PopulatedWatchTests
{
    private static readonly Hierarchy Unified = HostHierarchies.Unified;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private readonly BlockingCollection<string> _seen = [];
    private readonly List<string> _log = [];

    [Test]
    public void A_dir_made_after_the_watch_is_reported_once_when_its_first_task_enters()
    {
        using var scratch = HostHierarchies.Scratch([Unified]);
        using var watch = Start();
        var dir = Unified.DirOf(scratch.Rel("lxc.payload.c1"));

        Assert.That(watch.Arm(dir), Is.True);
        CgroupFs.CreateDir(Unified, scratch.Rel("lxc.payload.c1"));
        Assert.That(_seen.TryTake(out _, TimeSpan.FromMilliseconds(200)), Is.False, "an empty dir is not populated");

        var sleeper = scratch.Start("sleep", "60");
        CgroupFs.AddProcess(Unified, scratch.Rel("lxc.payload.c1"), sleeper.Id);

        Assert.That(_seen.TryTake(out var got, Patience), Is.True, string.Join("\n", _log));
        Assert.That(got, Is.EqualTo(dir));
        Assert.That(watch.Pending, Is.Zero);
        var other = scratch.Start("sleep", "60");
        CgroupFs.AddProcess(Unified, scratch.Rel("lxc.payload.c1"), other.Id);
        Assert.That(_seen.TryTake(out _, TimeSpan.FromMilliseconds(200)), Is.False, "reported once");
    }

    [Test]
    public void A_dir_already_populated_when_armed_is_reported_at_once()
    {
        using var scratch = HostHierarchies.Scratch([Unified]);
        CgroupFs.CreateDir(Unified, scratch.Rel("busy"));
        var sleeper = scratch.Start("sleep", "60");
        CgroupFs.AddProcess(Unified, scratch.Rel("busy"), sleeper.Id);
        using var watch = Start();

        Assert.That(PopulatedWatch.IsPopulated(Unified.DirOf(scratch.Rel("busy"))), Is.True);
        watch.Arm(Unified.DirOf(scratch.Rel("busy")));

        Assert.That(_seen.TryTake(out var got, Patience), Is.True);
        Assert.That(got, Is.EqualTo(Unified.DirOf(scratch.Rel("busy"))));
    }

    [Test]
    public void A_disarmed_dir_is_never_reported_and_a_sibling_still_is()
    {
        using var scratch = HostHierarchies.Scratch([Unified]);
        using var watch = Start();
        var gone = Unified.DirOf(scratch.Rel("gone"));
        var kept = Unified.DirOf(scratch.Rel("kept"));
        watch.Arm(gone);
        watch.Arm(kept);
        watch.Disarm(gone);

        foreach (var name in new[] { "gone", "kept" })
        {
            CgroupFs.CreateDir(Unified, scratch.Rel(name));
            CgroupFs.AddProcess(Unified, scratch.Rel(name), scratch.Start("sleep", "60").Id);
        }

        Assert.That(_seen.TryTake(out var got, Patience), Is.True);
        Assert.That(got, Is.EqualTo(kept));
        Assert.That(_seen.TryTake(out _, TimeSpan.FromMilliseconds(200)), Is.False);
        Assert.That(PopulatedWatch.IsPopulated(gone), Is.True, "the disarmed dir did fill");
    }

    [Test]
    public void A_dir_removed_and_made_again_is_still_watched()
    {
        using var scratch = HostHierarchies.Scratch([Unified]);
        using var watch = Start();
        var rel = scratch.Rel("again");
        watch.Arm(Unified.DirOf(rel));
        CgroupFs.CreateDir(Unified, rel);
        Assert.That(PollUntil(() => !CgroupFs.Exists(Unified, rel) || CgroupFs.RemoveDir(Unified, rel)), Is.True);
        CgroupFs.CreateDir(Unified, rel);
        CgroupFs.AddProcess(Unified, rel, scratch.Start("sleep", "60").Id);

        Assert.That(_seen.TryTake(out var got, Patience), Is.True, string.Join("\n", _log));
        Assert.That(got, Is.EqualTo(Unified.DirOf(rel)));
    }

    [Test]
    public void A_dir_whose_parent_does_not_exist_cannot_be_armed()
    {
        using var watch = Start();

        Assert.That(watch.Arm(Unified.DirOf("interop-test-no-such-parent/x")), Is.False);
        Assert.That(_log, Has.Some.Contains("cannot watch"));
        Assert.That(watch.Pending, Is.Zero);
    }

    private PopulatedWatch Start() =>
        PopulatedWatch.Start(dir => _seen.Add(dir), message => { lock (_log) { _log.Add(message); } })
        ?? throw new InvalidOperationException("inotify is not available");

    private static bool PollUntil(Func<bool> condition)
    {
        for (var i = 0; i < 200; i++)
        {
            if (condition())
            {
                return true;
            }

            Thread.Sleep(10);
        }

        return false;
    }
}
