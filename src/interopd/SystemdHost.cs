using Interop.Core;
using Interop.Core.Config;
using Interop.Core.Systemd;
using Interop.DBus.Systemd;
using Interop.Linux.Discovery;
using Interop.Service;
using Microsoft.Extensions.Logging;

namespace Interop.Daemon;

/// <summary>interopd's start on a systemd host (DESIGN.md section 14): detection, the bus client, the cgroup host.</summary>
internal static class SystemdHost
{
    /// <summary>Set to "0" to run as on a host without systemd (for tests in a systemd-booted CI runner).</summary>
    private const string Switch = "INTEROP_SYSTEMD";

    /// <summary>The systemd/machined client when systemd is PID 1 (sd_booted), else null.</summary>
    /// <exception cref="SystemdException">systemd is PID 1 but its bus cannot be reached.</exception>
    public static async Task<SystemdBusClient?> ConnectIfBootedAsync(ILoggerFactory loggers, ILogger log)
    {
        if (Environment.GetEnvironmentVariable(Switch) == "0" || !SystemdBoot.IsBooted())
        {
            return null;
        }

        try
        {
            var client = await SystemdBusClient.ConnectAsync(log: loggers.CreateLogger<SystemdBusClient>()).ConfigureAwait(false);
            log.LogInformation("systemd is PID 1: containers run in units of their own, registered with machined");
            return client;
        }
        catch (Exception e) when (e is not OutOfMemoryException and not InteropException)
        {
            throw new SystemdException("the system bus", e.GetType().Name, $"systemd is PID 1 but its bus cannot be reached: {e.Message}", e);
        }
    }

    /// <summary>cgroupfs on a systemd host: Interop creates and removes dirs only in the hierarchies systemd does not manage.</summary>
    public static LinuxCgroupHost CgroupHost(InteropConfig config, ILogger<LinuxCgroupHost> log) =>
        new(HierarchyDiscovery.FromHost(), config.SharedRoot, config.Boundary, writable: key => !SystemdHierarchies.IsManaged(key), log: log);
}
