using Interop.Core.Model;

namespace Interop.Core.Tests;

/// <summary>The one rule for which hierarchy speaks for a container.</summary>
public sealed class PrimaryHierarchyTests
{
    [TestCase(new[] { "name=systemd", "memory", "cpuset", "unified" }, "cpuset")]
    [TestCase(new[] { "unified", "pids", "memory" }, "memory")]
    [TestCase(new[] { "unified" }, "unified")]
    [TestCase(new[] { "name=systemd", "unified" }, "unified")]
    [TestCase(new[] { "name=a", "name=b" }, "name=a")]
    public void Cpuset_first_then_the_usual_controllers_then_anything_in_order(string[] keys, string expected)
        => Assert.That(PrimaryHierarchy.Of(keys), Is.EqualTo(expected));

    [Test]
    public void No_hierarchy_has_no_primary()
        => Assert.That(PrimaryHierarchy.Of([]), Is.Null);
}
