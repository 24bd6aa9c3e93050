using Interop.Core;
using Interop.Linux.Cgroups;
using Interop.Linux.Tests.Support;

namespace Interop.Linux.Tests.Cgroups;

/// <summary>Hostile names never reach the filesystem: every entry point refuses them and nothing is created.</summary>
[NonParallelizable]
public class PathEscapeTests
{
    private static readonly Hierarchy[] Both = [HostHierarchies.Cpuset, HostHierarchies.Systemd];

    private static readonly string[] Hostile =
    [
        "../x",
        "a/../../b",
        "a\0b",
        "x\n",
        new string('n', 256),
        "/",
        "a//b",
        "..",
        "a/./b",
    ];

    private static IEnumerable<TestCaseData> Cases() =>
        Hostile.Select(h => new TestCaseData(h).SetArgDisplayNames(Printable.Of(h).Length > 20 ? "256-byte name" : Printable.Of(h)));

    [TestCaseSource(nameof(Cases))]
    public void Every_entry_point_refuses_the_name_and_creates_nothing(string hostile)
    {
        using var scratch = HostHierarchies.Scratch(Both);
        var root = scratch.Rel("machine");
        SharedRoot.Setup(Both, root, new SharedRootOptions { Boundary = scratch.Name });
        var before = Both.Select(scratch.Listing).ToList();
        var below = root + "/" + hostile;

        Assert.Multiple(() =>
        {
            Assert.That(() => SharedRoot.Setup(Both, below, new SharedRootOptions { Boundary = scratch.Name }), Throws.TypeOf<InvalidInputException>().With.Property(nameof(InvalidInputException.Field)).EqualTo("shared root"));
            Assert.That(() => SharedRoot.Setup(Both, hostile, new SharedRootOptions { Boundary = scratch.Name }), Throws.TypeOf<InvalidInputException>());
            Assert.That(() => SharedRoot.EnsureDir(Both, root, below), Throws.TypeOf<InvalidInputException>());
            Assert.That(() => CgroupFs.CreateDir(HostHierarchies.Cpuset, below), Throws.TypeOf<InvalidInputException>());
            Assert.That(() => CgroupFs.Write(HostHierarchies.Cpuset, below, CgroupFs.CloneChildren, "1"), Throws.TypeOf<InvalidInputException>());
            Assert.That(() => Pruner.RemoveIfEmpty(Both, root, below), Throws.TypeOf<InvalidInputException>());
            Assert.That(Both.Select(scratch.Listing).ToList(), Is.EqualTo(before));
            Assert.That(Directory.Exists(HostHierarchies.Cpuset.DirOf(scratch.Rel("x"))), Is.False);
            Assert.That(Directory.Exists(HostHierarchies.Cpuset.DirOf("b")), Is.False);
        });
    }

    [Test]
    public void A_hostile_control_file_name_is_refused()
    {
        using var scratch = HostHierarchies.Scratch(HostHierarchies.Cpuset);
        Assert.That(() => CgroupFs.Read(HostHierarchies.Cpuset, scratch.Name, "../cpuset.cpus"), Throws.TypeOf<InvalidInputException>());
    }
}
