using Interop.Linux.Native;

namespace Interop.Linux.Tests.Native;

/// <summary>Nss against this host's real name service (/etc/passwd and /etc/group have root on every Linux).</summary>
public class NssTests
{
    [Test]
    public void Root_is_found_by_name_and_by_uid()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Nss.UidOf("root"), Is.EqualTo(0u));
            Assert.That(Nss.UserOf(0), Is.EqualTo(("root", 0u, 0u)));
            Assert.That(Nss.GidOf("root"), Is.EqualTo(0u));
            Assert.That(Nss.GroupsOf("root", 0), Does.Contain(0u));
        });
    }

    [Test]
    public void Names_and_ids_nobody_has_are_not_found()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Nss.UidOf("interop-no-such-user"), Is.Null);
            Assert.That(Nss.GidOf("interop-no-such-group"), Is.Null);
            Assert.That(Nss.UserOf(4_000_000_000), Is.Null);
        });
    }

    [Test]
    public void Many_lookups_read_the_name_of_the_entry_they_filled()
    {
        // The name is read from the lookup's buffer: it must still be there, unmoved, when it is read.
        var names = Enumerable.Range(0, 2000).AsParallel().Select(_ =>
        {
            GC.Collect(0, GCCollectionMode.Forced, blocking: false);
            return Nss.UserOf(0)?.Name;
        }).Distinct().ToList();

        Assert.That(names, Is.EqualTo(new[] { "root" }));
    }
}
