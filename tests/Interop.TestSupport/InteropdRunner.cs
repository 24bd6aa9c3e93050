using System.Diagnostics;
using System.Text;

namespace Interop.TestSupport;

/// <summary>
/// interopd (<see cref="Binaries.Interopd"/>: the published binary from $INTEROPD, else the build output) on a
/// given bus with a given config, started again as often as a test likes. Its stderr log is kept over all its runs;
/// <see cref="WaitUntilServing"/> waits for the current run's "serving org.interop.Interop1" line (logged once its
/// bus name is owned). It is signalled by pid only. Dispose stops it (SIGTERM, then SIGKILL) and reaps it; the config
/// and state files belong to the caller.
/// </summary>
public sealed class InteropdRunner : IDisposable
{
    private const string ServingLine = "serving org.interop.Interop1";

    private readonly string _bus;
    private readonly string _configPath;
    private readonly StringBuilder _earlierRuns = new();
    private Process? _process;
    private OutputWatcher _stderr = new();
    private bool _disposed;

    public InteropdRunner(string busAddress, string configPath)
    {
        _bus = busAddress;
        _configPath = configPath;
    }

    /// <summary>The current (or last) run's pid; 0 before the first start.</summary>
    public int Pid { get; private set; }

    /// <summary>How many times it was started.</summary>
    public int Starts { get; private set; }

    /// <summary>Everything it logged to stderr, over all its runs.</summary>
    public string Log => _earlierRuns + _stderr.Text;

    /// <summary>
    /// True once the current run has exited (or before the first start). Its stderr is then read to the end, so a
    /// <see cref="Log"/> read right after has every line the run wrote.
    /// </summary>
    public bool HasExited
    {
        get
        {
            if (_process is null)
            {
                return true;
            }

            if (!_process.HasExited)
            {
                return false;
            }

            _process.WaitForExit();
            return true;
        }
    }

    /// <summary>True while a run is alive.</summary>
    public bool Running => !HasExited;

    /// <summary>The exit code once the current run has exited (killed included); null while it runs.</summary>
    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    /// <summary>Starts a runner and does not wait (tests of start-up failures watch it exit).</summary>
    public static InteropdRunner Launch(string busAddress, string configPath)
    {
        var runner = new InteropdRunner(busAddress, configPath);
        runner.Start();
        return runner;
    }

    /// <summary>Builds the YAML a test daemon runs with: strict policy, root allowed, the reaper off unless asked.</summary>
    public static string ConfigText(string sharedRoot, string boundary, string stateFile, int reaperInterval = 0,
        string allowedUsers = "[root]", string? bus = null)
        => $"""
            shared_root: {sharedRoot}
            boundary: {boundary}
            {(bus is null ? "" : $"bus: {bus}\n")}state_file: {stateFile}
            policy: strict
            reaper_interval: {reaperInterval}
            allowed_users: {allowedUsers}
            allowed_groups: []

            """;

    /// <summary>Starts a new run (the previous one must have exited or been killed); does not wait for it to serve.</summary>
    public void Start()
    {
        if (Running)
        {
            throw new InvalidOperationException($"interopd (pid {Pid}) still runs");
        }

        ForgetRun();
        var info = new ProcessStartInfo(Binaries.Interopd) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--config", _configPath, "--bus", _bus, "--log-config", "/nonexistent/nlog.config" })
        {
            info.ArgumentList.Add(a);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("cannot start interopd");
        Pid = _process.Id;
        Starts++;
        _stderr.Attach(_process, stderr: true);
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
    }

    /// <summary>Starts a new run and waits until it serves.</summary>
    public void StartServing(TimeSpan? timeout = null)
    {
        Start();
        WaitUntilServing(timeout);
    }

    /// <summary>Waits until the current run serves; throws with the log when it exits first or the deadline passes.</summary>
    public void WaitUntilServing(TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        if (!_stderr.WaitFor(t => t.Contains(ServingLine, StringComparison.Ordinal), limit))
        {
            throw new TimeoutException($"interopd is not serving after {limit.TotalSeconds:F0} s (exited: {HasExited}); log:\n{Log}");
        }
    }

    /// <summary>SIGKILL by pid, then reap.</summary>
    public void Kill()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            Posix.Kill(Pid, Posix.SIGKILL);
        }

        _process.WaitForExit();
    }

    /// <summary>SIGTERM by pid and wait for it to exit; returns the exit code (SIGKILL and throw on timeout).</summary>
    public int Stop(TimeSpan? timeout = null)
    {
        var process = _process ?? throw new InvalidOperationException("interopd was never started");
        if (!process.HasExited)
        {
            Posix.Kill(Pid, Posix.SIGTERM);
        }

        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(10)))
        {
            Kill();
            throw new TimeoutException("interopd ignored SIGTERM; log:\n" + Log);
        }

        process.WaitForExit();
        return process.ExitCode;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_process is { } process)
        {
            try
            {
                if (!process.HasExited)
                {
                    Posix.Kill(Pid, Posix.SIGTERM);
                    if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
                    {
                        Posix.Kill(Pid, Posix.SIGKILL);
                    }
                }

                process.WaitForExit();
            }
            finally
            {
                process.Dispose();
            }
        }
    }

    /// <summary>Keeps the exited run's log and lets its process go.</summary>
    private void ForgetRun()
    {
        if (_process is null)
        {
            return;
        }

        _process.WaitForExit();
        _earlierRuns.Append(_stderr.Text);
        _stderr = new OutputWatcher();
        _process.Dispose();
        _process = null;
    }
}
