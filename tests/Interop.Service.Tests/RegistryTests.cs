using Interop.Core.Model;

namespace Interop.Service.Tests;

public class RegistryTests
{
    [TestCase("/machine/lxc.payload.web.01-a", true)]
    [TestCase("/machine/lxc.payload.web.01-a/", true)]
    [TestCase("/machine/lxc.payload.web.01-a/init.scope/x", true)]
    [TestCase("/machine/lxc.payload.web.01-ab", false)]
    [TestCase("/machine", false)]
    [TestCase("/", false)]
    public void Paths_resolve_to_the_container_that_owns_them_or_an_ancestor(string path, bool found)
    {
        var registry = new Registry();
        registry.Put(StateStoreTests.Sample());

        Assert.That(registry.FindByPath(path)?.Name, found ? Is.EqualTo("web.01-a") : Is.Null);
    }

    [TestCase("/machine/lxc.payload.web.01-a", true)]
    [TestCase("/machine/lxc.payload.web.01-a/init.scope/x", true)]
    [TestCase("/machine/lxc.payload.web.01-a (deleted)", false)]
    [TestCase("/machine/lxc.payload.web.01-ab", false)]
    [TestCase("/machine", false)]
    [TestCase("/", false)]
    [TestCase("", false)]
    [TestCase("machine", false)]
    public void A_normal_path_given_as_a_span_resolves_as_its_string_does(string path, bool found)
    {
        var registry = new Registry();
        registry.Put(StateStoreTests.Sample());

        Assert.That(registry.FindByPath(path.AsSpan())?.Name, found ? Is.EqualTo("web.01-a") : Is.Null);
    }

    [Test]
    public void Put_replaces_and_Remove_forgets_the_path_index()
    {
        var registry = new Registry();
        var first = StateStoreTests.Sample();
        registry.Put(first);
        registry.Put(first with { CgroupPath = "/machine/elsewhere" });

        Assert.Multiple(() =>
        {
            Assert.That(registry.Count, Is.EqualTo(1));
            Assert.That(registry.FindByPath(first.CgroupPath), Is.Null);
            Assert.That(registry.FindByPath("/machine/elsewhere"), Is.Not.Null);
        });

        Assert.That(registry.Remove(first.Id), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(registry.FindByPath("/machine/elsewhere"), Is.Null);
            Assert.That(registry.Remove(first.Id), Is.False);
        });
    }
}
