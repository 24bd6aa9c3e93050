using Interop.Core;
using Interop.Linux.Cgroups;
using Interop.Linux.Tests.Support;

namespace Interop.Linux.Tests.Cgroups;

/// <summary>SharedRoot on the real cgroupfs of this host, inside a scratch cgroup per test.</summary>
[NonParallelizable]
public class SharedRootTests
{
    private static readonly Hierarchy Cpuset = HostHierarchies.Cpuset;

    [Test]
    public void A_child_of_a_prepared_root_accepts_a_pid_and_a_child_of_an_unprepared_dir_refuses_with_ENOSPC()
    {
        using var scratch = HostHierarchies.Scratch(Cpuset);
        SharedRoot.Setup([Cpuset], scratch.Rel("machine"), new SharedRootOptions { Boundary = scratch.Name });
        var sleeper = scratch.Start("sleep", "60");

        CgroupFs.CreateDir(Cpuset, scratch.Rel("machine/c1"));
        CgroupFs.AddProcess(Cpuset, scratch.Rel("machine/c1"), sleeper.Id);
        Assert.That(CgroupFs.ReadProcs(Cpuset, scratch.Rel("machine/c1")), Does.Contain(sleeper.Id));

        CgroupFs.CreateDir(Cpuset, scratch.Rel("raw"));
        CgroupFs.CreateDir(Cpuset, scratch.Rel("raw/c1"));
        var e = Assert.Throws<CgroupException>(() => CgroupFs.AddProcess(Cpuset, scratch.Rel("raw/c1"), sleeper.Id));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(28));
            Assert.That(e.Path, Is.EqualTo(Cpuset.DirOf(scratch.Rel("raw/c1")) + "/cgroup.procs"));
            Assert.That(e.Message, Does.Contain(scratch.Rel("raw/c1/cgroup.procs")).And.Contain("ENOSPC").And.Contain("errno 28"));
            Assert.That(CgroupFs.ReadProcs(Cpuset, scratch.Rel("machine/c1")), Does.Contain(sleeper.Id));
        });
    }

    [Test]
    public void Setup_in_every_hierarchy_reports_its_actions_and_a_second_run_changes_nothing()
    {
        using var scratch = HostHierarchies.Scratch(HostHierarchies.All);
        var root = scratch.Rel("a/b/machine");
        var options = new SharedRootOptions { Boundary = scratch.Name };

        var first = SharedRoot.Setup(HostHierarchies.All, root, options);
        var second = SharedRoot.Setup(HostHierarchies.All, root, options);

        var parentCpus = CgroupFs.Read(Cpuset, scratch.Name, CgroupFs.CpusetCpus).Trim();
        Assert.Multiple(() =>
        {
            Assert.That(first, Does.Contain($"cpuset: created /{scratch.Name}/a"));
            Assert.That(first, Does.Contain($"cpuset: cpuset.cpus {parentCpus} copied from parent into /{scratch.Name}/a"));
            Assert.That(first, Does.Contain($"name=systemd: cgroup.clone_children set to 1 on /{scratch.Name}/a"));
            Assert.That(first, Does.Contain($"unified: created /{root}"));
            Assert.That(first.Where(a => a.Contains("cpuset.cpus", StringComparison.Ordinal) && a.Contains("/a/b", StringComparison.Ordinal)), Is.Empty, "b inherits through clone_children");
            Assert.That(second, Is.Empty);
            foreach (var h in HostHierarchies.All)
            {
                Assert.That(CgroupFs.Exists(h, root), Is.True, h.Key);
            }

            Assert.That(SharedRoot.Check(HostHierarchies.All, root), Has.All.Matches<HierarchyHealth>(x => x.Healthy && x.Exists));
            Assert.That(CgroupFs.Read(Cpuset, root, CgroupFs.CpusetCpus).Trim(), Is.EqualTo(parentCpus));
        });
    }

    [Test]
    public void A_damaged_shared_root_is_repaired_and_each_repair_is_reported()
    {
        var hierarchies = new[] { Cpuset, HostHierarchies.Systemd };
        using var scratch = HostHierarchies.Scratch(hierarchies);
        var root = scratch.Rel("machine");
        var options = new SharedRootOptions { Boundary = scratch.Name };
        SharedRoot.Setup(hierarchies, root, options);
        var cpus = CgroupFs.Read(Cpuset, root, CgroupFs.CpusetCpus).Trim();
        var mems = CgroupFs.Read(Cpuset, root, CgroupFs.CpusetMems).Trim();

        CgroupFs.Write(Cpuset, root, CgroupFs.CpusetCpus, "\n");
        CgroupFs.Write(Cpuset, root, CgroupFs.CpusetMems, "\n");
        CgroupFs.Write(Cpuset, root, CgroupFs.CloneChildren, "0");
        CgroupFs.Write(HostHierarchies.Systemd, root, CgroupFs.CloneChildren, "0");
        var damaged = SharedRoot.Check(hierarchies, root);

        var repair = SharedRoot.Setup(hierarchies, root, options);

        Assert.Multiple(() =>
        {
            Assert.That(damaged[0].CpusEmpty, Is.True);
            Assert.That(damaged[0].MemsEmpty, Is.True);
            Assert.That(damaged[0].CloneChildren, Is.Zero);
            Assert.That(damaged[1].Healthy, Is.False);
            Assert.That(repair, Is.EquivalentTo(new[]
            {
                $"cpuset: repaired empty cpuset.cpus of /{root}: {cpus} copied from parent",
                $"cpuset: repaired empty cpuset.mems of /{root}: {mems} copied from parent",
                $"cpuset: repaired cgroup.clone_children of /{root}: was 0, set to 1",
                $"name=systemd: repaired cgroup.clone_children of /{root}: was 0, set to 1",
            }));
            Assert.That(SharedRoot.Check(hierarchies, root), Has.All.Matches<HierarchyHealth>(x => x.Healthy));
            Assert.That(SharedRoot.Setup(hierarchies, root, options), Is.Empty);
        });
    }

    [Test]
    public void Isolated_and_offline_cpus_are_left_out_of_the_copy()
    {
        using var scratch = HostHierarchies.Scratch(Cpuset);
        var parent = CpuList.Parse(CgroupFs.Read(Cpuset, scratch.Name, CgroupFs.CpusetCpus));
        Assume.That(parent, Has.Count.GreaterThan(1), "needs a parent cpuset with two CPUs");
        var sys = Directory.CreateTempSubdirectory("interop-cpu-");
        try
        {
            File.WriteAllText(Path.Combine(sys.FullName, "isolated"), parent.Max + "\n");
            File.WriteAllText(Path.Combine(sys.FullName, "offline"), "\n");

            SharedRoot.Setup([Cpuset], scratch.Rel("machine"), new SharedRootOptions { Boundary = scratch.Name, SysCpuDir = sys.FullName });

            var expected = CpuList.Format(parent.Where(c => c != parent.Max));
            Assert.That(CgroupFs.Read(Cpuset, scratch.Rel("machine"), CgroupFs.CpusetCpus).Trim(), Is.EqualTo(expected));
        }
        finally
        {
            sys.Delete(recursive: true);
        }
    }

    [Test]
    public void An_existing_ancestor_with_an_empty_cpuset_is_reported_as_the_cause_and_nothing_is_created()
    {
        var hierarchies = new[] { Cpuset, HostHierarchies.Systemd };
        using var scratch = HostHierarchies.Scratch(hierarchies);
        CgroupFs.CreateDir(Cpuset, scratch.Rel("anc")); // scratch has clone_children=0: anc gets an empty cpuset
        CgroupFs.CreateDir(HostHierarchies.Systemd, scratch.Rel("anc"));

        var e = Assert.Throws<CgroupException>(() =>
            SharedRoot.Setup(hierarchies, scratch.Rel("anc/machine"), new SharedRootOptions { Boundary = scratch.Name }));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(28));
            Assert.That(e.Path, Is.EqualTo(Cpuset.DirOf(scratch.Rel("anc")) + "/cpuset.cpus"));
            Assert.That(e.Message, Does.Contain($"existing ancestor /{scratch.Rel("anc")}").And.Contain("empty cpuset.cpus"));
            Assert.That(scratch.Listing(Cpuset), Is.EqualTo(new[] { "anc" }));
            Assert.That(scratch.Listing(HostHierarchies.Systemd), Is.EqualTo(new[] { "anc" }));
        });
    }

    [Test]
    public void V2_controllers_are_enabled_top_down_from_the_boundary_to_the_shared_root()
    {
        var unified = HostHierarchies.Unified;
        using var scratch = HostHierarchies.Scratch(unified);
        var root = scratch.Rel("a/machine");

        var actions = SharedRoot.Setup([unified], root, new SharedRootOptions { Boundary = scratch.Name });

        Assert.Multiple(() =>
        {
            Assert.That(actions, Does.Contain($"unified: created /{scratch.Rel("a")}").And.Contain($"unified: created /{root}"));
            foreach (var dir in new[] { scratch.Name, scratch.Rel("a"), root })
            {
                var available = Words(CgroupFs.Read(unified, dir, CgroupFs.Controllers));
                var enabled = Words(CgroupFs.Read(unified, dir, CgroupFs.SubtreeControl));
                Assert.That(enabled, Is.EquivalentTo(available), dir);
                foreach (var c in available)
                {
                    Assert.That(actions.Where(a => a.Contains($"+{c}", StringComparison.Ordinal) && a.EndsWith($"/{dir} cgroup.subtree_control", StringComparison.Ordinal)), Is.Not.Empty, dir);
                }
            }

            Assert.That(CgroupFs.ReadProcs(unified, root), Is.Empty, "the shared root never holds a process");
            Assert.That(SharedRoot.Check([unified], root).Single().Healthy, Is.True);
        });
    }

    [Test]
    public void EnsureDir_creates_a_partition_below_the_shared_root_with_a_usable_cpuset()
    {
        var hierarchies = new[] { Cpuset, HostHierarchies.Systemd };
        using var scratch = HostHierarchies.Scratch(hierarchies);
        var root = scratch.Rel("machine");
        SharedRoot.Setup(hierarchies, root, new SharedRootOptions { Boundary = scratch.Name });

        var first = SharedRoot.EnsureDir(hierarchies, root, root + "/web.partition");
        var second = SharedRoot.EnsureDir(hierarchies, root, root + "/web.partition");

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(new[]
            {
                $"cpuset: created /{root}/web.partition",
                $"name=systemd: created /{root}/web.partition",
            }));
            Assert.That(second, Is.Empty);
            Assert.That(CgroupFs.Read(Cpuset, root + "/web.partition", CgroupFs.CpusetCpus).Trim(), Is.Not.Empty);
            Assert.That(CgroupFs.Read(Cpuset, root + "/web.partition", CgroupFs.CloneChildren).Trim(), Is.EqualTo("1"));
            Assert.That(
                () => SharedRoot.EnsureDir(hierarchies, root, scratch.Rel("elsewhere")),
                Throws.TypeOf<InvalidInputException>());
            Assert.That(scratch.Listing(Cpuset), Does.Not.Contain("elsewhere"));
        });
    }

    private static List<string> Words(string text) =>
        text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).ToList();
}
