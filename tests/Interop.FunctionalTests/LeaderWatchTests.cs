using Interop.Core.Model;
using Interop.FunctionalTests.Support;

namespace Interop.FunctionalTests;

/// <summary>
/// The started step without a start-host hook (issue 15): the real interopd registers an LXC container when its
/// init enters lxc.payload.NAME in this host's cgroup2 hierarchy, as the start-host hook would have.
/// </summary>
[TestFixture]
public class LeaderWatchTests
{
    private static readonly Dictionary<string, string> NoFacts = [];

    [Test]
    public void A_prepared_LXC_container_is_registered_when_its_init_enters_its_cgroup()
    {
        using var rig = Rig.Start();
        using var monitor = new BusMonitor(rig.Address, "type='signal',interface='org.interop.Interop1.Manager'");
        const string name = "watched1";
        Sync.Run(rig.Client.PrepareContainerAsync(Manager.Lxc, name, NoFacts));

        var (leader, child) = rig.StartLxcTasks(name);

        Assert.That(Poll.Until(() => Sync.Run(rig.Client.ListContainersAsync()).Any(m => m.Name == name && m.State == ContainerState.Running)), Is.True, rig.Daemon.Log);
        var shown = Sync.Run(rig.Client.GetContainerAsync(Manager.Lxc, name));
        Assert.Multiple(() =>
        {
            Assert.That(shown.Leader, Is.EqualTo(leader), "the init is the task whose parent is outside the payload, not its child");
            Assert.That(shown.CgroupPath, Is.EqualTo($"{rig.SharedRoot}/lxc.payload.{name}"));
            Assert.That(shown.Paths["cpuset"], Is.EqualTo(rig.RootDir("cpuset", "lxc.payload." + name)));
            Assert.That(shown.Source, Is.EqualTo(MappingSource.Hook));
            Assert.That(rig.State, Does.Contain("state: running").And.Contain("leader: " + leader));
            Assert.That(rig.Daemon.Log, Does.Contain($"started lxc {name} pid {leader}").And.Contain("its init entered its cgroup"));
        });
        Assert.That(monitor.WaitFor(t => t.Contains("Member=ContainerAdded", StringComparison.Ordinal) && t.Contains($"STRING \"{name}\"", StringComparison.Ordinal)),
            Is.True, monitor.Text);

        // An include file of an older Interop still has start-host: the same leader again changes nothing.
        Sync.Run(rig.Client.RegisterContainerAsync(Manager.Lxc, name, (uint)leader, NoFacts));
        Assert.That(Sync.Run(rig.Client.GetContainerAsync(Manager.Lxc, name)).Leader, Is.EqualTo(leader));
        Assert.That(CountOf(monitor.Text, "Member=ContainerAdded"), Is.EqualTo(1), monitor.Text);

        Sync.Run(rig.Client.StopContainerAsync(Manager.Lxc, name, NoFacts));
        Rig.KillTasks(leader, child);
        Assert.That(Sync.Run(rig.Client.ReleaseContainerAsync(Manager.Lxc, name, NoFacts)), Is.True);
        Assert.That(Sync.Run(rig.Client.ListContainersAsync()), Is.Empty);
    }

    [Test]
    public void A_container_released_before_its_init_arrives_is_never_registered()
    {
        using var rig = Rig.Start();
        const string name = "watched2";
        Sync.Run(rig.Client.PrepareContainerAsync(Manager.Lxc, name, NoFacts));
        Assert.That(Sync.Run(rig.Client.ReleaseContainerAsync(Manager.Lxc, name, NoFacts)), Is.True, "a failed start runs post-stop");

        var (leader, child) = rig.StartLxcTasks(name);
        Thread.Sleep(500);

        Assert.That(Sync.Run(rig.Client.ListContainersAsync()), Is.Empty, rig.Daemon.Log);
        Assert.That(rig.Daemon.Log, Does.Not.Contain($"started lxc {name}"));
        Rig.KillTasks(leader, child);
    }

    [Test]
    public void A_start_host_with_another_leader_replaces_the_one_the_watch_chose()
    {
        using var rig = Rig.Start();
        const string name = "watched3";
        Sync.Run(rig.Client.PrepareContainerAsync(Manager.Lxc, name, NoFacts));
        var (leader, child) = rig.StartLxcTasks(name);
        Assert.That(Poll.Until(() => Sync.Run(rig.Client.ListContainersAsync()).Any(m => m.Name == name && m.Leader == (uint)leader)), Is.True, rig.Daemon.Log);

        Sync.Run(rig.Client.RegisterContainerAsync(Manager.Lxc, name, (uint)child, NoFacts));

        Assert.That(Sync.Run(rig.Client.GetContainerAsync(Manager.Lxc, name)).Leader, Is.EqualTo(child), "the manager's own word wins over what the watch inferred");
        Rig.KillTasks(leader, child);
        Sync.Run(rig.Client.ReleaseContainerAsync(Manager.Lxc, name, NoFacts));
    }

    private static int CountOf(string text, string what)
    {
        var n = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }
}
