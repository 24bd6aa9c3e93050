using System.Collections;
using Interop.DBus;
using Interop.DBus.Direct;
using Interop.Linux.Discovery;
using Interop.Linux.Proc;
using Interop.Linux.Cgroups;

namespace Interop.Ctl;

/// <summary>
/// Everything a command touches outside itself: the console, the bus, the environment, stdin, files and the
/// local cgroup probe. <see cref="FromProcess"/> wires the real ones; tests hand in fakes and a substitute
/// <see cref="IInteropClient"/>, so every command runs in-process.
/// </summary>
internal sealed class CliContext
{
    private TextWriter? _out;
    private TextWriter? _error;
    private Func<string?>? _findProcessPath;
    private string? _processPath;
    private Func<bool>? _isTerminal;
    private bool? _interactive;

    /// <summary>
    /// Where results go; the console unless set (<see cref="FromProcess"/> leaves it unset). The console's writers,
    /// the terminal checks and the executable's path are found on first use: a hook, run on every container start,
    /// takes none of them unless it has something to say.
    /// </summary>
    public TextWriter Out
    {
        get => _out ??= Console.Out;
        init => _out = value;
    }

    /// <summary>Where errors and warnings go; the console's stderr unless set.</summary>
    public TextWriter Error
    {
        get => _error ??= Console.Error;
        init => _error = value;
    }

    /// <summary>Connects to the daemon on a bus ("system", "session" or an address).</summary>
    public required Func<string, CancellationToken, Task<IInteropClient>> Connect { get; init; }

    /// <summary>
    /// Connects the hooks' lifecycle calls (DirectClient: one process per hook, so start-up is what counts).
    /// When null (tests), hooks use <see cref="Connect"/>.
    /// </summary>
    public Func<string, ILifecycleClient>? ConnectLifecycle { get; init; }

    /// <summary>
    /// interopd's private socket for the hooks, or null when it is not there or refuses us (not root). Tried before
    /// the configuration file is read, when neither --bus nor $INTEROP_BUS_ADDRESS names a bus. Null (tests): none.
    /// </summary>
    public Func<ILifecycleClient?>? ConnectPrivate { get; init; }

    /// <summary>One environment variable, or null when unset.</summary>
    public required Func<string, string?> GetVariable { get; init; }

    /// <summary>The LXC_* environment (what LXC hands its hooks).</summary>
    public required Func<IReadOnlyDictionary<string, string>> GetLxcEnvironment { get; init; }

    /// <summary>Reads at most the given number of bytes from stdin; empty when stdin is a terminal.</summary>
    public required Func<int, byte[]> ReadStdin { get; init; }

    /// <summary>A file's text, or null when it does not exist.</summary>
    public required Func<string, string?> ReadFile { get; init; }

    /// <summary>Local cgroup health for a shared root, without the daemon.</summary>
    public required Func<string, LocalHealth> ProbeLocal { get; init; }

    /// <summary>Reads a container's usage from its dirs (hierarchy key to absolute dir): top and show.</summary>
    public Func<IReadOnlyDictionary<string, string>, ContainerUsage> ReadUsage { get; init; } = CgroupUsage.Read;

    /// <summary>Waits between top's samples.</summary>
    public Func<TimeSpan, CancellationToken, Task> Delay { get; init; } = Task.Delay;

    /// <summary>A monotonic clock, for the interval between two samples.</summary>
    public Func<TimeSpan> Elapsed { get; init; } = static () => System.Diagnostics.Stopwatch.GetElapsedTime(0);

    /// <summary>True when stdout is a terminal: top redraws and reads keys; otherwise it prints plain frames.</summary>
    public bool Interactive
    {
        get => _interactive ??= _isTerminal?.Invoke() ?? false;
        init => _interactive = value;
    }

    /// <summary>A key pressed on the terminal, without waiting; null when none.</summary>
    public Func<char?> ReadKey { get; init; } = static () => null;

    /// <summary>This executable's path (the default for lxc-config --interopctl).</summary>
    public string? ProcessPath
    {
        get => _processPath ??= _findProcessPath?.Invoke();
        init => _processPath = value;
    }

    /// <summary>This process's parent pid, sent with an LXC pre-start (the monitor, for a systemd host); null in tests that do not need it.</summary>
    public Func<int>? GetParentPid { get; init; }

    /// <summary>Whether systemd is PID 1 (lxc-config --host auto); null (tests): no.</summary>
    public Func<bool>? IsSystemdHost { get; init; }

    /// <summary>Whether this host mounts a cgroup2 hierarchy (lxc-config --start-host auto); null (tests): no.</summary>
    public Func<bool>? HasCgroup2 { get; init; }

    public static CliContext FromProcess() => new()
    {
        Connect = ConnectAsync,
        ConnectLifecycle = bus => DirectClient.Connect(bus),
        ConnectPrivate = () => DirectClient.TryConnectPrivate(),
        GetVariable = Environment.GetEnvironmentVariable,
        GetLxcEnvironment = LxcEnvironment,
        ReadStdin = ReadConsoleInput,
        ReadFile = ReadFileOrNull,
        ProbeLocal = LocalHealth.Probe,
        _findProcessPath = static () => Environment.ProcessPath,
        GetParentPid = ProcFs.SelfParentPid,
        IsSystemdHost = () => SystemdBoot.IsBooted(),
        HasCgroup2 = static () => HierarchyDiscovery.FromHost().Any(h => h.Key == Hierarchy.UnifiedKey),
        _isTerminal = static () => !Console.IsOutputRedirected && !Console.IsInputRedirected,
        ReadKey = ReadConsoleKey,
    };

    private static char? ReadConsoleKey()
    {
        try
        {
            return Console.KeyAvailable ? Console.ReadKey(intercept: true).KeyChar : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static async Task<IInteropClient> ConnectAsync(string bus, CancellationToken cancellationToken) =>
        await InteropClient.ConnectAsync(bus, cancellationToken).ConfigureAwait(false);

    private static Dictionary<string, string> LxcEnvironment()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string key && key.StartsWith("LXC_", StringComparison.Ordinal) && entry.Value is string value)
            {
                result[key] = value;
            }
        }

        return result;
    }

    private static byte[] ReadConsoleInput(int maxBytes)
    {
        // A terminal means a person ran the hook by hand: do not wait for input that will not come.
        if (!Console.IsInputRedirected)
        {
            return [];
        }

        using var stdin = Console.OpenStandardInput();
        var buffer = new byte[maxBytes];
        var total = 0;
        while (total < maxBytes)
        {
            var n = stdin.Read(buffer, total, maxBytes - total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total == maxBytes ? buffer : buffer[..total];
    }

    private static string? ReadFileOrNull(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }
}
