using System.Runtime.InteropServices;
using Interop.Core;
using Interop.Core.Adapters;
using Interop.Core.Adapters.Libvirt;
using Interop.Core.Adapters.Lxc;
using Interop.Core.Config;
using Interop.Core.Model;
using Interop.Core.Systemd;
using Interop.DBus;
using Interop.DBus.Direct;
using Interop.Service;
using Interop.Service.Metrics;
using Microsoft.Extensions.Logging;
using NLog.Extensions.Logging;

namespace Interop.Daemon;

/// <summary>
/// interopd: reads the configuration, discovers the hierarchies, ensures the shared root, reconciles the
/// registry with cgroupfs, serves it on D-Bus, runs the reaper, and stops cleanly on SIGTERM.
/// </summary>
public static class Program
{
    private const string Usage = """
        Usage: interopd [--config FILE] [--bus ADDRESS] [--log-config FILE]

        The Interop daemon: keeps the registry of LXC and libvirt containers under one shared
        cgroup root and serves it on D-Bus as org.interop.Interop1.

          --config FILE       configuration (default /etc/interop/interop.yaml; a missing file means defaults)
          --bus ADDRESS       system, session or a D-Bus address (default: $INTEROP_BUS_ADDRESS, else the file's bus, else system)
          --log-config FILE   NLog configuration (default /etc/interop/nlog.config, else stderr at Info)
          --version           print the version
        """;

    /// <summary>.NET reads it once, when the first socket is made; an admin's own setting of it is kept.</summary>
    internal const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static async Task<int> Main(string[] args)
    {
        // Socket completions run on the thread that polls the sockets instead of being handed to the thread pool: one
        // thread switch less per message, which is most of what a call costs interopd (docs/benchmarks.md: Peer.Ping
        // 0.18 -> 0.07 ms of CPU, GetContainerByPid 0.26 -> 0.18 ms). The bus connections are read by threads of their
        // own (BusStream), the same way; this is for the hooks' private socket. Nothing
        // that blocks runs there (Blocking): the gated work and a non-root caller's check go to the pool, queries take
        // microseconds (a few ms for ListContainers of 10,000), and /metrics is served from prometheus-net's own thread
        // and the pool.
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }

        var configPath = InteropConfig.PathFrom(Environment.GetEnvironmentVariable(InteropConfig.PathVariable));
        string? bus = null;
        var logConfig = "/etc/interop/nlog.config";
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--config" when i + 1 < args.Length:
                    configPath = args[++i];
                    break;
                case "--bus" when i + 1 < args.Length:
                    bus = args[++i];
                    break;
                case "--log-config" when i + 1 < args.Length:
                    logConfig = args[++i];
                    break;
                case "--version":
                    Console.WriteLine($"interopd {typeof(Program).Assembly.GetName().Version?.ToString(3)}");
                    return 0;
                case "--help" or "-h":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    Console.Error.WriteLine($"interopd: unknown argument '{Printable.Of(args[i])}'; see interopd --help");
                    return 2;
            }
        }

        // The libraries log to Microsoft.Extensions.Logging's ILogger; interopd routes that to NLog.
        NLogSetup.Configure(logConfig);
        using var loggers = new NLogLoggerFactory();
        var log = loggers.CreateLogger("interopd");
        try
        {
            return await RunAsync(configPath, bus, loggers, log).ConfigureAwait(false);
        }
        catch (ConfigException e)
        {
            log.LogCritical("{0}", e.Message);
            return 2;
        }
        catch (Exception e) when (e is InteropException or IOException or UnauthorizedAccessException)
        {
            log.LogCritical("cannot start: {0}", e.Message);
            return 1;
        }
        finally
        {
            NLogSetup.Shutdown();
        }
    }

    private static async Task<int> RunAsync(string configPath, string? busOverride, ILoggerFactory loggers, ILogger log)
    {
        var config = File.Exists(configPath) ? ConfigLoader.Parse(File.ReadAllText(configPath), configPath) : new InteropConfig();
        var bus = BusChoice.Resolve(busOverride, Environment.GetEnvironmentVariable(BusChoice.Variable), () => config.Bus);

        // One daemon per state, before anything is read or written (issue 12): a second one exits with one line.
        using var daemonLock = Interop.Linux.Native.DaemonLock.TryTake(config.StateFile + ".lock", out var holder);
        if (daemonLock is null)
        {
            log.LogCritical("another interopd{0} holds {1}.lock; this one exits without touching the state, cgroupfs or the bus",
                holder > 0 ? $" (pid {holder})" : "", config.StateFile);
            return 1;
        }

        using var systemd = await SystemdHost.ConnectIfBootedAsync(loggers, log).ConfigureAwait(false);
        if (systemd is not null)
        {
            config = config.ForSystemd();
        }

        using var host = systemd is null
            ? LinuxCgroupHost.FromHost(config.SharedRoot, config.Boundary, loggers.CreateLogger<LinuxCgroupHost>())
            : SystemdHost.CgroupHost(config, loggers.CreateLogger<LinuxCgroupHost>());
        log.LogInformation("interopd {0}: {1} host, {2} hierarchies, shared root {3}, state {4}, bus {5}",
            typeof(Program).Assembly.GetName().Version?.ToString(3), host.Mode, host.Hierarchies.Count, config.SharedRoot, config.StateFile, bus);

        var layouts = new Dictionary<Manager, IContainerLayout>
        {
            [Manager.Lxc] = new LxcLayout(),

            // libvirt derives its controller list from /proc/cgroups its own way; match it byte for byte.
            [Manager.Libvirt] = new LibvirtLayout(LibvirtNames.ControllerTokens(File.ReadAllText("/proc/cgroups"))),
        };

        // Metrics: one registry for /metrics and GetMetrics. The server binds first, so a bad address or a port in
        // use stops interopd before it changes anything (setup, state, bus name).
        InteropService? serviceRef = null;
        using var usageReader = new Interop.Linux.Cgroups.UsageReader();
        var metrics = new InteropMetrics(() => serviceRef?.ListContainers() ?? [], InteropMetrics.ForHost(host.Hierarchies, usageReader), usageReader.Sweep, loggers.CreateLogger<InteropMetrics>());
        await using var metricsServer = config.MetricsListen is { } listen ? MetricsServer.Start(listen, metrics.Registry) : null;
        if (metricsServer is not null)
        {
            log.LogInformation("serving metrics at {0}", metricsServer.Url);
        }

        var store = new StateStore(config.StateFile);
        using var service = new InteropService(host, config, store, layouts,
            systemd: systemd is null ? null : new SystemdCoordinator(systemd, host, config.SharedRoot, log: loggers.CreateLogger<SystemdCoordinator>()),
            metrics: metrics, loggers: loggers);
        serviceRef = service;
        try
        {
            await service.SetupAsync().ConfigureAwait(false);
        }
        catch (InteropException e)
        {
            // Keep serving reads: status and list still help the admin find the cause.
            log.LogError("setup of the shared root failed: {0}", e.Message);
        }

        var report = await service.ReconcileAsync().ConfigureAwait(false);
        if (report.CorruptStateKeptAt is { } aside)
        {
            log.LogWarning("the state file was unreadable and is kept at {0}; the registry was rebuilt from cgroupfs", aside);
        }

        // LXC containers then register when their init enters its cgroup, without a start-host hook process.
        service.WatchLeaders();

        // Reconcile of a big registry reads the whole state file and /proc once: hand that transient memory
        // back to the system now rather than carry it for the daemon's lifetime.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

        var authorizer = new Authorizer(config);
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

        await using var busService = await InteropBusService.StartAsync(bus, service, authorizer.IsAllowed,
            loggers.CreateLogger<InteropBusService>(), stop.Token, authorizer.MayChange, metrics.ExportTextAsync).ConfigureAwait(false);
        log.LogInformation("serving org.interop.Interop1 on {0} with {1} containers", bus, service.ContainerCount);

        // The hooks' own way in: peer-to-peer D-Bus on a root-only socket, no bus relay (docs/architecture.md).
        await using var privateSocket = StartPrivateSocket(config.PrivateSocket, service, loggers, log);

        var reaper = RunReaperAsync(service, config.ReaperInterval, stop.Token);
        var trim = IdleTrim.RunAsync(TimeSpan.FromSeconds(2), (before, after) =>
            log.LogDebug("idle: committed memory {0:F1} -> {1:F1} MB", before / 1048576.0, after / 1048576.0), stop.Token);
        var signalled = Task.Delay(Timeout.Infinite, stop.Token);
        var exitCode = 0;
        if (await Task.WhenAny(signalled, busService.Disconnected).ConfigureAwait(false) == signalled)
        {
            log.LogInformation("stopping");
        }
        else
        {
            // Without the bus nobody can reach the registry: exit, so the service manager (or bus
            // activation) starts a fresh instance on the bus that is there now, instead of lingering.
            log.LogError("lost the bus connection; exiting");
            exitCode = 1;
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await reaper.ConfigureAwait(false);
        await trim.ConfigureAwait(false);
        store.Flush();
        return exitCode;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }

    private static PrivateSocket? StartPrivateSocket(string? path, InteropService service, ILoggerFactory loggers, ILogger log)
    {
        if (path is null)
        {
            return null;
        }

        try
        {
            var socket = PrivateSocket.Start(path, service, loggers.CreateLogger("Interop.DBus.PrivateSocket"));
            log.LogInformation("hooks may call on the private socket {0} (root only)", path);
            return socket;
        }
        catch (IOException e)
        {
            // The hooks then use the bus: slower, never wrong.
            log.LogWarning("no private socket: {0}", e.Message);
            return null;
        }
    }

    private static async Task RunReaperAsync(InteropService service, TimeSpan interval, CancellationToken token)
    {
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
            {
                await service.ReapAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}
