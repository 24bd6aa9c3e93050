using Interop.Core.Model;

namespace Interop.DBus.Tests;

public class ObjectPathsTests
{
    [TestCase("", "_")]
    [TestCase("web01", "web01")]
    [TestCase("web-01", "web_2d01")]
    [TestCase("a.b", "a_2eb")]
    [TestCase("db_1", "db_5f1")]
    [TestCase("_", "_5f")]
    [TestCase("with space", "with_20space")]
    [TestCase("zürich", "z_c3_bcrich")]
    [TestCase("容器", "_e5_ae_b9_e5_99_a8")]
    public void Escape_matches_systemd_and_round_trips(string name, string escaped)
    {
        Assert.That(ObjectPaths.Escape(name), Is.EqualTo(escaped));
        Assert.That(ObjectPaths.TryUnescape(escaped, out var back), Is.True);
        Assert.That(back, Is.EqualTo(name));
    }

    [TestCase(Manager.Lxc, "web-01", "/org/interop/Interop1/container/lxc_web_2d01")]
    [TestCase(Manager.Libvirt, "db_1", "/org/interop/Interop1/container/libvirt_db_5f1")]
    [TestCase(Manager.Lxc, "", "/org/interop/Interop1/container/lxc__")]
    [TestCase(Manager.Libvirt, "-x.", "/org/interop/Interop1/container/libvirt__2dx_2e")]
    [TestCase(Manager.Lxc, "ünï.cøde-名", "/org/interop/Interop1/container/lxc__c3_bcn_c3_af_2ec_c3_b8de_2d_e5_90_8d")]
    public void Container_path_round_trips(Manager manager, string name, string path)
    {
        Assert.That(ObjectPaths.ForContainer(manager, name), Is.EqualTo(path));
        Assert.That(ObjectPaths.TryParseContainer(path, out var id), Is.True);
        Assert.That(id, Is.EqualTo(new ContainerId(manager, name)));
    }

    [TestCase("/org/interop/Interop1/container/docker_x")]
    [TestCase("/org/interop/Interop1/container/lxc")]
    [TestCase("/org/interop/Interop1/container/lxc_")]
    [TestCase("/org/interop/Interop1/container/lxc_a_2D")]
    [TestCase("/org/interop/Interop1/container/lxc_a_41")]
    [TestCase("/org/interop/Interop1/container/lxc_a_2")]
    [TestCase("/org/interop/Interop1/container/lxc_a_ff")]
    [TestCase("/org/interop/Interop1/container/lxc_a/b")]
    [TestCase("/org/interop/Interop1/lxc_a")]
    public void Non_canonical_or_foreign_paths_are_refused(string path)
    {
        Assert.That(ObjectPaths.TryParseContainer(path, out _), Is.False);
    }
}
