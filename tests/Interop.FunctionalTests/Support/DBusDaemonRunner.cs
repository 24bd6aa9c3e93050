using System.Diagnostics;

namespace Interop.FunctionalTests.Support;

/// <summary>
/// A private dbus-daemon from a temp config: listens on a socket in a world-accessible temp dir and lets every
/// user connect and own names (so a test can call as uid 65534; interopd then does the authorization itself).
/// Dispose kills it by pid, reaps it and removes the dir.
/// </summary>
public sealed class DBusDaemonRunner : IDisposable
{
    private readonly Process _process;
    private readonly OutputWatcher _stderr = new();
    private bool _disposed;

    public DBusDaemonRunner()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("interop-ft-bus-").FullName;
        File.SetUnixFileMode(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var config = Path.Combine(Directory, "bus.conf");
        File.WriteAllText(config, $"""
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>session</type>
              <listen>unix:path={Directory}/bus</listen>
              <auth>EXTERNAL</auth>
              <policy context="default">
                <allow user="*"/>
                <allow own="*"/>
                <allow send_destination="*" eavesdrop="true"/>
                <allow eavesdrop="true"/>
              </policy>
            </busconfig>
            """);
        var info = new ProcessStartInfo("dbus-daemon")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "--nofork", "--config-file=" + config, "--print-address=1" })
        {
            info.ArgumentList.Add(a);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("cannot start dbus-daemon");
        Pid = _process.Id;
        _stderr.Attach(_process, stderr: true);
        try
        {
            var line = _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
            Address = line?.Trim() is { Length: > 0 } a ? a : throw new InvalidOperationException("dbus-daemon printed no address: " + _stderr.Text);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Directory { get; }

    public string Address { get; } = string.Empty;

    public int Pid { get; }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            Posix.Kill(Pid, Posix.SIGKILL);
        }

        _process.WaitForExit();
        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
