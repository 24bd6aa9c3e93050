using System.Diagnostics;

namespace Interop.DBus.Tests;

/// <summary>Runs a command-line D-Bus tool (busctl, dbus-send, gdbus) and captures its output.</summary>
internal static class Tool
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static bool Exists(string name)
        => Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(dir => File.Exists(Path.Combine(dir, name)));

    public static async Task<Result> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
