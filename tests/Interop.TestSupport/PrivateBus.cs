using System.Diagnostics;

namespace Interop.TestSupport;

/// <summary>Which rules a <see cref="PrivateBus"/> enforces.</summary>
public enum BusPolicy
{
    /// <summary>Anyone may connect, own any name, call and eavesdrop: only interopd's own uid check stands between a caller and a mutation.</summary>
    Open,

    /// <summary>
    /// The stock system bus defaults (deny own, deny method calls) plus the shipped config/dbus/org.interop.Interop1.conf:
    /// tools/private-system-bus.conf.in, which make run and make bench use too.
    /// </summary>
    ShippedSystemPolicy,
}

/// <summary>
/// A private dbus-daemon from a temp config, listening on unix:path=&lt;dir&gt;/bus; it is up once it printed its
/// address (--print-address). The dir is one the caller gives, or a temp dir of its own that any user can reach
/// (tests call as uid 65534 through setpriv), removed on Dispose. Dispose kills the daemon by pid and reaps it.
/// </summary>
public sealed class PrivateBus : IDisposable
{
    private const string OpenConfig = """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <type>session</type>
          <listen>@LISTEN@</listen>
          <auth>EXTERNAL</auth>
          <policy context="default">
            <allow user="*"/>
            <allow own="*"/>
            <allow send_destination="*" eavesdrop="true"/>
            <allow eavesdrop="true"/>
          </policy>
        </busconfig>
        """;

    private readonly Process _process;
    private readonly OutputWatcher _stderr = new();
    private readonly bool _ownsDirectory;
    private bool _disposed;

    public PrivateBus(string? directory = null, BusPolicy policy = BusPolicy.Open)
    {
        _ownsDirectory = directory is null;
        Directory = directory ?? System.IO.Directory.CreateTempSubdirectory("interop-bus-").FullName;
        if (_ownsDirectory)
        {
            Posix.MakeReachableByAll(Directory);
        }

        var socket = Path.Combine(Directory, "bus");
        var config = Path.Combine(Directory, "bus.conf");
        var text = policy == BusPolicy.Open
            ? OpenConfig
            : File.ReadAllText(Path.Combine(Binaries.RepoRoot, "tools", "private-system-bus.conf.in"))
                .Replace("@POLICY@", Path.Combine(Binaries.RepoRoot, "config", "dbus", "org.interop.Interop1.conf"), StringComparison.Ordinal);
        File.WriteAllText(config, text.Replace("@LISTEN@", "unix:path=" + socket, StringComparison.Ordinal));
        var info = new ProcessStartInfo("dbus-daemon") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--nofork", "--nopidfile", "--config-file=" + config, "--print-address=1" })
        {
            info.ArgumentList.Add(a);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("cannot start dbus-daemon");
        Pid = _process.Id;
        _stderr.Attach(_process, stderr: true);
        try
        {
            // The address is printed once the socket listens.
            var line = _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
            if (string.IsNullOrWhiteSpace(line))
            {
                throw new InvalidOperationException("dbus-daemon printed no address: " + _stderr.Text);
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        Address = "unix:path=" + socket;
    }

    /// <summary>The dir holding the socket and the config.</summary>
    public string Directory { get; }

    public string Address { get; } = string.Empty;

    public int Pid { get; }

    /// <summary>True when the bus says someone owns <paramref name="name"/> (busctl NameHasOwner).</summary>
    public bool NameHasOwner(string name)
    {
        var r = Cmd.Run("busctl", "--address=" + Address, "call", "org.freedesktop.DBus", "/org/freedesktop/DBus",
            "org.freedesktop.DBus", "NameHasOwner", "s", name);
        return r.ExitCode == 0 && r.Stdout.Trim() == "b true";
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
                Posix.Kill(Pid, Posix.SIGKILL);
            }

            _process.WaitForExit();
            _process.Dispose();
        }
        finally
        {
            if (_ownsDirectory)
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
        }
    }
}
