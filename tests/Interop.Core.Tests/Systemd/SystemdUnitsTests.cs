using Interop.Core.Config;
using Interop.Core.Systemd;

namespace Interop.Core.Tests.Systemd;

public class SystemdUnitsTests
{
    [TestCase("lxc-web.scope", true)]
    [TestCase("lxc@web.service", true)]
    [TestCase("machine.slice", true)]
    [TestCase("machine-lxc\\x2d4242\\x2dsdct1.scope", true)]
    [TestCase("lxc.payload.web", false)]
    [TestCase("lxc.pivot", false)]
    [TestCase("libvirt", false)]
    [TestCase(".scope", false)]
    [TestCase("web.scopes", false)]
    public void A_unit_dir_is_told_by_its_suffix(string dir, bool unit) => Assert.That(SystemdUnits.IsUnitDir(dir), Is.EqualTo(unit));

    [TestCase("/machine.slice", "machine.slice")]
    [TestCase("machine.slice", "machine.slice")]
    [TestCase("/containers.slice", "containers.slice")]
    public void A_top_level_slice_is_a_valid_shared_root(string root, string slice) => Assert.That(SystemdUnits.ValidateSlice(root), Is.EqualTo(slice));

    [TestCase("/machine")]
    [TestCase("/machine.slice/x")]
    [TestCase("/machine-web.slice")]
    [TestCase("/.slice")]
    [TestCase("/a b.slice")]
    public void Anything_else_is_refused_as_a_shared_root_on_a_systemd_host(string root)
    {
        var e = Assert.Throws<InvalidInputException>(() => SystemdUnits.ValidateSlice(root));
        Assert.That(e!.Message, Does.Contain("top-level systemd slice"));
    }

    [TestCase("web", "lxc-web.scope")]
    [TestCase("web-01", "lxc-web\\x2d01.scope")]
    [TestCase("a_b.c", "lxc-a_b.c.scope")]
    [TestCase(".hidden", "lxc-\\x2ehidden.scope")]
    public void The_lxc_scope_name_escapes_like_systemd_escape(string name, string scope) => Assert.That(SystemdUnits.LxcScopeName(name), Is.EqualTo(scope));

    [TestCase("web", "web")]
    [TestCase("web-01", "web-01")]
    [TestCase("web.01", "web.01")]
    [TestCase("a_b", "a-b")]
    [TestCase("my container", "my-container")]
    [TestCase("..x..y..", "x.y")]
    [TestCase("___", "lxc")]
    public void The_machine_name_is_the_container_name_when_machined_takes_it_else_filtered(string name, string machine)
    {
        var result = SystemdUnits.MachineName(name);
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(machine));
            Assert.That(SystemdUnits.IsValidMachineName(result), Is.True);
        });
    }

    [Test]
    public void A_long_name_is_cut_to_64_characters()
    {
        var result = SystemdUnits.MachineName(new string('a', 70) + "_");
        Assert.That(result, Is.EqualTo(new string('a', 64)));
    }

    [Test]
    public void On_a_systemd_host_an_unset_shared_root_is_machine_slice_and_a_set_one_must_be_a_slice()
    {
        Assert.Multiple(() =>
        {
            Assert.That(new InteropConfig().ForSystemd().SharedRoot, Is.EqualTo("/machine.slice"));
            Assert.That(new InteropConfig { SharedRoot = "/ct.slice", SharedRootSet = true }.ForSystemd().SharedRoot, Is.EqualTo("/ct.slice"));
            Assert.That(new InteropConfig { SharedRoot = "/machine", SharedRootSet = true }.ForSystemd().SharedRoot, Is.EqualTo("/machine.slice"), "libvirt's partition /machine is machine.slice");
            Assert.That(new InteropConfig { SharedRoot = "/containers", SharedRootSet = true }.ForSystemd().SharedRoot, Is.EqualTo("/containers.slice"));
            Assert.Throws<InvalidInputException>(() => new InteropConfig { SharedRoot = "/machine/web", SharedRootSet = true }.ForSystemd());
            Assert.Throws<InvalidInputException>(() => new InteropConfig { SharedRoot = "/web-tier", SharedRootSet = true }.ForSystemd());
        });
    }
}
