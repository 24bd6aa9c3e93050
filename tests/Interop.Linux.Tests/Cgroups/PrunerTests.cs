using Interop.Core;
using Interop.Linux.Cgroups;
using Interop.Linux.Tests.Support;
using Interop.TestSupport;

namespace Interop.Linux.Tests.Cgroups;

/// <summary>Pruner on the real cgroupfs of this host, inside a scratch cgroup per test.</summary>
[NonParallelizable]
public class PrunerTests
{
    private static readonly Hierarchy Cpuset = HostHierarchies.Cpuset;
    private static readonly Hierarchy Systemd = HostHierarchies.Systemd;
    private static readonly Hierarchy[] Both = [Cpuset, Systemd];

    [Test]
    public void Prune_removes_empty_unowned_dirs_deepest_first_and_keeps_owned_and_busy_ones()
    {
        using var scratch = HostHierarchies.Scratch(Both);
        var root = scratch.Rel("machine");
        SharedRoot.Setup(Both, root, new SharedRootOptions { Boundary = scratch.Name });
        foreach (var h in Both)
        {
            foreach (var dir in new[] { "a", "a/a1", "a/a2", "b", "owned", "owned/inner", "busy", "busy/leaf" })
            {
                CgroupFs.CreateDir(h, root + "/" + dir);
            }
        }

        var sleeper = scratch.Start("sleep", "60");
        CgroupFs.AddProcess(Cpuset, root + "/busy/leaf", sleeper.Id);
        var before = scratch.Listing(Cpuset);
        bool IsOwned(string rel) => rel == root + "/owned";

        var dry = Pruner.Prune(Both, root, dryRun: true, IsOwned);
        var afterDry = scratch.Listing(Cpuset);
        var real = Pruner.Prune(Both, root, dryRun: false, IsOwned);

        var expected = new[]
        {
            new RemovedDir("cpuset", root + "/a/a1"),
            new RemovedDir("cpuset", root + "/a/a2"),
            new RemovedDir("cpuset", root + "/a"),
            new RemovedDir("cpuset", root + "/b"),
            new RemovedDir("name=systemd", root + "/a/a1"),
            new RemovedDir("name=systemd", root + "/a/a2"),
            new RemovedDir("name=systemd", root + "/busy/leaf"),
            new RemovedDir("name=systemd", root + "/a"),
            new RemovedDir("name=systemd", root + "/b"),
            new RemovedDir("name=systemd", root + "/busy"),
        };
        Assert.Multiple(() =>
        {
            Assert.That(dry, Is.EqualTo(expected));
            Assert.That(afterDry, Is.EqualTo(before), "a dry run removes nothing");
            Assert.That(real, Is.EqualTo(expected));
            Assert.That(scratch.Listing(Cpuset), Is.EqualTo(new[] { "machine", "machine/busy", "machine/busy/leaf", "machine/owned", "machine/owned/inner" }));
            Assert.That(scratch.Listing(Systemd), Is.EqualTo(new[] { "machine", "machine/owned", "machine/owned/inner" }));
            Assert.That(CgroupFs.ReadProcs(Cpuset, root + "/busy/leaf"), Does.Contain(sleeper.Id));
            Assert.That(Pruner.Prune(Both, root, dryRun: false, IsOwned), Is.Empty);
            Assert.That(real[0].ToString(), Is.EqualTo($"cpuset: /{root}/a/a1"));
        });
    }

    [Test]
    public void RemoveIfEmpty_removes_one_containers_dirs_and_keeps_them_where_a_task_lives()
    {
        using var scratch = HostHierarchies.Scratch(Both);
        var root = scratch.Rel("machine");
        SharedRoot.Setup(Both, root, new SharedRootOptions { Boundary = scratch.Name });
        var payload = root + "/lxc.payload.web";
        foreach (var h in Both)
        {
            CgroupFs.CreateDir(h, payload);
            CgroupFs.CreateDir(h, payload + "/init.scope");
        }

        var sleeper = scratch.Start("sleep", "60");
        CgroupFs.AddProcess(Cpuset, payload + "/init.scope", sleeper.Id);

        var removed = Pruner.RemoveIfEmpty(Both, root, payload);
        var again = Pruner.RemoveIfEmpty(Both, root, payload);
        var missing = Pruner.RemoveIfEmpty(Both, root, root + "/never-there");

        Assert.Multiple(() =>
        {
            Assert.That(removed, Is.EqualTo(new[]
            {
                new RemovedDir("name=systemd", payload + "/init.scope"),
                new RemovedDir("name=systemd", payload),
            }));
            Assert.That(again, Is.Empty);
            Assert.That(missing, Is.Empty);
            Assert.That(CgroupFs.Exists(Cpuset, payload + "/init.scope"), Is.True);
            Assert.That(CgroupFs.Exists(Systemd, payload), Is.False);
        });
    }

    [TestCase("")]
    [TestCase("/")]
    [TestCase("other")]
    public void RemoveIfEmpty_refuses_the_shared_root_itself_and_anything_outside_it(string relative)
    {
        using var scratch = HostHierarchies.Scratch(Both);
        var root = scratch.Rel("machine");
        SharedRoot.Setup(Both, root, new SharedRootOptions { Boundary = scratch.Name });
        CgroupFs.CreateDir(Cpuset, scratch.Rel("other"));
        var path = relative switch
        {
            "" => root,
            "/" => "/",
            _ => scratch.Rel(relative),
        };

        Assert.That(() => Pruner.RemoveIfEmpty(Both, root, path), Throws.TypeOf<InvalidInputException>());
        Assert.That(scratch.Listing(Cpuset), Is.EqualTo(new[] { "machine", "other" }));
    }

    [Test]
    public void Prune_and_HasTasks_skip_names_Interop_does_not_address_and_dirs_past_the_depth_bound_reporting_each_once()
    {
        using var scratch = HostHierarchies.Scratch(Both);
        var root = scratch.Rel("machine");
        SharedRoot.Setup(Both, root, new SharedRootOptions { Boundary = scratch.Name });
        var log = new ListLogger();
        var previous = CgroupTree.Logger;
        CgroupTree.Logger = log;
        try
        {
            var deep = string.Join('/', Enumerable.Repeat("d", CgroupTree.MaxDepth + 3));
            foreach (var h in Both)
            {
                Directory.CreateDirectory(h.DirOf(root + "/stale/evil\u0001x"));
                Directory.CreateDirectory(h.DirOf(root + "/plain"));
                Directory.CreateDirectory(h.DirOf(root + "/deep/" + deep));
            }

            var sleeper = scratch.Start("sleep", "60");
            Directory.CreateDirectory(Cpuset.DirOf(root + "/busy/tab\tx"));
            File.WriteAllText(Cpuset.DirOf(root + "/busy/tab\tx") + "/cgroup.procs", sleeper.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

            var dry = Pruner.Prune(Both, root, dryRun: true);
            var real = Pruner.Prune(Both, root, dryRun: false);
            Pruner.Prune(Both, root, dryRun: false);

            Assert.Multiple(() =>
            {
                Assert.That(real, Is.EqualTo(dry));
                Assert.That(real.Select(r => r.Path).Distinct(), Is.EqualTo(new[] { root + "/plain" }), "only the ordinary leftover goes");
                Assert.That(Directory.Exists(Cpuset.DirOf(root + "/stale/evil\u0001x")), Is.True);
                Assert.That(Directory.Exists(Systemd.DirOf(root + "/deep/" + deep)), Is.True);
                Assert.That(CgroupFs.HasTasks(Cpuset, root + "/busy"), Is.True, "a task below a hostile name still counts");
                Assert.That(CgroupFs.HasTasks(Cpuset, root + "/deep"), Is.True, "what the walk cannot see may hold tasks");
                Assert.That(CgroupFs.HasTasks(Cpuset, root + "/stale"), Is.False);
                Assert.That(CgroupFs.Tasks(Cpuset, root), Is.EqualTo(new[] { (uint)sleeper.Id }));
                Assert.That(CgroupFs.ListChildren(Cpuset, root + "/stale"), Is.Empty);
                var warnings = log.Entries.Select(e => e.Message).ToList();
                Assert.That(warnings.Count(w => w.Contains("stale/evil\\x01x", StringComparison.Ordinal)), Is.EqualTo(1), string.Join("\n", warnings));
            });
        }
        finally
        {
            CgroupTree.Logger = previous;
            foreach (var h in Both)
            {
                for (var i = CgroupTree.MaxDepth + 3; i > 0; i--)
                {
                    var dir = h.DirOf(root + "/deep/" + string.Join('/', Enumerable.Repeat("d", i)));
                    if (Directory.Exists(dir))
                    {
                        Directory.Delete(dir);
                    }
                }
            }
        }
    }
}
