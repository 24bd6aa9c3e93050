using Interop.Core;
using Interop.Linux.Cgroups;
using Interop.Linux.Tests.Support;

namespace Interop.Linux.Tests.Cgroups;

[NonParallelizable]
public class CgroupFsTests
{
    private static readonly Hierarchy Cpuset = HostHierarchies.Cpuset;

    [TestCase("cpuset.cpus", "not-a-list", 22, "EINVAL")]
    [TestCase("cgroup.procs", "999999999", 3, "ESRCH")]
    public void A_refused_write_names_the_file_and_the_errno(string file, string value, int errno, string name)
    {
        using var scratch = HostHierarchies.Scratch(Cpuset);

        var e = Assert.Throws<CgroupException>(() => CgroupFs.Write(Cpuset, scratch.Name, file, value));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(errno));
            Assert.That(e.Path, Is.EqualTo(Cpuset.DirOf(scratch.Name) + "/" + file));
            Assert.That(e.Message, Does.Contain(e.Path).And.Contain(name).And.Contain($"errno {errno}"));
        });
    }

    [Test]
    public void A_listing_names_the_child_dirs_sorted_and_skips_files_symlinks_and_names_that_are_not_UTF8()
    {
        var dir = Directory.CreateTempSubdirectory("interop-list-").FullName;
        try
        {
            foreach (var name in new[] { "b", "a.d", "c" })
            {
                Directory.CreateDirectory(Path.Combine(dir, name));
            }

            File.WriteAllText(Path.Combine(dir, "cgroup.procs"), "");
            File.CreateSymbolicLink(Path.Combine(dir, "link"), Path.Combine(dir, "b"));

            // A name of raw bytes that are not UTF-8, as a container may make one.
            using var made = System.Diagnostics.Process.Start("/bin/sh", ["-c", "mkdir \"$1/$(printf 'x\\377y')\"", "sh", dir]);
            made.WaitForExit();
            Assert.That(made.ExitCode, Is.Zero);

            var names = new List<string>();
            var skipped = CgroupTree.Children(dir, "/test", names);

            Assert.Multiple(() =>
            {
                Assert.That(names, Is.EqualTo(new[] { "a.d", "b", "c" }));
                Assert.That(skipped, Is.EqualTo(1));
                Assert.That(CgroupTree.Children(Path.Combine(dir, "missing"), "/test/missing", names), Is.Zero, "a dir that is gone has no children");
            });
        }
        finally
        {
            // .NET cannot name the non-UTF-8 entry to remove it.
            using var rm = System.Diagnostics.Process.Start("rm", ["-rf", "--", dir]);
            rm.WaitForExit();
        }
    }

    [Test]
    public void Mkdir_and_rmdir_report_existing_and_missing_dirs_and_EBUSY_for_a_task()
    {
        using var scratch = HostHierarchies.Scratch(Cpuset);
        var dir = scratch.Rel("c");

        Assert.Multiple(() =>
        {
            Assert.That(CgroupFs.CreateDir(Cpuset, dir), Is.True);
            Assert.That(CgroupFs.CreateDir(Cpuset, dir), Is.False);
            Assert.That(CgroupFs.ListChildren(Cpuset, scratch.Name), Is.EqualTo(new[] { "c" }));
            Assert.That(CgroupFs.HasTasks(Cpuset, scratch.Name), Is.False);
        });

        CgroupFs.Write(Cpuset, dir, CgroupFs.CpusetCpus, CgroupFs.Read(Cpuset, scratch.Name, CgroupFs.CpusetCpus).Trim());
        CgroupFs.Write(Cpuset, dir, CgroupFs.CpusetMems, CgroupFs.Read(Cpuset, scratch.Name, CgroupFs.CpusetMems).Trim());
        var sleeper = scratch.Start("sleep", "60");
        CgroupFs.AddProcess(Cpuset, dir, sleeper.Id);

        var busy = Assert.Throws<CgroupException>(() => CgroupFs.RemoveDir(Cpuset, dir));
        Assert.Multiple(() =>
        {
            Assert.That(busy!.Errno, Is.EqualTo(16));
            Assert.That(busy.Message, Does.Contain("EBUSY").And.Contain(Cpuset.DirOf(dir)));
            Assert.That(CgroupFs.HasTasks(Cpuset, scratch.Name), Is.True);
            Assert.That(CgroupFs.RemoveDir(Cpuset, scratch.Rel("never-there")), Is.False);
            Assert.That(CgroupFs.TryRead(Cpuset, scratch.Rel("never-there"), CgroupFs.Procs), Is.Null);
        });
    }

    [Test]
    public void Only_a_real_cgroup_mount_skips_the_symlink_walk()
    {
        Assert.Multiple(() =>
        {
            Assert.That(CgroupFs.IsCgroupFs(HostHierarchies.Cpuset.MountPoint), Is.True, "cgroup v1");
            Assert.That(CgroupFs.IsCgroupFs(HostHierarchies.Unified.MountPoint), Is.True, "cgroup2");
            Assert.That(CgroupFs.IsCgroupFs(Path.GetTempPath()), Is.False);
            Assert.That(CgroupFs.IsCgroupFs("/sys/fs/cgroup"), Is.False, "the tmpfs the hierarchies are mounted on");
        });
    }

    [Test]
    public void A_symlink_below_the_mount_point_is_never_followed()
    {
        var fakeMount = Directory.CreateTempSubdirectory("interop-mount-");
        var elsewhere = Directory.CreateTempSubdirectory("interop-elsewhere-");
        try
        {
            Directory.CreateSymbolicLink(Path.Combine(fakeMount.FullName, "link"), elsewhere.FullName);
            var fake = new Hierarchy("name=fake", CgroupVersion.V1, [], "fake", fakeMount.FullName, [fakeMount.FullName], "/");

            Assert.Multiple(() =>
            {
                Assert.That(() => CgroupFs.CreateDir(fake, "link/x"), Throws.TypeOf<InvalidInputException>().With.Message.Contains("symlink"));
                Assert.That(() => CgroupFs.Write(fake, "link", "cgroup.procs", "1"), Throws.TypeOf<InvalidInputException>());
                Assert.That(elsewhere.EnumerateFileSystemInfos(), Is.Empty);
            });
        }
        finally
        {
            fakeMount.Delete(recursive: true);
            elsewhere.Delete(recursive: true);
        }
    }
}
