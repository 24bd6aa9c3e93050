using Interop.Core.Model;

namespace Interop.Core.Tests;

/// <summary>The one "at or below" rule and the two spellings of a cgroup path ("/machine" and "machine").</summary>
public sealed class CgroupPathTests
{
    [TestCase("/machine", "/machine", "machine")]
    [TestCase("machine", "/machine", "machine")]
    [TestCase("/machine/", "/machine", "machine")]
    [TestCase("machine/lxc.payload.web", "/machine/lxc.payload.web", "machine/lxc.payload.web")]
    [TestCase("//machine//lxc.payload.web/", "/machine/lxc.payload.web", "machine/lxc.payload.web")]
    [TestCase("/", "/", "")]
    [TestCase("", "/", "")]
    public void Either_spelling_becomes_one_path(string spelled, string value, string relative)
        => Assert.Multiple(() =>
        {
            var path = CgroupPath.Of(spelled);
            Assert.That(path.Value, Is.EqualTo(value));
            Assert.That(path.Relative, Is.EqualTo(relative));
            Assert.That(path, Is.EqualTo(CgroupPath.Of(value)));
            Assert.That(path.ToString(), Is.EqualTo(value));
        });

    [TestCase("/machine", "/machine", true)]
    [TestCase("/machine/lxc.payload.web", "/machine", true)]
    [TestCase("machine/a/b", "/machine/", true)]
    [TestCase("/machine2", "/machine", false)]
    [TestCase("/machinery/x", "/machine", false)]
    [TestCase("/", "/machine", false)]
    [TestCase("/machine", "/machine/lxc.payload.web", false)]
    [TestCase("/anything/at/all", "/", true)]
    [TestCase("/", "", true)]
    public void At_or_below_is_component_wise(string path, string ancestor, bool expected)
        => Assert.Multiple(() =>
        {
            Assert.That(CgroupPath.IsAtOrBelow(path, ancestor), Is.EqualTo(expected));
            Assert.That(CgroupPath.Of(path).IsAtOrBelow(CgroupPath.Of(ancestor)), Is.EqualTo(expected));
        });

    [TestCase("/machine/x", "/machine", true)]
    [TestCase("/machine", "/machine", false)]
    [TestCase("/machine/", "machine", false)]
    [TestCase("/machinex", "/machine", false)]
    [TestCase("/a", "/", true)]
    [TestCase("/", "/", false)]
    public void Below_excludes_the_ancestor_itself(string path, string ancestor, bool expected)
        => Assert.That(CgroupPath.Of(path).IsBelow(CgroupPath.Of(ancestor)), Is.EqualTo(expected));

    [Test]
    public void Parent_and_name_walk_the_tree()
        => Assert.Multiple(() =>
        {
            var web = CgroupPath.Of("/machine/lxc.payload.web");
            Assert.That(web.Name, Is.EqualTo("lxc.payload.web"));
            Assert.That(web.Parent.Value, Is.EqualTo("/machine"));
            Assert.That(web.Parent.Parent, Is.EqualTo(CgroupPath.Root));
            Assert.That(CgroupPath.Root.Parent.IsRoot, Is.True);
            Assert.That(CgroupPath.Root.Name, Is.Empty);
            Assert.That(default(CgroupPath), Is.EqualTo(CgroupPath.Of("/")));
        });

    [TestCase("/machine/a/b", "/machine", "a/b")]
    [TestCase("/machine", "/machine", "")]
    [TestCase("/machine/a", "/", "machine/a")]
    public void Relative_to_an_ancestor_drops_its_part(string path, string ancestor, string expected)
        => Assert.That(CgroupPath.Of(path).RelativeTo(CgroupPath.Of(ancestor)), Is.EqualTo(expected));

    [Test]
    public void Relative_to_a_path_it_is_not_below_is_refused()
        => Assert.That(() => CgroupPath.Of("/machinex/a").RelativeTo(CgroupPath.Of("/machine")), Throws.ArgumentException);
}
