using System.Diagnostics;
using System.Text;

namespace Interop.ReliabilityTests.Infra;

/// <summary>
/// interopd on a private bus with a config whose shared root and boundary are inside the scratch root.
/// Start waits for its "serving" log line; Kill9 is SIGKILL by pid; the log (stderr) is kept in memory and in
/// the scratch dir. Dispose stops it by pid.
/// </summary>
internal sealed class DaemonRunner : IDisposable
{
    private readonly ScratchRoot _scratch;
    private readonly string _bus;
    private readonly StringBuilder _log = new();
    private readonly Lock _sync = new();
    private Process? _process;

    public DaemonRunner(ScratchRoot scratch, string bus, string? stateDir = null, string allowedUsers = "[root]")
    {
        _scratch = scratch;
        _bus = bus;
        StateFile = Path.Combine(stateDir ?? scratch.TempDir, "state.yaml");
        ConfigFile = Path.Combine(scratch.TempDir, $"interop-{Guid.NewGuid():N}.yaml"[..20] + ".yaml");
        File.WriteAllText(ConfigFile, $"""
            shared_root: {scratch.SharedRoot}
            boundary: /{scratch.Name}
            bus: {bus}
            state_file: {StateFile}
            policy: strict
            reaper_interval: 0
            allowed_users: {allowedUsers}
            allowed_groups: []

            """);
    }

    public string StateFile { get; }

    public string ConfigFile { get; }

    public int Pid => _process?.Id ?? 0;

    public bool Running => _process is { HasExited: false };

    public int Starts { get; private set; }

    public string Log
    {
        get
        {
            lock (_sync)
            {
                return _log.ToString();
            }
        }
    }

    public void Start()
    {
        var psi = new ProcessStartInfo(Tools.Interopd) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "--config", ConfigFile, "--bus", _bus, "--log-config", Path.Combine(_scratch.TempDir, "no-nlog.config") })
        {
            psi.ArgumentList.Add(a);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start interopd");
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                ready.TrySetException(new InvalidOperationException("interopd exited before serving:\n" + Log));
                return;
            }

            lock (_sync)
            {
                _log.AppendLine(e.Data);
            }

            if (e.Data.Contains("serving org.interop.Interop1", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        p.OutputDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        _process = p;
        Starts++;
        if (!ready.Task.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException("interopd did not start serving in 30 s:\n" + Log);
        }
    }

    public void Kill9()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        Kill9();
    }
}
