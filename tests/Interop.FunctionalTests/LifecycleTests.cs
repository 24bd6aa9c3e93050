using Interop.Core;
using Interop.Core.Model;
using Interop.DBus;
using Interop.FunctionalTests.Support;

namespace Interop.FunctionalTests;

/// <summary>Whole container lifecycles through the bus against the real interopd on the real cgroupfs.</summary>
[TestFixture]
public class LifecycleTests
{
    private static readonly Dictionary<string, string> NoFacts = [];

    [Test]
    public void LxcContainer_FromPrepareToRelease_LeavesNothingBehind()
    {
        using var rig = Rig.Start();
        const string name = "web1";
        var client = rig.Client;

        Sync.Run(client.PrepareContainerAsync(Manager.Lxc, name, NoFacts));
        Assert.That(rig.State, Does.Contain("name: " + name).And.Contain("state: prepared"));

        var (leader, child) = rig.StartLxcTasks(name);
        var registered = Sync.Run(client.RegisterContainerAsync(Manager.Lxc, name, (uint)leader, NoFacts));
        Assert.That(registered, Is.EqualTo(ObjectPaths.ForContainer(Manager.Lxc, name)), "RegisterContainer answers the object path");
        Assert.That(rig.State, Does.Contain("state: running").And.Contain("leader: " + leader));

        var expectedPath = $"{rig.SharedRoot}/lxc.payload.{name}";
        var listed = Sync.Run(client.ListContainersAsync());
        Assert.That(listed.Select(m => (m.Manager, m.Name, m.State, m.Leader, m.CgroupPath)),
            Is.EquivalentTo(new[] { (Manager.Lxc, name, ContainerState.Running, (uint)leader, expectedPath) }));

        var shown = Sync.Run(client.GetContainerAsync(Manager.Lxc, name));
        Assert.Multiple(() =>
        {
            Assert.That(shown.CgroupPath, Is.EqualTo(expectedPath));
            Assert.That(shown.Source, Is.EqualTo(MappingSource.Hook));
            Assert.That(shown.Paths["cpuset"], Is.EqualTo(rig.RootDir("cpuset", "lxc.payload." + name)));
            Assert.That(shown.Paths.ContainsKey("memory"), Is.False, "our task stays in memory:/process_api, outside the shared root");
        });

        var byChild = Sync.Run(client.GetContainerByPidAsync((uint)child));
        Assert.That((byChild.Manager, byChild.Name), Is.EqualTo((Manager.Lxc, name)));
        var byCgroup = Sync.Run(client.GetContainerByCgroupAsync(expectedPath));
        Assert.That(byCgroup.Name, Is.EqualTo(name));
        Assert.That(Sync.Run(client.GetTasksAsync(Manager.Lxc, name)), Is.EquivalentTo(new[] { (uint)leader, (uint)child }));

        var cpus = Sync.Run(client.GetValueAsync(Manager.Lxc, name, "cpuset.cpus"));
        var onDisk = File.ReadAllText(Path.Combine(rig.RootDir("cpuset", "lxc.payload." + name), "cpuset.cpus")).Trim();
        Assert.That(cpus.Trim(), Is.EqualTo(onDisk).And.Not.Empty, "clone_children on the shared root gives new cpusets their cpus");

        Sync.Run(client.SetValueAsync(Manager.Lxc, name, "pids.max", "42"));
        Assert.That(File.ReadAllText(Path.Combine(rig.RootDir("pids", "lxc.payload." + name), "pids.max")).Trim(), Is.EqualTo("42"));
        Sync.Run(client.SetValueAsync(Manager.Lxc, name, "cpu.shares", "512"));
        Assert.That(File.ReadAllText(Path.Combine(rig.RootDir("cpu", "lxc.payload." + name), "cpu.shares")).Trim(), Is.EqualTo("512"));

        Sync.Run(client.StopContainerAsync(Manager.Lxc, name, NoFacts));
        Assert.That((Sync.Run(client.GetContainerAsync(Manager.Lxc, name))).State, Is.EqualTo(ContainerState.Stopping));
        Assert.That(rig.State, Does.Contain("state: stopping"));

        Rig.KillTasks(leader, child);
        Assert.That(Sync.Run(client.ReleaseContainerAsync(Manager.Lxc, name, NoFacts)), Is.True);

        Assert.Multiple(() =>
        {
            Assert.That(rig.DirsMentioning(name), Is.Empty);
            Assert.That(Sync.Run(client.ListContainersAsync()), Is.Empty);
            Assert.That(rig.State, Does.Not.Contain("name: " + name));
            Assert.That(Directory.Exists(rig.RootDir("cpuset")), Is.True, "the shared root itself stays");
        });
        Assert.That(() => Sync.Run(client.GetContainerByPidAsync((uint)Environment.ProcessId)), Throws.InstanceOf<NoSuchContainerException>());
    }

    [Test]
    public void LibvirtContainer_InANonDefaultPartition_FromPrepareToRelease()
    {
        // libvirt appends ".partition" to every partition component but a first-level machine/system/user, so a
        // partition under the scratch dir must already be spelled that way to land under the shared root.
        using var rig = Rig.Start("machine.partition");
        const string name = "vm1";
        var uuid = Guid.NewGuid().ToString();
        var facts = new Dictionary<string, string> { ["partition"] = rig.SharedRoot + "/web", ["uuid"] = uuid };
        var partitionRel = "machine.partition/web.partition";

        Sync.Run(rig.Client.PrepareContainerAsync(Manager.Libvirt, name, facts));
        foreach (var h in rig.Scratch.Hierarchies)
        {
            Assert.That(Directory.Exists(rig.Scratch.Dir(h, partitionRel)), Is.True, $"prepare creates the partition dir in {h}");
        }

        Assert.That(File.ReadAllText(Path.Combine(rig.Scratch.Dir("cpuset", partitionRel), "cpuset.cpus")).Trim(), Is.Not.Empty);

        // libvirt_lxc: the controller is the leader and names the leaf after its own pid.
        var controller = rig.Scratch.Start("/bin/sh", "-c", "read go; sleep 300 & echo $!; wait");
        var leaf = $"{partitionRel}/lxc-{controller.Id}-{name}.libvirt-lxc";
        rig.Scratch.MakeDirs(leaf);
        rig.Scratch.MoveTask(controller.Id, leaf);
        controller.StandardInput.WriteLine("go");
        var child = int.Parse((Sync.Run(controller.StandardOutput.ReadLineAsync()))!.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        rig.Scratch.Track(child);

        Sync.Run(rig.Client.RegisterContainerAsync(Manager.Libvirt, name, (uint)controller.Id, facts));
        var shown = Sync.Run(rig.Client.GetContainerAsync(Manager.Libvirt, name));
        Assert.Multiple(() =>
        {
            Assert.That(shown.CgroupPath, Is.EqualTo($"/{rig.Scratch.Name}/{leaf}"));
            Assert.That(shown.Uuid, Is.EqualTo(uuid));
            Assert.That(shown.State, Is.EqualTo(ContainerState.Running));
        });
        Assert.That((Sync.Run(rig.Client.GetContainerByPidAsync((uint)child))).Name, Is.EqualTo(name));
        Assert.That(rig.State, Does.Contain("uuid: " + uuid));

        Sync.Run(rig.Client.StopContainerAsync(Manager.Libvirt, name, facts));
        Rig.KillTasks(controller.Id, child);
        Assert.That(Sync.Run(rig.Client.ReleaseContainerAsync(Manager.Libvirt, name, facts)), Is.True);
        Assert.That(rig.DirsMentioning(".libvirt-lxc"), Is.Empty);
        Assert.That(Sync.Run(rig.Client.ListContainersAsync()), Is.Empty);
    }

    [Test]
    public void Prepare_RemovesAnEmptyStalePayload_AndRefusesOneWithATask()
    {
        using var rig = Rig.Start();
        rig.Scratch.MakeDirs($"{rig.RootRel}/lxc.payload.stale");
        Sync.Run(rig.Client.PrepareContainerAsync(Manager.Lxc, "stale", NoFacts));
        Assert.That(rig.DirsMentioning("stale"), Is.Empty, "the empty leftover is gone so LXC keeps the canonical name");

        var (leader, child) = rig.StartLxcTasks("busy");
        var before = rig.Scratch.Listing();
        var e = Assert.Throws<ConflictException>(() => Sync.Run(rig.Client.PrepareContainerAsync(Manager.Lxc, "busy", NoFacts)));
        Assert.That(e!.ErrorName, Is.EqualTo("org.interop.Interop1.Error.Conflict"));
        Assert.That(rig.Scratch.Listing(), Is.EqualTo(before), "a refused prepare changes nothing");
        Assert.That(rig.Scratch.Procs("cpuset", $"{rig.RootRel}/lxc.payload.busy"), Is.EquivalentTo(new[] { leader, child }));
        Assert.That(() => Sync.Run(rig.Client.GetContainerAsync(Manager.Lxc, "busy")), Throws.InstanceOf<NoSuchContainerException>());
    }

    [Test]
    public void Signals_ContainerAddedAndRemoved_ReachAMonitor()
    {
        using var rig = Rig.Start();
        using var monitor = new BusMonitor(rig.Address, "type='signal',interface='org.interop.Interop1.Manager'");

        Sync.Run(rig.Client.PrepareContainerAsync(Manager.Lxc, "sig", NoFacts));
        var (leader, child) = rig.StartLxcTasks("sig");
        Sync.Run(rig.Client.RegisterContainerAsync(Manager.Lxc, "sig", (uint)leader, NoFacts));
        Assert.That(monitor.WaitFor(t => t.Contains("Member=ContainerAdded", StringComparison.Ordinal) && t.Contains("STRING \"sig\"", StringComparison.Ordinal)),
            Is.True, monitor.Text);

        Rig.KillTasks(leader, child);
        Sync.Run(rig.Client.ReleaseContainerAsync(Manager.Lxc, "sig", NoFacts));
        Assert.That(monitor.WaitFor(t => t.Contains("Member=ContainerRemoved", StringComparison.Ordinal)), Is.True, monitor.Text);
        Assert.That(monitor.Text, Does.Contain("/org/interop/Interop1/container/lxc_sig"));
    }

    [Test]
    public void Sigterm_StopsTheDaemonWithExitCodeZero()
    {
        using var rig = Rig.Start();
        Assert.That(Sync.Run(rig.Client.ListContainersAsync()), Is.Empty);
        Assert.That(rig.Daemon.Stop(), Is.EqualTo(0), rig.Daemon.Log);
        Assert.That(rig.Bus.NameHasOwner("org.interop.Interop1"), Is.False);
    }

    [Test]
    public void LosingTheBus_MakesTheDaemonExit_InsteadOfLingering()
    {
        using var rig = Rig.Start();
        Assert.That(Sync.Run(rig.Client.ListContainersAsync()), Is.Empty);

        Posix.Kill(rig.Bus.Pid, Posix.SIGKILL);

        Assert.That(Poll.Until(() => rig.Daemon.HasExited), Is.True, "interopd still runs without its bus\n" + rig.Daemon.Log);
        Assert.Multiple(() =>
        {
            Assert.That(rig.Daemon.ExitCode, Is.EqualTo(1));
            Assert.That(rig.Daemon.Log, Does.Contain("lost the bus connection"));
        });
    }
}
