using System.Diagnostics;

namespace Interop.ReliabilityTests.Infra;

/// <summary>Where the binaries under test are, and a bounded way to run a short command.</summary>
internal static class Tools
{
    public static bool Soak => Environment.GetEnvironmentVariable("SOAK") == "1";

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>$INTEROPD (make publish), else the interopd this project's build produced.</summary>
    public static string Interopd => Environment.GetEnvironmentVariable("INTEROPD") is { Length: > 0 } p ? p : Built("interopd");

    /// <summary>$INTEROP_CTL (make publish, NativeAOT), else the interopctl this project's build produced.</summary>
    public static string Interopctl => Environment.GetEnvironmentVariable("INTEROP_CTL") is { Length: > 0 } p ? p : Built("interopctl");

    public static (int Exit, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, string? stdin = null,
        IReadOnlyDictionary<string, string>? env = null, bool clearEnv = false, int timeoutMs = 20_000)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        if (clearEnv)
        {
            psi.Environment.Clear();
            psi.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
            psi.Environment["LC_ALL"] = "C";
        }

        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            if (stdin is not null)
            {
                p.StandardInput.Write(stdin);
            }

            p.StandardInput.Close();
        }
        catch (IOException)
        {
            // The program did not read all of stdin (it refused early): that is its answer.
        }

        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill();
            p.WaitForExit();
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeoutMs} ms");
        }

        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string Built(string name)
    {
        var candidates = new[] { "Release", "Debug" }
            .Select(c => Path.Combine(RepoRoot, "src", name, "bin", c, "net10.0", name))
            .Where(File.Exists)
            .OrderByDescending(File.GetLastWriteTimeUtc)
            .ToList();
        return candidates.Count > 0 ? candidates[0] : throw new FileNotFoundException($"{name} is not built; run make publish or set its variable");
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Interop.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new DirectoryNotFoundException("Interop.sln not found above the test binaries");
    }
}
