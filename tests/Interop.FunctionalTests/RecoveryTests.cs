using Interop.Core.Model;
using Interop.FunctionalTests.Support;

namespace Interop.FunctionalTests;

/// <summary>kill -9 and a corrupt state file lose no mapping of a live container (DESIGN.md section 11).</summary>
[TestFixture]
public class RecoveryTests
{
    private static readonly Dictionary<string, string> NoFacts = [];

    [Test]
    public void Sigkill_ThenRestart_BringsTheMappingBack_AndAdoptsAnUnmappedLiveContainer()
    {
        using var rig = Rig.Start();
        Sync.Run(rig.Client.PrepareContainerAsync(Manager.Lxc, "kept", NoFacts));
        var (leader, _) = rig.StartLxcTasks("kept");
        Sync.Run(rig.Client.RegisterContainerAsync(Manager.Lxc, "kept", (uint)leader, NoFacts));

        rig.Daemon.Kill();
        Assert.That(rig.Daemon.ExitCode, Is.Not.EqualTo(0));

        // While nobody watches, LXC starts another container: its dirs hold a live task, no mapping exists.
        var (orphan, orphanChild) = rig.StartLxcTasks("orphan");

        rig.StartDaemon();
        var listed = Sync.Run(rig.Client.ListContainersAsync()).ToDictionary(m => m.Name);
        Assert.That(listed.Keys, Is.EquivalentTo(new[] { "kept", "orphan" }));
        Assert.Multiple(() =>
        {
            Assert.That(listed["kept"].Leader, Is.EqualTo(leader));
            Assert.That(listed["kept"].State, Is.EqualTo(ContainerState.Running));
            Assert.That(listed["orphan"].CgroupPath, Is.EqualTo($"{rig.SharedRoot}/lxc.payload.orphan"));
        });
        var adopted = Sync.Run(rig.Client.GetContainerByPidAsync((uint)orphanChild));
        Assert.That((adopted.Name, adopted.Source), Is.EqualTo(("orphan", MappingSource.Adopted)));
        Assert.That(rig.State, Does.Contain("name: orphan"), "the rebuilt registry is persisted");
        Assert.That(orphan, Is.GreaterThan(1));
    }

    [TestCase("containers: [ {manager: lxc, name: \n")]
    [TestCase("\0\0\0garbage\u0001\u0002")]
    [TestCase("version: 99\ncontainers: 7\n")]
    public void CorruptStateFile_IsKeptAside_AndTheRegistryIsRebuilt(string garbage)
    {
        using var rig = Rig.Start();
        Sync.Run(rig.Client.PrepareContainerAsync(Manager.Lxc, "c1", NoFacts));
        var (leader, _) = rig.StartLxcTasks("c1");
        Sync.Run(rig.Client.RegisterContainerAsync(Manager.Lxc, "c1", (uint)leader, NoFacts));
        rig.Daemon.Kill();
        File.WriteAllText(rig.StatePath, garbage);

        rig.StartDaemon();
        var aside = Directory.GetFiles(rig.WorkDir, "state.yaml.corrupt-*");
        Assert.That(aside, Has.Length.EqualTo(1), rig.Daemon.Log);
        Assert.That(File.ReadAllText(aside[0]), Is.EqualTo(garbage));
        var m = Sync.Run(rig.Client.ListContainersAsync()).Single();
        Assert.That((m.Name, m.Leader, m.State), Is.EqualTo(("c1", leader, ContainerState.Running)));
        Assert.That(rig.State, Does.Contain("name: c1"));
    }
}
