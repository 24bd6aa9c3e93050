using System.Diagnostics;

namespace Interop.DBus.Tests;

/// <summary>
/// A private dbus-daemon on a unix socket in a temp dir, started from a temp config; its address is read from
/// --print-address and the daemon is killed by pid on dispose. Any uid may connect (so tests can call it as
/// nobody with setpriv).
/// </summary>
public sealed class DBusDaemonFixture : IDisposable
{
    private const string ConfigTemplate = """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <type>session</type>
          <listen>unix:dir=TMP</listen>
          <auth>EXTERNAL</auth>
          <policy context="default">
            <allow user="*"/>
            <allow send_destination="*" eavesdrop="true"/>
            <allow eavesdrop="true"/>
            <allow own="*"/>
          </policy>
        </busconfig>
        """;

    private readonly Process _process;
    private readonly string _dir;

    public DBusDaemonFixture()
    {
        _dir = Directory.CreateTempSubdirectory("interop-dbus-test-").FullName;
        // The socket dir must be reachable by the unprivileged caller of the authorization tests.
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("dbus-daemon tests run on Linux");
        }

        File.SetUnixFileMode(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var config = Path.Combine(_dir, "bus.conf");
        File.WriteAllText(config, ConfigTemplate.Replace("TMP", _dir, StringComparison.Ordinal));
        var start = new ProcessStartInfo("dbus-daemon")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add($"--config-file={config}");
        start.ArgumentList.Add("--print-address");
        start.ArgumentList.Add("--nofork");
        _process = Process.Start(start) ?? throw new InvalidOperationException("cannot start dbus-daemon");
        var line = _process.StandardOutput.ReadLine();
        if (string.IsNullOrEmpty(line))
        {
            var error = _process.StandardError.ReadToEnd();
            Dispose();
            throw new InvalidOperationException($"dbus-daemon printed no address: {error}");
        }

        Address = line.Trim();
    }

    public string Address { get; }

    public int Pid => _process.Id;

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }
        }
        finally
        {
            _process.Dispose();
            Directory.Delete(_dir, recursive: true);
        }
    }
}
