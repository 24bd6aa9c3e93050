using System.Diagnostics;

namespace Interop.TestSupport;

public sealed record CmdResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>Runs a short command to completion with a deadline; a hung command is killed by its pid.</summary>
public static class Cmd
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    /// <param name="file">The program (looked up in PATH).</param>
    /// <param name="args">Its arguments, passed as they are (no shell).</param>
    /// <param name="stdin">Written to its standard input, which is then closed (closed at once when null).</param>
    /// <param name="env">Variables set (or, with a null value, removed) on top of this process's environment.</param>
    /// <param name="timeout">How long it may run before it is killed and <see cref="TimeoutException"/> is thrown.</param>
    /// <param name="clearEnv">Start from an empty environment with only PATH and LC_ALL=C (as a hook is run).</param>
    public static CmdResult Run(string file, IEnumerable<string> args, string? stdin = null, IReadOnlyDictionary<string, string?>? env = null,
        TimeSpan? timeout = null, bool clearEnv = false)
    {
        ArgumentNullException.ThrowIfNull(args);
        var argList = args.ToList();
        var info = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var a in argList)
        {
            info.ArgumentList.Add(a);
        }

        if (clearEnv)
        {
            info.Environment.Clear();
            info.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
            info.Environment["LC_ALL"] = "C";
        }

        foreach (var (key, value) in env ?? new Dictionary<string, string?>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            if (stdin is not null)
            {
                process.StandardInput.Write(stdin);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The program did not read all of stdin (it refused early): that is its answer.
        }

        var limit = timeout ?? DefaultTimeout;
        if (!process.WaitForExit(limit))
        {
            process.Kill();
            process.WaitForExit();
            throw new TimeoutException($"{file} {string.Join(' ', argList)} did not finish in {limit.TotalSeconds:F0} s");
        }

        process.WaitForExit();
        return new CmdResult(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    public static CmdResult Run(string file, params string[] args) => Run(file, (IEnumerable<string>)args);

    /// <summary><see cref="Run(string, string[])"/> off the caller's thread, with a 30 s deadline.</summary>
    public static Task<CmdResult> RunAsync(string file, params string[] args)
        => Task.Run(() => Run(file, args, timeout: TimeSpan.FromSeconds(30)));

    /// <summary>True when <paramref name="name"/> is a file in a PATH directory.</summary>
    public static bool Exists(string name)
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, name)));
}
