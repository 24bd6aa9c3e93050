using System.Diagnostics;

namespace Interop.FunctionalTests.Support;

public sealed record CmdResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>Runs a short command to completion with a deadline; a hung command is killed by its pid.</summary>
public static class Cmd
{
    public static CmdResult Run(string file, IEnumerable<string> args, string? stdin = null, IReadOnlyDictionary<string, string?>? env = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var (key, value) in env ?? new Dictionary<string, string?>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(20)))
        {
            process.Kill();
            process.WaitForExit();
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish");
        }

        process.WaitForExit();
        return new CmdResult(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    public static CmdResult Run(string file, params string[] args) => Run(file, (IEnumerable<string>)args);
}
