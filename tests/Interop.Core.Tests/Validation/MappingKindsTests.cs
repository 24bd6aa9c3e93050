using Interop.Core.Model;

namespace Interop.Core.Tests.Validation;

/// <summary>The wire strings of the closed value sets (D-Bus properties, state files, --json): the same as when they were strings.</summary>
public sealed class MappingKindsTests
{
    [TestCase(CgroupNamespaceKind.Private, "private")]
    [TestCase(CgroupNamespaceKind.Host, "host")]
    public void A_cgroup_namespace_kind_keeps_its_wire_string(CgroupNamespaceKind kind, string wire)
        => Assert.Multiple(() =>
        {
            Assert.That(kind.ToWire(), Is.EqualTo(wire));
            Assert.That(CgroupNamespaceKindNames.Parse(wire), Is.EqualTo(kind));
        });

    [TestCase(MappingSource.Hook, "hook")]
    [TestCase(MappingSource.Adopted, "adopted")]
    public void A_mapping_source_keeps_its_wire_string(MappingSource source, string wire)
        => Assert.Multiple(() =>
        {
            Assert.That(source.ToWire(), Is.EqualTo(wire));
            Assert.That(MappingSourceNames.Parse(wire), Is.EqualTo(source));
        });

    [Test]
    public void Unknown_is_the_empty_string_of_a_partial_mapping()
        => Assert.Multiple(() =>
        {
            Assert.That(CgroupNamespaceKind.Unknown.ToWire(), Is.Empty);
            Assert.That(MappingSource.Unknown.ToWire(), Is.Empty);
            Assert.That(default(CgroupNamespaceKind), Is.EqualTo(CgroupNamespaceKind.Unknown));
            Assert.That(default(MappingSource), Is.EqualTo(MappingSource.Unknown));
        });

    [TestCase("")]
    [TestCase("Private")]
    [TestCase("shared")]
    [TestCase("host\n")]
    public void Anything_else_is_not_a_cgroup_namespace_kind(string wire)
    {
        var e = Assert.Throws<InvalidInputException>(() => CgroupNamespaceKindNames.Parse(wire));
        Assert.That(e!.Message, Does.Contain("expected 'private' or 'host'"));
    }

    [TestCase("")]
    [TestCase("Hook")]
    [TestCase("manual")]
    public void Anything_else_is_not_a_mapping_source(string wire)
    {
        var e = Assert.Throws<InvalidInputException>(() => MappingSourceNames.Parse(wire));
        Assert.That(e!.Message, Does.Contain("expected 'hook' or 'adopted'"));
    }
}
