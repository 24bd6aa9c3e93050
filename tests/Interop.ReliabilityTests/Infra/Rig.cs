namespace Interop.ReliabilityTests.Infra;

/// <summary>
/// One reliability test's world: the shared <see cref="DaemonRig"/> (a scratch cgroup "interop-rel.&lt;random&gt;" at
/// the top of every hierarchy holding the shared root, a work dir with the bus socket, config and state, a private
/// bus and interopd), the container stand-ins (<see cref="Leader"/>s) and the lifecycle driver. Dispose tears it
/// all down through the rig, leaders included (they are the scratch cgroup's processes).
/// </summary>
/// <remarks>
/// The scratch name carries a '.' and the shared root is "machine.partition", so a libvirt partition equal to the
/// shared root maps onto itself (libvirt appends ".partition" to partition components without a '.').
/// </remarks>
internal sealed class Rig : IDisposable
{
    private Rig(DaemonRig world)
    {
        World = world;
        Scratch = new ScratchRoot(World);
        Life = new Lifecycles(Scratch);
    }

    public DaemonRig World { get; }

    public ScratchRoot Scratch { get; }

    public PrivateBus Bus => World.Bus;

    public InteropdRunner Daemon => World.Daemon;

    public Lifecycles Life { get; }

    public string StatePath => World.StatePath;

    public string ConfigPath => World.ConfigPath;

    /// <summary>A rig whose daemon serves (on a bus open to everyone unless asked otherwise).</summary>
    public static Rig Start(BusPolicy busPolicy = BusPolicy.Open, string allowedUsers = "[root]", string? stateDir = null)
        => new(DaemonRig.Start(new RigOptions
        {
            ScratchPrefix = "interop-rel.",
            SharedRootLeaf = "machine.partition",
            AllowedUsers = allowedUsers,
            StateDir = stateDir,
            BusPolicy = busPolicy,
        }));

    public void Deconstruct(out ScratchRoot scratch, out PrivateBus bus, out InteropdRunner daemon, out Lifecycles life)
    {
        scratch = Scratch;
        bus = Bus;
        daemon = Daemon;
        life = Life;
    }

    public void Dispose() => World.Dispose();
}
