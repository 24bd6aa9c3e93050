using System.Globalization;

namespace Interop.ReliabilityTests.Infra;

/// <summary>
/// Prints a figure where `dotnet test` shows it (TestContext.Progress) and appends it to the results file
/// ($INTEROP_RELIABILITY_RESULTS, else artifacts/reliability-results.txt in the repository).
/// </summary>
internal static class Figures
{
    private static readonly Lock Sync = new();

    public static string ResultsFile { get; } = Environment.GetEnvironmentVariable("INTEROP_RELIABILITY_RESULTS") is { Length: > 0 } p
        ? p
        : Path.Combine(Binaries.RepoRoot, "artifacts", "reliability-results.txt");

    public static void Report(string topic, FormattableString line)
    {
        var text = $"[{topic}] {line.ToString(CultureInfo.InvariantCulture)}";
        TestContext.Progress.WriteLine(text);
        TestContext.Out.WriteLine(text);
        lock (Sync)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(ResultsFile)!);
            File.AppendAllText(ResultsFile, $"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ssZ} {(Tools.Soak ? "soak" : "quick")} {text}\n");
        }
    }

    public static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100 * sorted.Count) - 1)];
}
