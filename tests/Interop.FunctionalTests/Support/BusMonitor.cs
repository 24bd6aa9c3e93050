using System.Diagnostics;

namespace Interop.FunctionalTests.Support;

/// <summary>
/// <c>busctl monitor</c> on a private bus with a match rule; the constructor returns once busctl says it is
/// monitoring, so a test subscribes before it triggers anything. Dispose kills busctl by pid.
/// </summary>
public sealed class BusMonitor : IDisposable
{
    private readonly Process _process;
    private readonly OutputWatcher _stdout = new();
    private readonly OutputWatcher _stderr = new();

    public BusMonitor(string address, string match)
    {
        var info = new ProcessStartInfo("busctl") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--address=" + address, "monitor", "--match=" + match })
        {
            info.ArgumentList.Add(a);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("cannot start busctl monitor");
        _stdout.Attach(_process, stderr: false);
        _stderr.Attach(_process, stderr: true);
        if (!_stderr.WaitFor(t => t.Contains("Monitoring bus message stream", StringComparison.Ordinal), TimeSpan.FromSeconds(10)))
        {
            Dispose();
            throw new InvalidOperationException("busctl monitor did not start: " + _stderr.Text);
        }
    }

    public string Text => _stdout.Text;

    public bool WaitFor(Func<string, bool> predicate) => _stdout.WaitFor(predicate, TimeSpan.FromSeconds(10));

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Posix.Kill(_process.Id, Posix.SIGKILL);
        }

        _process.WaitForExit();
        _process.Dispose();
    }
}
