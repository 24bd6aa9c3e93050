using Interop.Linux.Cgroups;
using NUnit.Framework.Interfaces;

namespace Interop.TestSupport;

/// <summary>How a <see cref="DaemonRig"/> is laid out.</summary>
public sealed record RigOptions
{
    /// <summary>The scratch cgroup's name is ScratchPrefix + random + ScratchSuffix.</summary>
    public string ScratchPrefix { get; init; } = "interop-test-";

    public string ScratchSuffix { get; init; } = "";

    /// <summary>The shared root's last component, below the scratch cgroup.</summary>
    public string SharedRootLeaf { get; init; } = "machine";

    /// <summary>YAML appended to the daemon's config.</summary>
    public string ExtraConfig { get; init; } = "";

    public string AllowedUsers { get; init; } = "[root]";

    /// <summary>Where the state file goes; null: the work dir.</summary>
    public string? StateDir { get; init; }

    public BusPolicy BusPolicy { get; init; } = BusPolicy.Open;
}

/// <summary>
/// One test's world: a scratch cgroup in every hierarchy, a work dir any user can reach (bus socket, config,
/// state), a private bus in it, and interopd (not started yet) with shared root /&lt;scratch&gt;/&lt;leaf&gt; and
/// boundary /&lt;scratch&gt;. Dispose tears down in reverse, even after a failure: daemon (its log goes to the test
/// output when the test failed), bus, work dir, then the scratch cgroups and their tasks.
/// </summary>
public sealed class DaemonRig : IDisposable
{
    public DaemonRig(RigOptions? options = null)
    {
        options ??= new RigOptions();
        Scratch = new ScratchCgroups(options.ScratchPrefix, options.ScratchSuffix);
        try
        {
            WorkDir = Directory.CreateTempSubdirectory(options.ScratchPrefix + "work-").FullName;
            Posix.MakeReachableByAll(WorkDir);
            RootRel = options.SharedRootLeaf;
            SharedRoot = $"/{Scratch.Name}/{RootRel}";
            StatePath = Path.Combine(options.StateDir ?? WorkDir, "state.yaml");
            ConfigPath = Path.Combine(WorkDir, "interop.yaml");
            File.WriteAllText(ConfigPath, InteropdRunner.ConfigText(SharedRoot, "/" + Scratch.Name, StatePath, allowedUsers: options.AllowedUsers)
                + options.ExtraConfig);
            Bus = new PrivateBus(WorkDir, options.BusPolicy);
            Daemon = new InteropdRunner(Bus.Address, ConfigPath);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public ScratchCgroups Scratch { get; }

    public string WorkDir { get; } = string.Empty;

    public PrivateBus Bus { get; } = null!;

    public InteropdRunner Daemon { get; } = null!;

    public string Address => Bus.Address;

    public string ConfigPath { get; } = string.Empty;

    public string StatePath { get; } = string.Empty;

    /// <summary>The shared root as interopd sees it: "/&lt;scratch&gt;/&lt;leaf&gt;".</summary>
    public string SharedRoot { get; } = string.Empty;

    /// <summary>The shared root relative to the scratch dir (the leaf).</summary>
    public string RootRel { get; } = string.Empty;

    /// <summary>A rig whose daemon serves.</summary>
    public static DaemonRig Start(RigOptions? options = null)
    {
        var rig = new DaemonRig(options);
        try
        {
            rig.Daemon.StartServing();
        }
        catch
        {
            rig.Dispose();
            throw;
        }

        return rig;
    }

    /// <summary>The dir of <paramref name="sub"/> below the shared root in <paramref name="h"/> ("" = the shared root).</summary>
    public string RootDir(Hierarchy h, string sub = "") => Scratch.Dir(h, sub.Length == 0 ? RootRel : RootRel + "/" + sub);

    /// <summary>The dir of <paramref name="sub"/> below the shared root in the hierarchy with key <paramref name="key"/>.</summary>
    public string RootDir(string key, string sub = "") => RootDir(Scratch[key], sub);

    public void Dispose()
    {
        try
        {
            if (Daemon is not null)
            {
                Daemon.Dispose();
                if (Daemon.Starts > 0 && TestContext.CurrentContext.Result.Outcome.Status == TestStatus.Failed)
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
}
