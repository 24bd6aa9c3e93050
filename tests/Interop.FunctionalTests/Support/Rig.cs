using System.Globalization;
using System.Text;
using Interop.Core.Model;
using Interop.DBus;
using Interop.Service;

namespace Interop.FunctionalTests.Support;

/// <summary>
/// One test's world: a scratch dir in every hierarchy, a private bus, interopd with shared root
/// /&lt;scratch&gt;/&lt;leaf&gt; and boundary /&lt;scratch&gt;, and an <see cref="InteropClient"/> on that bus.
/// Dispose tears down in reverse: client, daemon, bus, work dir, then the scratch dirs and their tasks.
/// </summary>
public sealed class Rig : IDisposable
{
    private Rig(string sharedRootLeaf, string extraConfig = "")
    {
        Scratch = new ScratchRoot();
        try
        {
            WorkDir = Directory.CreateTempSubdirectory("interop-ft-work-").FullName;
            RootRel = sharedRootLeaf;
            SharedRoot = $"/{Scratch.Name}/{sharedRootLeaf}";
            ConfigPath = Path.Combine(WorkDir, "interop.yaml");
            File.WriteAllText(ConfigPath, InteropdRunner.ConfigText(SharedRoot, "/" + Scratch.Name, StatePath) + "\n" + extraConfig);
            Bus = new DBusDaemonRunner();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public ScratchRoot Scratch { get; }

    public DBusDaemonRunner Bus { get; } = null!;

    public InteropdRunner Daemon { get; private set; } = null!;

    public InteropClient Client { get; private set; } = null!;

    public string WorkDir { get; } = string.Empty;

    public string ConfigPath { get; } = string.Empty;

    public string StatePath => Path.Combine(WorkDir, "state.yaml");

    /// <summary>The shared root as interopd sees it: "/&lt;scratch&gt;/machine".</summary>
    public string SharedRoot { get; } = string.Empty;

    /// <summary>The shared root relative to the scratch dir ("machine").</summary>
    public string RootRel { get; } = string.Empty;

    public string Address => Bus.Address;

    /// <summary>Starts a rig and its daemon and waits until the daemon serves.</summary>
    /// <summary>A rig whose daemon is not started yet (tests of start-up failures start their own).</summary>
    public static Rig WithoutDaemon(string extraConfig) => new("machine", extraConfig);

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

    /// <summary>Starts (another) interopd with the same config and state file and reconnects the client.</summary>
    public void StartDaemon()
    {
        Client?.Dispose();
        Daemon?.Dispose();
        Daemon = new InteropdRunner(Address, ConfigPath);
        Daemon.WaitUntilServing();
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
            if (Daemon is not null)
            {
                Daemon.Dispose();
                if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Failed)
                {
                    TestContext.Out.WriteLine("interopd log:\n" + Daemon.Log);
                }
            }

            Bus?.Dispose();
            if (WorkDir.Length > 0 && Directory.Exists(WorkDir))
            {
                Directory.Delete(WorkDir, recursive: true);
            }
        }
        finally
        {
            Scratch.Dispose();
        }
    }

    /// <summary>The daemon's shared root dir in hierarchy <paramref name="h"/>.</summary>
    public string RootDir(string h, string sub = "") => Scratch.Dir(h, sub.Length == 0 ? RootRel : RootRel + "/" + sub);
}
