using System.Globalization;
using Interop.Core;
using Interop.DBus;

namespace Interop.ReliabilityTests.Infra;

/// <summary>
/// One daemon on an open private bus, a raw bus connection, a registered target container (for key and value
/// input) and a tally per entry point: tried, refused as required, valid-looking and accepted (then released),
/// valid-looking and refused with a documented error. Anything else is a failure line.
/// </summary>
internal sealed class HostileHarness : IAsyncDisposable
{
    public static readonly string[] Documented =
    [
        RawBus.InvalidArgument,
        "org.interop.Interop1.Error.NoSuchContainer",
        "org.interop.Interop1.Error.Conflict",
        "org.interop.Interop1.Error.NotInSharedRoot",
        "org.interop.Interop1.Error.Cgroup",
        "org.freedesktop.DBus.Error.AccessDenied",
    ];

    private readonly SortedDictionary<string, Tally> _tallies = new(StringComparer.Ordinal);

    private HostileHarness(Rig rig, RawBus raw, SimContainer target)
    {
        Rig = rig;
        Raw = raw;
        Target = target;
    }

    public Rig Rig { get; }

    public ScratchRoot Scratch => Rig.Scratch;

    public PrivateBus Bus => Rig.Bus;

    public InteropdRunner Daemon => Rig.Daemon;

    public RawBus Raw { get; }

    public Lifecycles Life => Rig.Life;

    public SimContainer Target { get; }

    public string TargetPath => ObjectPaths.ForContainer(Target.Manager, Target.Name);

    public List<string> Failures { get; } = [];

    public SortedSet<string> Before { get; private set; } = [];

    public static async Task<HostileHarness> StartAsync()
    {
        var rig = Rig.Start();
        var raw = await RawBus.ConnectAsync(rig.Bus.Address);
        var life = rig.Life;
        var target = new SimContainer(Core.Model.Manager.Lxc, "rh-target");
        await using (var client = await InteropClient.ConnectAsync(rig.Bus.Address))
        {
            await client.SetupAsync();
            await life.StartAsync(client, target);
        }

        var h = new HostileHarness(rig, raw, target);
        h.Before = rig.Scratch.SnapshotDirs();
        return h;
    }

    /// <summary>A D-Bus call. Hostile: must fail with one of <paramref name="required"/>. Valid-looking: may succeed (returns true: the caller releases) or fail with a documented error.</summary>
    public async Task<bool> DBusAsync(string entry, string label, bool hostile, string[] required, string path, string iface, string member, params object[] args)
    {
        var t = TallyOf(entry);
        t.Tried++;
        var (error, message) = await Raw.CallAsync(path, iface, member, args);
        if (hostile)
        {
            if (error is not null && required.Contains(error))
            {
                t.Refused++;
            }
            else
            {
                Failures.Add($"{entry} {label}: {member} answered {error ?? "success"} {message}, expected {string.Join('|', required)}");
            }

            return false;
        }

        if (error is null)
        {
            t.Accepted++;
            return true;
        }

        if (Documented.Contains(error))
        {
            t.ValidRefused++;
        }
        else
        {
            Failures.Add($"{entry} {label}: {member} answered undocumented {error} {message}");
        }

        return false;
    }

    /// <summary>
    /// An interopctl hook run. Hostile: exit 1 and one stderr line (abort hooks) or exit 0 and one warning line
    /// (end-of-life hooks). Valid-looking: exit 0 (accepted, returns true) or a clean refusal like a hostile one.
    /// </summary>
    public bool Cli(string entry, string label, bool hostile, bool endOfLife, IEnumerable<string> args, IReadOnlyDictionary<string, string> env, string? stdin)
    {
        var t = TallyOf(entry);
        t.Tried++;
        var allEnv = env.ToDictionary(e => e.Key, string? (e) => e.Value, StringComparer.Ordinal);
        allEnv[BusResolverVariable] = Bus.Address;
        CmdResult r;
        try
        {
            r = Cmd.Run(Binaries.Interopctl, args, stdin ?? "", allEnv, clearEnv: true);
        }
        catch (TimeoutException ex)
        {
            Failures.Add($"{entry} {label}: {ex.Message}");
            return false;
        }

        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var cleanRefusal = endOfLife
            ? r.ExitCode == 0 && lines.Length == 1 && lines[0].Contains("warning", StringComparison.Ordinal)
            : r.ExitCode == 1 && lines.Length == 1;
        if (hostile)
        {
            if (cleanRefusal)
            {
                t.Refused++;
            }
            else
            {
                Failures.Add($"{entry} {label}: exit {r.ExitCode}, {lines.Length} stderr line(s): {Trim(r.Stderr)}");
            }

            return false;
        }

        if (r.ExitCode == 0 && (!endOfLife || lines.Length <= 1))
        {
            if (endOfLife && lines.Length == 1)
            {
                t.ValidRefused++;
                return false;
            }

            t.Accepted++;
            return true;
        }

        if (cleanRefusal)
        {
            t.ValidRefused++;
        }
        else
        {
            Failures.Add($"{entry} {label} (valid-looking): exit {r.ExitCode}, {lines.Length} stderr line(s): {Trim(r.Stderr)}");
        }

        return false;
    }

    /// <summary>After each batch: the daemon process runs and answers ListContainers.</summary>
    public async Task CheckAliveAsync(string batch)
    {
        var (error, message) = await Raw.CallAsync(RawBus.ManagerPath, RawBus.ManagerIface, "ListContainers");
        if (!Daemon.Running || error is not null)
        {
            Failures.Add($"after {batch}: daemon running {Daemon.Running}, ListContainers {error} {message}");
        }
    }

    /// <summary>Dirs made or removed since the start, anywhere in the snapshot (hierarchy roots' top level and the whole scratch tree).</summary>
    public List<string> DirDifferences()
    {
        var after = Scratch.SnapshotDirs();
        return [.. after.Except(Before).Select(d => "new " + d), .. Before.Except(after).Select(d => "gone " + d)];
    }

    public void ReportFigures(string topic)
    {
        foreach (var (entry, t) in _tallies)
        {
            Figures.Report(topic, $"{entry}: {t.Tried} tried, {t.Refused} hostile refused as required, {t.Accepted} valid-looking accepted (and released), {t.ValidRefused} valid-looking refused with a documented error");
        }

        var total = _tallies.Values.Sum(t => t.Tried);
        Figures.Report(topic, $"total {total} inputs over {_tallies.Count} entry points: {Failures.Count} not refused cleanly, daemon up: {Daemon.Running}");
    }

    public int Tried(string entry) => TallyOf(entry).Tried;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var client = await InteropClient.ConnectAsync(Bus.Address);
            await Life.ReleaseAsync(client, Target);
        }
        catch (Exception e) when (e is InteropException or IOException or TimeoutException)
        {
            // The scratch root's Dispose below still removes the dirs.
        }

        await Raw.DisposeAsync();
        Rig.Dispose();
    }

    private const string BusResolverVariable = "INTEROP_BUS_ADDRESS";

    private static string Trim(string s) => s.Length > 300 ? s[..300] + "..." : s.ReplaceLineEndings("\\n");

    private Tally TallyOf(string entry)
    {
        if (!_tallies.TryGetValue(entry, out var t))
        {
            t = new Tally();
            _tallies[entry] = t;
        }

        return t;
    }

    public static string Show(string s) => Printable.Of(s.Length > 40 ? s[..40] + $"...({s.Length.ToString(CultureInfo.InvariantCulture)} chars)" : s);

    private sealed class Tally
    {
        public int Tried { get; set; }

        public int Refused { get; set; }

        public int Accepted { get; set; }

        public int ValidRefused { get; set; }
    }
}
