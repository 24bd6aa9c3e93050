using Interop.Core.Adapters.Libvirt;
using Interop.Core.Adapters.Lxc;
using Interop.Core.Model;

namespace Interop.Service.Tests;

/// <summary>StaleDirs: a layout's name test, narrowed by the registry and the live state (issue 12, point 3).</summary>
public class StaleDirsTests
{
    private static readonly LxcLayout Lxc = new();
    private static readonly LibvirtLayout Libvirt = new(["cpuset", "cpu", "memory"]);

    /// <summary>The parent's children as the cgroup host lists them: only the names the test accepts.</summary>
    private static Func<Func<string, bool>, IReadOnlyCollection<string>> Listing(string[] children) =>
        where => children.Where(where).ToList();

    private static Mapping Running(Manager manager, string name, int leader, string path) =>
        new(manager, name, "", ContainerState.Running, leader, path, new Dictionary<string, string>(), 0, CgroupNamespaceKind.Host, MappingSource.Hook);

    private static Mapping Prepared(Manager manager, string name) =>
        new(manager, name, "", ContainerState.Prepared, 0, "", new Dictionary<string, string>(), 0, CgroupNamespaceKind.Host, MappingSource.Hook);

    [Test]
    public void An_LXC_retry_reading_dir_is_a_leftover_only_when_no_registered_or_live_container_has_that_name()
    {
        string[] children = ["lxc.payload.web", "lxc.monitor.web", "lxc.payload.web-7", "lxc.monitor.web-7", "lxc.payload.web-3", "lxc.payload.web-1", "lxc.payload.web-2", "lxc.monitor.web-2"];
        Mapping[] registry = [Prepared(Manager.Lxc, "web-3"), Running(Manager.Lxc, "web-7", 4242, "/machine/lxc.payload.web-7")];
        var busy = new HashSet<string> { "machine/lxc.monitor.web-2" };

        var found = StaleDirs.Of(Lxc, new ContainerId(Manager.Lxc, "web"), "machine", Listing(children), () => registry, busy.Contains, _ => false);

        Assert.That(found, Is.EqualTo(new[]
        {
            new StaleDirs.Leftover("lxc.payload.web", true),
            new StaleDirs.Leftover("lxc.monitor.web", true),
            new StaleDirs.Leftover("lxc.payload.web-1", false),
        }), "web-7 is registered, web-3 is prepared, web-2's monitor holds a task: none of them is web's");
    }

    [Test]
    public void A_libvirt_leaf_is_a_leftover_only_when_its_controller_is_dead_and_no_other_domain_owns_it()
    {
        string[] children = ["lxc-100-ab.libvirt-lxc", "lxc-200-ab.libvirt-lxc", "lxc-300-ab.libvirt-lxc", "lxc-400-other.libvirt-lxc"];
        Mapping[] registry = [Running(Manager.Libvirt, "a_b", 100, "/machine/lxc-100-ab.libvirt-lxc")];

        var found = StaleDirs.Of(Libvirt, new ContainerId(Manager.Libvirt, "ab"), "machine", Listing(children), () => registry, _ => false, pid => pid == 200);

        Assert.That(found, Is.EqualTo(new[] { new StaleDirs.Leftover("lxc-300-ab.libvirt-lxc", false) }));
    }

    [Test]
    public void Siblings_that_fail_the_name_test_leave_the_registry_and_the_dirs_unread()
    {
        // A big host: thousands of other containers' dirs beside web's, none of them web's.
        string[] children = [.. Enumerable.Range(1, 2000).Select(i => $"lxc.payload.web{i}x"), "lxc.monitor.we", "lxc.pivot"];
        var reads = 0;

        var found = StaleDirs.Of(Lxc, new ContainerId(Manager.Lxc, "web"), "machine", Listing(children),
            () =>
            {
                reads++;
                return [];
            },
            dir => throw new AssertionException($"{dir}'s tasks were read"), _ => false);

        Assert.That((found.Count, reads), Is.EqualTo((0, 0)));
    }
}
