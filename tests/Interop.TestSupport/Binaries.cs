namespace Interop.TestSupport;

/// <summary>
/// Where the binaries under test are: env INTEROPD / INTEROP_CTL (the Makefile sets them to the published ones),
/// else the build output of the configuration the test assembly was built in.
/// </summary>
public static class Binaries
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Env CONFIGURATION, else the configuration of this test assembly's bin/&lt;Configuration&gt;/net10.0.</summary>
    public static string Configuration { get; } =
        Environment.GetEnvironmentVariable("CONFIGURATION")
        ?? Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/'))) ?? "Debug";

    public static string Interopd => Find("INTEROPD", "interopd");

    public static string Interopctl => Find("INTEROP_CTL", "interopctl");

    private static string Find(string variable, string project)
    {
        var fromEnv = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return fromEnv;
        }

        var path = Path.Combine(RepoRoot, "src", project, "bin", Configuration, "net10.0", project);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{project} is not built at {path}; build it, or run make publish and set {variable}");
        }

        return path;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Interop.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Interop.sln not found above " + AppContext.BaseDirectory);
    }
}
