using Interop.Core.Model;
using Interop.Ctl;
using Interop.DBus;
using Interop.Linux.Cgroups;
using NSubstitute;

namespace Interop.Ctl.Tests;

/// <summary>Runs interopctl in-process with a substitute client, a fake environment, stdin and files.</summary>
internal sealed class CliHarness
{
    public CliHarness()
    {
        // A release hook normally finds the container registered: the daemon says it dropped a mapping.
        Service.ReleaseContainerAsync(default, default!, default!, default).ReturnsForAnyArgs(true);
        Service.GetPropertiesAsync(default).ReturnsForAnyArgs(_ => Properties);
        Service.ListContainersAsync(default).ReturnsForAnyArgs(_ => (IReadOnlyList<ContainerSummary>)[]);
        Service.ListUnitsAsync(default).ReturnsForAnyArgs(_ => (IReadOnlyList<ContainerUnit>)[]);
    }

    public IInteropClient Service { get; } = Substitute.For<IInteropClient>();

    /// <summary>What GetProperties answers.</summary>
    public DaemonProperties Properties { get; set; } = new("0.1.0", "hybrid", "/machine", [], 0, null);

    public Dictionary<string, string> Variables { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> LxcEnvironment { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Files { get; } = new(StringComparer.Ordinal);

    public byte[] Stdin { get; set; } = [];

    /// <summary>How many times a command read <see cref="Stdin"/>.</summary>
    public int StdinReads { get; private set; }

    public Exception? ConnectFailure { get; set; }

    /// <summary>When set, hooks connect through ConnectLifecycle (as the real process does) and get this.</summary>
    public ILifecycleClient? Lifecycle { get; set; }

    /// <summary>Every bus a hook connected to through ConnectLifecycle, in order.</summary>
    public List<string> LifecycleConnections { get; } = [];

    /// <summary>What the private socket gives the hooks (ConnectPrivate); null: there is none.</summary>
    public ILifecycleClient? Private { get; set; }

    public int PrivateConnections { get; private set; }

    public Func<string, LocalHealth> Probe { get; set; } = root => new LocalHealth("hybrid", root, [], [], null);

    /// <summary>Every bus the CLI connected to, in order.</summary>
    public List<string> Connections { get; } = [];

    /// <summary>Every file the CLI tried to read.</summary>
    public List<string> FilesRead { get; } = [];

    public string ProcessPath { get; set; } = "/usr/local/bin/interopctl";

    /// <summary>Whether stdout is a terminal (top redraws the screen).</summary>
    public bool Interactive { get; set; }

    /// <summary>What ReadUsage returns for a container's dirs (top, show); none by default.</summary>
    public Func<IReadOnlyDictionary<string, string>, ContainerUsage> Usage { get; set; } = _ => ContainerUsage.None;

    /// <summary>Whether the host mounts cgroup2 (lxc-config --start-host auto); null: the context says nothing.</summary>
    public bool? Cgroup2 { get; set; }

    /// <summary>A fake monotonic clock that Delay advances: top's samples are exactly as far apart as it waited.</summary>
    public TimeSpan Clock { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Every delay top waited, in order.</summary>
    public List<TimeSpan> Delays { get; } = [];

    /// <summary>
    /// The daemon holds <paramref name="mappings"/>: ListContainers and ListUnits answer their rows (as the wire carries
    /// them) and GetContainer each whole mapping.
    /// </summary>
    /// <summary>The calls the CLI made on the client, not counting its disposal.</summary>
    public int BusCalls => Service.ReceivedCalls().Count(c => c.GetMethodInfo().Name is not (nameof(IAsyncDisposable.DisposeAsync) or nameof(IDisposable.Dispose)));

    public void Containers(params Mapping[] mappings)
    {
        IReadOnlyList<ContainerSummary> rows = [.. mappings.Select(m =>
            new ContainerSummary(m.Manager, m.Name, m.State, (uint)m.Leader, m.CgroupPath, ObjectPaths.ForContainer(m.Manager, m.Name)))];
        IReadOnlyList<ContainerUnit> units = [.. mappings.Where(m => m.Unit.Length > 0 || m.Machine.Length > 0).Select(m => new ContainerUnit(m.Manager, m.Name, m.Unit, m.Machine))];
        Service.ListContainersAsync(default).ReturnsForAnyArgs(_ => rows);
        Service.ListUnitsAsync(default).ReturnsForAnyArgs(_ => units);
        foreach (var m in mappings)
        {
            Service.GetContainerAsync(m.Manager, m.Name, Arg.Any<CancellationToken>()).Returns(m);
        }
    }

    public async Task<CliResult> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext
        {
            Out = stdout,
            Error = stderr,
            Connect = (bus, _) =>
            {
                Connections.Add(bus);
                return ConnectFailure is null ? Task.FromResult(Service) : Task.FromException<IInteropClient>(ConnectFailure);
            },
            ConnectPrivate = () =>
            {
                PrivateConnections++;
                return Private;
            },
            ConnectLifecycle = Lifecycle is null ? null : bus =>
            {
                LifecycleConnections.Add(bus);
                return Lifecycle;
            },
            GetVariable = name => Variables.GetValueOrDefault(name),
            GetLxcEnvironment = () => LxcEnvironment,
            ReadStdin = max =>
            {
                StdinReads++;
                return Stdin.Length > max ? Stdin[..max] : Stdin;
            },
            ReadFile = path =>
            {
                FilesRead.Add(path);
                return Files.GetValueOrDefault(path);
            },
            ProbeLocal = root => Probe(root),
            ProcessPath = ProcessPath,
            Interactive = Interactive,
            ReadUsage = dirs => Usage(dirs),
            Delay = (delay, _) =>
            {
                Delays.Add(delay);
                Clock += delay;
                return Task.CompletedTask;
            },
            Elapsed = () => Clock,
            HasCgroup2 = Cgroup2 is { } cgroup2 ? () => cgroup2 : null,
        };
        var code = await Cli.RunAsync(args, context);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }
}

internal sealed record CliResult(int Code, string Out, string Error)
{
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {Code}\nstdout:\n{Out}\nstderr:\n{Error}";
}
