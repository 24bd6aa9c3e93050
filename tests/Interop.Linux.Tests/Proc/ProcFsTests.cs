using System.Diagnostics;
using Interop.Linux.Proc;

namespace Interop.Linux.Tests.Proc;

public class ProcFsTests
{
    [TestCase("8787 (cat) R 8774 8774 6127 0 -1 4194304 100 0 0 0", 8787, "cat", 'R', 8774)]
    [TestCase("42 (a) (b c) S 1 42 42 0 -1", 42, "a) (b c", 'S', 1)]
    [TestCase("43 (x)) Z 7 0 0", 43, "x)", 'Z', 7)]
    [TestCase("44 (sp ace ) ) D 2 44\n", 44, "sp ace ) ", 'D', 2)]
    [TestCase("45 () X 0 0", 45, "", 'X', 0)]
    [TestCase("46 (lxc 1) S 3", 46, "lxc 1", 'S', 3)]
    public void Parses_stat_from_the_last_parenthesis(string line, int pid, string comm, char state, int parent)
        => Assert.That(ProcFs.ParseStat(line), Is.EqualTo(new ProcStat(pid, comm, state, parent)));

    [TestCase("")]
    [TestCase("garbage")]
    [TestCase("12 (x)")]
    [TestCase("(x) R 1")]
    [TestCase("12 (x) R notapid 3")]
    public void Malformed_stat_throws(string line)
        => Assert.Throws<FormatException>(() => ProcFs.ParseStat(line));

    [TestCase('R', true)]
    [TestCase('S', true)]
    [TestCase('D', true)]
    [TestCase('T', true)]
    [TestCase('Z', false)]
    [TestCase('X', false)]
    public void IsAlive_reads_the_state_under_a_proc_root(char state, bool alive)
    {
        using var root = new FakeProc();
        root.Stat(100, $"100 (my ) (comm) {state} 1 100 100 0");

        Assert.That(ProcFs.IsAlive(100, root.Path), Is.EqualTo(alive));
        Assert.That(ProcFs.TryReadStat(100, root.Path)!.Value.Comm, Is.EqualTo("my ) (comm"));
    }

    [Test]
    public void A_missing_pid_is_not_alive()
    {
        using var root = new FakeProc();

        Assert.That(ProcFs.IsAlive(101, root.Path), Is.False);
        Assert.That(ProcFs.IsAlive(0, root.Path), Is.False);
        Assert.That(ProcFs.TryReadStat(101, root.Path), Is.Null);
    }

    [Test]
    public void Cgroup_namespace_is_compared_with_pid_1()
    {
        using var root = new FakeProc();
        root.CgroupNs("1", 4026531835);
        root.CgroupNs("200", 4026531835);
        root.CgroupNs("201", 4026532999);

        Assert.That(ProcFs.ReadCgroupNamespaceLink(201, root.Path), Is.EqualTo("cgroup:[4026532999]"));
        Assert.That(ProcFs.ReadCgroupNamespaceInode(201, root.Path), Is.EqualTo(4026532999UL));
        Assert.That(ProcFs.HasPrivateCgroupNamespace(200, root.Path), Is.False);
        Assert.That(ProcFs.HasPrivateCgroupNamespace(201, root.Path), Is.True);
        Assert.That(ProcFs.HasPrivateCgroupNamespace(202, root.Path), Is.Null);
    }

    [Test]
    public void Cgroup_namespace_falls_back_to_self_without_pid_1()
    {
        using var root = new FakeProc();
        root.CgroupNs("self", 10);
        root.CgroupNs("200", 10);
        root.CgroupNs("201", 11);

        Assert.That(ProcFs.HasPrivateCgroupNamespace(200, root.Path), Is.False);
        Assert.That(ProcFs.HasPrivateCgroupNamespace(201, root.Path), Is.True);
    }

    [TestCase("cgroup:[]")]
    [TestCase("net:[4026531835]")]
    [TestCase("cgroup:4026531835")]
    [TestCase("cgroup:[12x]")]
    public void Malformed_namespace_link_throws(string link)
        => Assert.Throws<FormatException>(() => ProcFs.ParseNamespaceLink(link, "cgroup"));

    [Test]
    public void Live_self_is_alive_and_in_the_host_cgroup_namespace()
    {
        Assert.That(ProcFs.IsAlive(Environment.ProcessId), Is.True);
        Assert.That(ProcFs.TryReadStat(Environment.ProcessId)!.Value.Pid, Is.EqualTo(Environment.ProcessId));
        var inode = ProcFs.ReadCgroupNamespaceInode(Environment.ProcessId);
        Assert.That(inode, Is.Not.Null);
        Assert.That(ProcFs.ReadOwnCgroupNamespaceInode(), Is.EqualTo(inode));
        Assert.That(ProcFs.HasPrivateCgroupNamespace(Environment.ProcessId), Is.False);
    }

    [Test]
    public void Live_reaped_child_is_not_alive()
    {
        using var child = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!;
        child.WaitForExit();

        Assert.That(ProcFs.IsAlive(child.Id), Is.False);
        Assert.That(ProcFs.HasPrivateCgroupNamespace(child.Id), Is.Null);
    }

    [Test]
    public void Live_child_in_a_new_cgroup_namespace_is_private()
    {
        // Needs root (CAP_SYS_ADMIN) like the rest of the Linux tests; unshare is util-linux.
        using var child = Process.Start(new ProcessStartInfo("unshare", ["--cgroup", "--", "sh", "-c", "echo ready; exec cat"])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        })!;
        try
        {
            Assert.That(child.StandardOutput.ReadLine(), Is.EqualTo("ready"), "unshare --cgroup ran");
            Assert.That(ProcFs.IsAlive(child.Id), Is.True);
            Assert.That(ProcFs.HasPrivateCgroupNamespace(child.Id), Is.True);
        }
        finally
        {
            child.StandardInput.Close();
            if (!child.WaitForExit(10_000))
            {
                child.Kill();
                child.WaitForExit();
            }
        }
    }

    private sealed class FakeProc : IDisposable
    {
        private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("interop-fakeproc-");

        public string Path => _dir.FullName;

        public void Stat(int pid, string line)
        {
            var dir = Directory.CreateDirectory(System.IO.Path.Combine(Path, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            File.WriteAllText(System.IO.Path.Combine(dir.FullName, "stat"), line + "\n");
        }

        public void CgroupNs(string pid, ulong inode)
        {
            var dir = Directory.CreateDirectory(System.IO.Path.Combine(Path, pid, "ns"));
            File.CreateSymbolicLink(System.IO.Path.Combine(dir.FullName, "cgroup"), $"cgroup:[{inode}]");
        }

        public void Dispose() => _dir.Delete(recursive: true);
    }
}
