namespace Interop.Ctl;

/// <summary>interopctl: the admin CLI and the managers' hook entry point (DESIGN.md section 9). NativeAOT.</summary>
public static class Program
{
    /// <summary>Run as interopctl, or by libvirt as its hook through a link named in its hook dir (<see cref="Cli.LibvirtHookArgs"/>).</summary>
    public static Task<int> Main(string[] args) =>
        Cli.RunAsync(Cli.LibvirtHookArgs(Environment.GetCommandLineArgs()[0], args) ?? args, CliContext.FromProcess());
}
