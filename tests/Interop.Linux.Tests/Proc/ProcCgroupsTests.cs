using Interop.Linux.Proc;
using Interop.Linux.Tests.Discovery;

namespace Interop.Linux.Tests.Proc;

public class ProcCgroupsTests
{
    [TestCase("all-in-one", 6)]
    [TestCase("cgroups1", 10)]
    [TestCase("cgroups3", 11)]
    [TestCase("fedora-18", 9)]
    [TestCase("fedora-21", 11)]
    [TestCase("hybrid", 11)]
    [TestCase("kubevirt", 9)]
    [TestCase("logind", 9)]
    [TestCase("no-cgroups", 7)]
    [TestCase("ovirt-node-6.6", 8)]
    [TestCase("ovirt-node-7.1", 10)]
    [TestCase("systemd", 7)]
    [TestCase("systemd-legacy", 11)]
    [TestCase("unified", 12)]
    public void Parses_every_libvirt_capture(string name, int count)
    {
        var path = Fixtures.Libvirt(name, "cgroups");
        var entries = ProcCgroups.Read(path);

        Assert.That(entries, Has.Count.EqualTo(count));
        Assert.That(ProcCgroups.ControllerNames(entries), Is.EqualTo(
            File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0).Select(l => l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0])));
    }

    [Test]
    public void Systemd_capture_lacks_net_cls_which_libvirt_escaping_relies_on()
    {
        var names = ProcCgroups.ReadControllerNames(Fixtures.Libvirt("systemd", "cgroups"));

        Assert.That(names, Is.EqualTo(new[] { "cpuset", "cpu", "cpuacct", "memory", "devices", "freezer", "blkio" }));
    }

    [Test]
    public void This_host_capture_with_tabs()
    {
        var entries = ProcCgroups.Read(Fixtures.ThisHost("debian12-hybrid.cgroups"));

        Assert.That(entries, Has.Count.EqualTo(12));
        Assert.That(entries[0], Is.EqualTo(new ProcCgroupsEntry("cpuset", 3, 1, true)));
        Assert.That(entries.Single(e => e.Subsystem == "net_cls").HierarchyId, Is.Zero);
        Assert.That(entries.Single(e => e.Subsystem == "memory").NumCgroups, Is.EqualTo(21));
    }

    [Test]
    public void Disabled_controller_is_listed_as_disabled()
    {
        var entries = ProcCgroups.Read(Fixtures.Libvirt("logind", "cgroups"));

        Assert.That(entries.Single(e => e.Subsystem == "memory").Enabled, Is.False);
        Assert.That(entries.Single(e => e.Subsystem == "cpu").Enabled, Is.True);
    }

    [TestCase("cpu 1 1")]
    [TestCase("cpu x 1 1")]
    [TestCase("cpu 1 1 2")]
    [TestCase("cpu 1 1 1 extra")]
    public void Malformed_data_line_throws_with_line_number(string line)
    {
        var error = Assert.Throws<FormatException>(() => ProcCgroups.Parse("#subsys_name\thierarchy\tnum_cgroups\tenabled\n" + line + "\n"));
        Assert.That(error!.Message, Does.Contain("line 2"));
    }

    [Test]
    public void Reads_the_live_file()
        => Assert.That(ProcCgroups.ReadControllerNames(), Does.Contain("memory"));
}
