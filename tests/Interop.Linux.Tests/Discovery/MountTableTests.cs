using Interop.Linux.Discovery;

namespace Interop.Linux.Tests.Discovery;

public class MountTableTests
{
    [TestCase(
        "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
        "/sys/fs/cgroup/cpu", "/", "cgroup", "rw,cpu", "rw,relatime", "0:28", 31, 30,
        TestName = "mountinfo: plain v1 line from this host")]
    [TestCase(
        "45 30 0:40 / /mnt/my\\040cgroup rw,relatime shared:5 master:1 - cgroup cgroup rw,cpu",
        "/mnt/my cgroup", "/", "cgroup", "rw,cpu", "rw,relatime", "0:40", 45, 30,
        TestName = "mountinfo: escaped space and two optional fields")]
    [TestCase(
        "46 30 0:41 /a\\011b /mnt/back\\134slash\\012nl rw shared:1 master:2 propagate_from:3 unbindable - cgroup none rw,name=x",
        "/mnt/back\\slash\nnl", "/a\tb", "cgroup", "rw,name=x", "rw", "0:41", 46, 30,
        TestName = "mountinfo: tab, backslash and newline escapes, four optional fields")]
    [TestCase(
        "1234 1200 0:31 /lxc.payload.c1 /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime master:12 - cgroup cgroup rw,memory",
        "/sys/fs/cgroup/memory", "/lxc.payload.c1", "cgroup", "rw,memory", "rw,nosuid,nodev,noexec,relatime", "0:31", 1234, 1200,
        TestName = "mountinfo: subtree root of a container")]
    [TestCase(
        "40 30 0:37 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot",
        "/sys/fs/cgroup", "/", "cgroup2", "rw,nsdelegate,memory_recursiveprot", "rw,nosuid,nodev,noexec,relatime", "0:37", 40, 30,
        TestName = "mountinfo: cgroup2 with nsdelegate")]
    [TestCase(
        "26 25 0:23 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct",
        "/sys/fs/cgroup/cpu,cpuacct", "/", "cgroup", "rw,cpu,cpuacct", "rw,nosuid,nodev,noexec,relatime", "0:23", 26, 25,
        TestName = "mountinfo: co-mounted cpu,cpuacct")]
    [TestCase(
        "25 24 0:22 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd",
        "/sys/fs/cgroup/systemd", "/", "cgroup", "rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd", "rw,nosuid,nodev,noexec,relatime", "0:22", 25, 24,
        TestName = "mountinfo: named systemd hierarchy")]
    public void Parses_mountinfo_line(string line, string mountPoint, string root, string fsType, string superOptions, string mountOptions, string device, int id, int parent)
    {
        Assert.That(MountTable.TryParseLine(line, out var entry), Is.True);
        var source = line.Split(" - ")[1].Split(' ')[1];
        Assert.That(entry, Is.EqualTo(new MountEntry(mountPoint, root, fsType, source, superOptions, mountOptions, device, id, parent, MountTableFormat.MountInfo)));
    }

    [TestCase("cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpuacct,cpu 0 0", "/sys/fs/cgroup/cpu,cpuacct", "cgroup", "cgroup", "rw,nosuid,nodev,noexec,relatime,cpuacct,cpu")]
    [TestCase("none /not/really/sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0", "/not/really/sys/fs/cgroup/unified", "cgroup2", "none", "rw,nosuid,nodev,noexec,relatime,nsdelegate")]
    [TestCase("my\\040src /mnt/a\\040b cgroup rw,cpu 0 0", "/mnt/a b", "cgroup", "my src", "rw,cpu")]
    [TestCase("cgroup /cgroup/cpu cgroup rw,cpu", "/cgroup/cpu", "cgroup", "cgroup", "rw,cpu")]
    public void Parses_short_mounts_line(string line, string mountPoint, string fsType, string source, string options)
    {
        Assert.That(MountTable.TryParseLine(line, out var entry), Is.True);
        Assert.That(entry, Is.EqualTo(new MountEntry(mountPoint, "/", fsType, source, options, string.Empty, null, -1, -1, MountTableFormat.Mounts)));
    }

    [TestCase("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue")]
    [TestCase("cgroup_root /sys/fs/cgroup tmpfs rw,nosuid,nodev,noexec,relatime,size=10240k,mode=755 0 0")]
    [TestCase("proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0")]
    public void Skips_other_filesystems_unless_asked(string line)
    {
        Assert.That(MountTable.TryParseLine(line, out _), Is.False);
        Assert.That(MountTable.TryParseLine(line, out var entry, cgroupOnly: false), Is.True);
        Assert.That(entry!.IsCgroup1 || entry.IsCgroup2, Is.False);
    }

    [TestCase("")]
    [TestCase("garbage")]
    [TestCase("a b c")]
    [TestCase("cgroup relative/path cgroup rw,cpu 0 0")]
    [TestCase("1 2 0:3 / /x rw")]
    [TestCase("cgroup /a cgroup rw,cpu 0 0 extra field")]
    [TestCase("31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup")]
    public void Rejects_malformed_line(string line)
    {
        Assert.That(MountTable.TryParseLine(line, out var entry, cgroupOnly: false), Is.False);
        Assert.That(entry, Is.Null);
    }

    [Test]
    public void Parse_skips_malformed_lines_and_keeps_the_rest()
    {
        var text = "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
            + "this is not a mount line\n"
            + "\n"
            + "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\r\n";

        var entries = MountTable.Parse(text);

        Assert.That(entries.Select(e => e.MountPoint), Is.EqualTo(new[] { "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory" }));
        Assert.That(entries.Select(e => e.Format), Is.EqualTo(new[] { MountTableFormat.MountInfo, MountTableFormat.Mounts }));
    }

    [TestCase("plain", "plain")]
    [TestCase("a\\040b", "a b")]
    [TestCase("trailing\\04", "trailing\\04")]
    [TestCase("not\\999octal", "not\\999octal")]
    [TestCase("\\134\\134", "\\\\")]
    public void Unescapes_octal(string raw, string decoded)
        => Assert.That(MountTable.Unescape(raw), Is.EqualTo(decoded));

    [Test]
    public void Reads_only_cgroup_lines_of_a_big_table()
    {
        var entries = MountTable.Read(Fixtures.Libvirt("ovirt-node-6.6", "mounts"));
        var all = MountTable.Read(Fixtures.Libvirt("ovirt-node-6.6", "mounts"), cgroupOnly: false);

        Assert.That(entries, Has.Count.EqualTo(8));
        Assert.That(entries.All(e => e.IsCgroup1), Is.True);
        Assert.That(all, Has.Count.EqualTo(File.ReadAllLines(Fixtures.Libvirt("ovirt-node-6.6", "mounts")).Length));
    }

    [Test]
    public void Super_options_are_the_fields_after_the_source()
    {
        Assert.That(MountTable.TryParseLine("40 30 0:37 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw,nsdelegate", out var entry), Is.True);
        Assert.That(entry!.SuperOptions.Split(','), Is.EqualTo(new[] { "rw", "nsdelegate" }));
    }
}
