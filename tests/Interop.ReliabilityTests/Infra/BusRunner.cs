using System.Diagnostics;

namespace Interop.ReliabilityTests.Infra;

/// <summary>
/// A private dbus-daemon listening on a socket in the scratch dir, stopped by its pid.
/// Open: anyone may connect, own and call (so only interopd's own uid check stands between a caller and a
/// mutation). SystemPolicy: the stock system bus defaults (deny own, deny method calls) plus the shipped
/// config/dbus/org.interop.Interop1.conf: tools/private-system-bus.conf.in, which make run and make bench use too.
/// </summary>
internal sealed class BusRunner : IDisposable
{
    private const string Header = """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <type>system</type>
          <listen>unix:path=SOCKET</listen>
          <auth>EXTERNAL</auth>
        """;

    private const string OpenPolicy = """
          <policy context="default">
            <allow user="*"/>
            <allow own="*"/>
            <allow send_type="method_call"/>
            <allow send_type="signal"/>
            <allow send_requested_reply="true" send_type="method_return"/>
            <allow send_requested_reply="true" send_type="error"/>
            <allow receive_type="method_call"/>
            <allow receive_type="method_return"/>
            <allow receive_type="error"/>
            <allow receive_type="signal"/>
          </policy>
        </busconfig>
        """;

    private readonly Process _process;

    public BusRunner(string dir, bool systemPolicy)
    {
        var socket = Path.Combine(dir, systemPolicy ? "policy-bus" : "bus");
        var config = Path.Combine(dir, systemPolicy ? "policy-bus.conf" : "bus.conf");
        var policy = Path.Combine(Tools.RepoRoot, "config", "dbus", "org.interop.Interop1.conf");
        var text = systemPolicy
            ? File.ReadAllText(Path.Combine(Tools.RepoRoot, "tools", "private-system-bus.conf.in"))
                .Replace("@LISTEN@", "unix:path=" + socket, StringComparison.Ordinal).Replace("@POLICY@", policy, StringComparison.Ordinal)
            : (Header + "\n" + OpenPolicy).Replace("SOCKET", socket, StringComparison.Ordinal);
        File.WriteAllText(config, text);
        var psi = new ProcessStartInfo("dbus-daemon") { UseShellExecute = false, RedirectStandardOutput = true };
        psi.ArgumentList.Add($"--config-file={config}");
        psi.ArgumentList.Add("--nofork");
        psi.ArgumentList.Add("--nopidfile");
        psi.ArgumentList.Add("--print-address=1");
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start dbus-daemon");

        // The address is printed once the socket listens.
        var line = _process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(10)) || line.Result is null)
        {
            Dispose();
            throw new InvalidOperationException("dbus-daemon did not print its address");
        }

        Address = $"unix:path={socket}";
    }

    public string Address { get; }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.WaitForExit();
        _process.Dispose();
    }
}
