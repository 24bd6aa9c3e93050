using System.Diagnostics;

namespace Interop.FunctionalTests.Support;

/// <summary>
/// The built interopd on a given bus with a config file: waits until org.interop.Interop1 has an owner (polling
/// NameHasOwner with a deadline), exposes its stderr log and exit code, and signals it by pid. Dispose stops it
/// (SIGTERM, then SIGKILL) and reaps it; the config dir belongs to the caller.
/// </summary>
public sealed class InteropdRunner : IDisposable
{
    private readonly Process _process;
    private readonly OutputWatcher _stderr = new();
    private readonly string _bus;
    private bool _disposed;

    public InteropdRunner(string busAddress, string configPath)
    {
        _bus = busAddress;
        var info = new ProcessStartInfo(Binaries.Interopd)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "--config", configPath, "--bus", busAddress, "--log-config", "/nonexistent/nlog.config" })
        {
            info.ArgumentList.Add(a);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("cannot start interopd");
        Pid = _process.Id;
        _stderr.Attach(_process, stderr: true);
        _process.BeginOutputReadLine();
    }

    public int Pid { get; }

    public string Log => _stderr.Text;

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once it has exited; null while it runs.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Builds the YAML a test daemon runs with (the reaper off unless asked).</summary>
    public static string ConfigText(string sharedRoot, string boundary, string stateFile, int reaperInterval = 0)
        => $"""
            shared_root: {sharedRoot}
            boundary: {boundary}
            state_file: {stateFile}
            policy: strict
            reaper_interval: {reaperInterval}
            allowed_users: [root]
            allowed_groups: []
            """;

    /// <summary>True when the bus says someone owns <paramref name="name"/>.</summary>
    public static bool NameHasOwner(string busAddress, string name)
    {
        var r = Cmd.Run("busctl", "--address=" + busAddress, "call", "org.freedesktop.DBus", "/org/freedesktop/DBus",
            "org.freedesktop.DBus", "NameHasOwner", "s", name);
        return r.ExitCode == 0 && r.Stdout.Trim() == "b true";
    }

    /// <summary>Waits until interopd owns its name; throws with its log when it exits or the deadline passes.</summary>
    public void WaitUntilServing(TimeSpan? timeout = null)
    {
        var ok = Poll.Until(() => _process.HasExited || NameHasOwner(_bus, "org.interop.Interop1"), timeout ?? TimeSpan.FromSeconds(30), 50);
        if (!ok || _process.HasExited)
        {
            throw new InvalidOperationException($"interopd is not serving (exited: {_process.HasExited}); log:\n{Log}");
        }
    }

    /// <summary>SIGKILL by pid, then reap.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            Posix.Kill(Pid, Posix.SIGKILL);
        }

        _process.WaitForExit();
    }

    /// <summary>SIGTERM by pid and wait for it to exit; returns the exit code (SIGKILL and throw on timeout).</summary>
    public int Stop(TimeSpan? timeout = null)
    {
        if (!_process.HasExited)
        {
            Posix.Kill(Pid, Posix.SIGTERM);
        }

        if (!_process.WaitForExit(timeout ?? TimeSpan.FromSeconds(10)))
        {
            Kill();
            throw new TimeoutException("interopd ignored SIGTERM; log:\n" + Log);
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (!_process.HasExited)
            {
                Posix.Kill(Pid, Posix.SIGTERM);
                if (!_process.WaitForExit(TimeSpan.FromSeconds(5)))
                {
                    Posix.Kill(Pid, Posix.SIGKILL);
                }
            }

            _process.WaitForExit();
        }
        finally
        {
            _process.Dispose();
        }
    }
}
