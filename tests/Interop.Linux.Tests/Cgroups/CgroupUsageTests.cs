using System.Diagnostics;
using Interop.Linux.Cgroups;
using Interop.Linux.Tests.Support;

namespace Interop.Linux.Tests.Cgroups;

/// <summary>CgroupUsage against fake cgroupfs dirs (v1, hybrid, v2 layouts written in a temp dir) and the real one.</summary>
public class CgroupUsageTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("interop-usage-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void V1_reads_each_figure_from_the_hierarchy_of_its_controller()
    {
        var dirs = new Dictionary<string, string>
        {
            ["cpu,cpuacct"] = Write("cpu,cpuacct", ("cpuacct.usage", "2500000000\n")),
            ["memory"] = Write("memory", ("memory.usage_in_bytes", "1048576\n"), ("memory.limit_in_bytes", "67108864\n")),
            ["pids"] = Write("pids", ("pids.current", "7\n")),
            ["blkio"] = Write("blkio", ("blkio.throttle.io_service_bytes_recursive",
                "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Discard 0\n8:0 Total 12288\n8:16 Read 100\n8:16 Write 1\nTotal 12389\n")),
        };

        var u = CgroupUsage.Read(dirs);

        Assert.That(u, Is.EqualTo(new ContainerUsage(2.5, 1048576, 67108864, 7, 4196, 8193)));
    }

    [Test]
    public void Hybrid_takes_v1_figures_and_ignores_the_tracking_only_cgroup2_dir()
    {
        var dirs = new Dictionary<string, string>
        {
            ["cpuacct"] = Write("cpuacct", ("cpuacct.usage", "1000000000\n")),
            ["memory"] = Write("memory", ("memory.usage_in_bytes", "4096\n"), ("memory.limit_in_bytes", "9223372036854771712\n")),
            ["unified"] = Write("unified", ("cpu.stat", "usage_usec 99000000\nuser_usec 1\nsystem_usec 2\n")),
        };

        var u = CgroupUsage.Read(dirs);

        Assert.That(u.CpuSeconds, Is.EqualTo(1.0), "cpuacct wins over the cgroup2 cpu.stat");
        Assert.That(u.MemoryBytes, Is.EqualTo(4096));
        Assert.That(u.MemoryLimitBytes, Is.Null, "v1's unlimited (PAGE_COUNTER_MAX pages) is no limit");
        Assert.That(u.Pids, Is.Null, "no hierarchy has pids");
        Assert.That(u.IoReadBytes, Is.Null);
        Assert.That(u.IoWriteBytes, Is.Null);
    }

    [Test]
    public void V2_reads_everything_from_the_unified_dir()
    {
        var dirs = new Dictionary<string, string>
        {
            ["unified"] = Write("unified",
                ("cpu.stat", "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n"),
                ("memory.current", "2097152\n"),
                ("memory.max", "max\n"),
                ("pids.current", "3\n"),
                ("io.stat", "8:0 rbytes=1000 wbytes=2000 rios=1 wios=2 dbytes=0 dios=0\n253:0 rbytes=5 wbytes=6 rios=1 wios=1 dbytes=0 dios=0\n")),
        };

        var u = CgroupUsage.Read(dirs);

        Assert.That(u, Is.EqualTo(new ContainerUsage(1.5, 2097152, null, 3, 1005, 2006)));
    }

    [Test]
    public void V2_limit_is_read_when_set()
    {
        var dirs = new Dictionary<string, string> { ["unified"] = Write("unified", ("memory.current", "1\n"), ("memory.max", "268435456\n")) };

        Assert.That(CgroupUsage.Read(dirs).MemoryLimitBytes, Is.EqualTo(268435456));
    }

    [Test]
    public void Missing_dirs_and_files_give_nulls_not_errors()
    {
        var dirs = new Dictionary<string, string>
        {
            ["cpu,cpuacct"] = Path.Combine(_dir, "gone"),
            ["memory"] = Write("memory"),
            ["unified"] = Path.Combine(_dir, "gone-too"),
        };

        Assert.That(CgroupUsage.Read(dirs), Is.EqualTo(ContainerUsage.None));
    }

    [Test]
    public void Blkio_falls_back_to_the_scheduler_file()
    {
        var dirs = new Dictionary<string, string> { ["blkio"] = Write("blkio", ("blkio.io_service_bytes_recursive", "8:0 Read 10\n8:0 Write 20\nTotal 30\n")) };

        var u = CgroupUsage.Read(dirs);

        Assert.That((u.IoReadBytes, u.IoWriteBytes), Is.EqualTo(((ulong?)10, (ulong?)20)));
    }

    [Test]
    public void Dirs_adds_the_cgroup_path_below_each_hierarchy_the_mapping_does_not_list()
    {
        var paths = new Dictionary<string, string> { ["cpuset"] = "/sys/fs/cgroup/cpuset/machine/lxc.payload.web" };
        (string, string)[] hierarchies = [("cpuset", "/sys/fs/cgroup/cpuset"), ("memory", "/sys/fs/cgroup/memory/"), ("unified", "/sys/fs/cgroup/unified")];

        var dirs = CgroupUsage.Dirs(paths, hierarchies, "/machine/lxc.payload.web");

        Assert.That(dirs, Is.EquivalentTo(new Dictionary<string, string>
        {
            ["cpuset"] = "/sys/fs/cgroup/cpuset/machine/lxc.payload.web",
            ["memory"] = "/sys/fs/cgroup/memory/machine/lxc.payload.web",
            ["unified"] = "/sys/fs/cgroup/unified/machine/lxc.payload.web",
        }));
    }

    [Test]
    [NonParallelizable]
    public void Real_cgroupfs_counts_a_busy_task_in_a_scratch_cgroup()
    {
        // Tasks are moved into cpu, cpuacct and pids only: the memory hierarchy holds the machine agent's cgroup, which
        // no test moves a task out of. The scratch memory cgroup stays empty and gets a limit of its own.
        Hierarchy[] hierarchies = [HostHierarchies.V1("cpu"), HostHierarchies.V1("cpuacct"), HostHierarchies.V1("pids"), HostHierarchies.V1("memory"), HostHierarchies.V1("blkio")];
        using var scratch = HostHierarchies.Scratch(hierarchies);
        CgroupFs.Write(scratch["memory"], scratch.Name, "memory.limit_in_bytes", "67108864");
        var dirs = hierarchies.ToDictionary(h => h.Key, h => h.DirOf(scratch.Name));
        var busy = Process.Start(new ProcessStartInfo("sh", ["-c", "while :; do :; done"]) { UseShellExecute = false })!;
        try
        {
            foreach (var key in new[] { "cpu", "cpuacct", "pids" })
            {
                CgroupFs.AddProcess(scratch[key], scratch.Name, busy.Id);
            }

            var first = CgroupUsage.Read(dirs);
            var until = Stopwatch.StartNew();
            var later = first;
            while (later.CpuSeconds <= first.CpuSeconds && until.Elapsed < TimeSpan.FromSeconds(10))
            {
                Thread.Sleep(50);
                later = CgroupUsage.Read(dirs);
            }

            Assert.That(first.Pids, Is.EqualTo(1));
            Assert.That(later.CpuSeconds, Is.GreaterThan(first.CpuSeconds ?? double.MaxValue));
            Assert.That(first.MemoryBytes, Is.Not.Null);
            Assert.That(first.MemoryLimitBytes, Is.EqualTo(67108864));
            Assert.That(first.IoReadBytes, Is.Not.Null, "blkio.throttle.io_service_bytes_recursive is there on this kernel");
        }
        finally
        {
            busy.Kill();
            busy.WaitForExit();
        }
    }

    [Test]
    [NonParallelizable]
    public void The_reader_keeps_files_open_reads_current_figures_and_reopens_a_cgroup_made_anew()
    {
        Hierarchy[] hierarchies = [HostHierarchies.V1("pids"), HostHierarchies.V1("memory")];
        using var scratch = HostHierarchies.Scratch(hierarchies);
        var sub = scratch.Rel("c");
        foreach (var h in hierarchies)
        {
            CgroupFs.CreateDir(h, sub);
        }

        CgroupFs.Write(scratch["memory"], sub, "memory.limit_in_bytes", "67108864");
        var dirs = hierarchies.ToDictionary(h => h.Key, h => h.DirOf(sub));
        using var reader = new UsageReader();

        var first = reader.Read(dirs);
        var sleeper = scratch.Start("sleep", "60");
        CgroupFs.AddProcess(scratch["pids"], sub, sleeper.Id);
        var second = reader.Read(dirs);
        var kept = reader.OpenFiles;
        sleeper.Kill();
        sleeper.WaitForExit();
        Assert.That(Poll(() => CgroupFs.ReadProcs(scratch["pids"], sub).Count == 0), Is.True);
        foreach (var h in hierarchies)
        {
            Assert.That(CgroupFs.RemoveDir(h, sub), Is.True);
            CgroupFs.CreateDir(h, sub);
        }

        CgroupFs.Write(scratch["memory"], sub, "memory.limit_in_bytes", "33554432");
        var anew = reader.Read(dirs);
        reader.Sweep();
        reader.Sweep();

        Assert.That((first.Pids, second.Pids), Is.EqualTo(((ulong?)0, (ulong?)1)), "a kept file reads the current figure");
        Assert.That(kept, Is.EqualTo(3), "pids.current, memory.usage_in_bytes, memory.limit_in_bytes");
        Assert.That(anew.MemoryLimitBytes, Is.EqualTo(33554432), "the cgroup made anew is read, not the removed one");
        Assert.That(reader.OpenFiles, Is.Zero, "a sweep with no read in between closes everything");
    }

    [Test]
    public void A_reader_without_room_for_descriptors_reads_the_plain_way()
    {
        var dirs = new Dictionary<string, string> { ["pids"] = Write("pids", ("pids.current", "5\n")) };
        using var reader = new UsageReader(capacity: 0);

        Assert.That(reader.Read(dirs).Pids, Is.EqualTo(5));
        Assert.That(reader.OpenFiles, Is.Zero);
    }

    private static bool Poll(Func<bool> condition)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(10))
            {
                return false;
            }

            Thread.Sleep(20);
        }

        return true;
    }

    private string Write(string name, params (string File, string Text)[] files)
    {
        var dir = Path.Combine(_dir, name);
        Directory.CreateDirectory(dir);
        foreach (var (file, text) in files)
        {
            File.WriteAllText(Path.Combine(dir, file), text);
        }

        return dir;
    }
}
