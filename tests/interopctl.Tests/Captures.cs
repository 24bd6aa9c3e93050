using System.Globalization;

namespace Interop.Ctl.Tests;

/// <summary>One "=== call N" block of a hook capture in fixtures/hooks (see fixtures/hooks/ATTRIBUTION.md).</summary>
public sealed record Capture(string File, int Call, string[] Args, Dictionary<string, string> Env, string Stdin)
{
    public const int InitPid = 9071;
    public const int MonitorPid = 9061;

    public override string ToString() => $"{File}#{Call} {string.Join(' ', Args)}";

    public static List<Capture> Load(string fileName)
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "hooks", fileName);
        var captures = new List<Capture>();
        int? call = null;
        var args = new List<string>();
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        var stdin = new List<string>();
        var section = string.Empty;

        void Flush()
        {
            if (call is { } n)
            {
                var text = stdin.Count == 0 ? string.Empty : string.Join('\n', stdin).Trim() + "\n";
                captures.Add(new Capture(fileName, n, [.. args], new Dictionary<string, string>(env, StringComparer.Ordinal), text));
            }

            args.Clear();
            env.Clear();
            stdin.Clear();
            section = string.Empty;
        }

        foreach (var raw in System.IO.File.ReadAllLines(path))
        {
            var line = raw.Replace("<init pid>", InitPid.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("<monitor>", MonitorPid.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            if (line.StartsWith("=== call ", StringComparison.Ordinal))
            {
                Flush();
                call = int.Parse(line["=== call ".Length..], CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("--- stdin:", StringComparison.Ordinal))
            {
                section = "stdin";
            }
            else if (line.StartsWith("--- ", StringComparison.Ordinal))
            {
                section = "other";
            }
            else if (section == "stdin")
            {
                stdin.Add(line);
            }
            else if (section.Length == 0 && line.StartsWith("argv[", StringComparison.Ordinal))
            {
                args.Add(line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            }
            else if (section.Length == 0 && line.StartsWith("env ", StringComparison.Ordinal))
            {
                var eq = line.IndexOf('=', StringComparison.Ordinal);
                env[line[4..eq]] = line[(eq + 1)..];
            }
        }

        Flush();
        return captures;
    }
}
