namespace Interop.Ctl;

/// <summary>interopctl: the admin CLI and the managers' hook entry point (DESIGN.md section 9). NativeAOT.</summary>
public static class Program
{
    public static Task<int> Main(string[] args) => Cli.RunAsync(args, CliContext.FromProcess());
}
