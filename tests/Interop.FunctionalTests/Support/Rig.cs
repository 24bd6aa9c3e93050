using System.Globalization;
using System.Text;
using Interop.Core.Model;
using Interop.DBus;
using Interop.Service;
using Interop.TestSupport;

namespace Interop.FunctionalTests.Support;

/// <summary>
/// One test's world: the shared <see cref="DaemonRig"/> (scratch dir "interop-ft-&lt;random&gt;.d" in every hierarchy,
/// a private bus, interopd with shared root /&lt;scratch&gt;/&lt;leaf&gt; and boundary /&lt;scratch&gt;) and an
/// <see cref="InteropClient"/> on that bus. Dispose closes the client, then the rig tears down the rest in reverse.
/// </summary>
public sealed class Rig : IDisposable
{
    private readonly DaemonRig _world;

    private Rig(string sharedRootLeaf, string extraConfig = "")
    {
        _world = new DaemonRig(new RigOptions
        {
            ScratchPrefix = "interop-ft-",
            ScratchSuffix = ".d", // keeps libvirt's partition escaping from renaming it, so a partition can live below it
            SharedRootLeaf = sharedRootLeaf,
            ExtraConfig = extraConfig,
        });
    }

    public ScratchCgroups Scratch => _world.Scratch;

    public PrivateBus Bus => _world.Bus;

    public InteropdRunner Daemon => _world.Daemon;

    public InteropClient Client { get; private set; } = null!;

    public string WorkDir => _world.WorkDir;

    public string ConfigPath => _world.ConfigPath;

    public string StatePath => _world.StatePath;

    /// <summary>The shared root as interopd sees it: "/&lt;scratch&gt;/machine".</summary>
    public string SharedRoot => _world.SharedRoot;

    /// <summary>The shared root relative to the scratch dir ("machine").</summary>
    public string RootRel => _world.RootRel;

    public string Address => _world.Address;

    /// <summary>A rig whose daemon is not started yet (tests of start-up failures start their own).</summary>
    public static Rig WithoutDaemon(string extraConfig) => new("machine", extraConfig);

    /// <summary>Starts a rig and its daemon and waits until the daemon serves.</summary>
    public static Rig Start(string sharedRootLeaf = "machine", string extraConfig = "")
    {
        var rig = new Rig(sharedRootLeaf, extraConfig);
        try
        {
            rig.StartDaemon();
        }
        catch
        {
            rig.Dispose();
            throw;
        }

        return rig;
    }

    /// <summary>Starts interopd (again: a running one is stopped first) with the same config and state file and reconnects the client.</summary>
    public void StartDaemon()
    {
        Client?.Dispose();
        if (Daemon.Running)
        {
            Daemon.Stop();
        }

        Daemon.StartServing();
        Client = InteropClient.ConnectAsync(Address).GetAwaiter().GetResult();
    }

    /// <summary>
    /// Does what LXC does between pre-start and start-host: creates lxc.monitor.NAME and lxc.payload.NAME under the
    /// shared root in every hierarchy, starts the container's "init" (a shell) and moves it into the payload dirs
    /// (all hierarchies but memory), then lets it fork a sleep (so the container has a child task too).
    /// </summary>
    public (int Leader, int Child) StartLxcTasks(string name)
    {
        var payload = $"{RootRel}/lxc.payload.{name}";
        Scratch.MakeDirs($"{RootRel}/lxc.monitor.{name}");
        Scratch.MakeDirs(payload);
        return StartTasksIn(payload);
    }

    /// <summary>Starts a shell leader in <paramref name="rel"/> (relative to the scratch dir) that then forks a sleep; returns both pids.</summary>
    public (int Leader, int Child) StartTasksIn(string rel)
    {
        var leader = Scratch.Start("/bin/sh", "-c", "read go; sleep 300 & echo $!; wait");
        Scratch.MoveTask(leader.Id, rel);
        leader.StandardInput.WriteLine("go");
        leader.StandardInput.Flush();
        var line = leader.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult()
            ?? throw new InvalidOperationException("the leader printed no child pid");
        var child = int.Parse(line.Trim(), CultureInfo.InvariantCulture);
        Scratch.Track(child);
        return (leader.Id, child);
    }

    /// <summary>Kills a container's tasks by pid (the child first, so the shell's wait returns) and waits until they are gone.</summary>
    public static void KillTasks(params int[] pids)
    {
        foreach (var pid in pids.Reverse())
        {
            Posix.Kill(pid, Posix.SIGKILL);
        }

        Assert.That(Poll.Until(() => pids.All(p => !Posix.IsAlive(p))), Is.True, "the container's tasks did not die");
    }

    /// <summary>Every dir under the shared root in every hierarchy whose path mentions <paramref name="needle"/>.</summary>
    public IReadOnlyList<string> DirsMentioning(string needle)
        => Scratch.Listing().Where(d => d.Contains(needle, StringComparison.Ordinal)).ToList();

    /// <summary>
    /// The registry as a restarted interopd would read it back (the snapshot and its journal), one
    /// "key: value" line per field as in the snapshot; empty when there is none.
    /// </summary>
    public string State
    {
        get
        {
            var text = new StringBuilder();
            foreach (var m in new StateStore(StatePath).Load())
            {
                text.Append(CultureInfo.InvariantCulture, $"- manager: {m.Manager.ToWire()}\n  name: {m.Name}\n  uuid: {m.Uuid}\n  state: {m.State.ToWire()}\n")
                    .Append(CultureInfo.InvariantCulture, $"  leader: {m.Leader}\n  cgroup_path: {m.CgroupPath}\n  source: {m.Source}\n");
            }

            return text.ToString();
        }
    }

    /// <summary>busctl against this rig's bus.</summary>
    public CmdResult Busctl(params string[] args) => Cmd.Run("busctl", new[] { "--address=" + Address }.Concat(args));

    public void Dispose()
    {
        try
        {
            Client?.Dispose();
        }
        finally
        {
            _world.Dispose();
        }
    }

    /// <summary>The daemon's shared root dir (or <paramref name="sub"/> below it) in the hierarchy with key <paramref name="key"/>.</summary>
    public string RootDir(string key, string sub = "") => _world.RootDir(key, sub);
}
