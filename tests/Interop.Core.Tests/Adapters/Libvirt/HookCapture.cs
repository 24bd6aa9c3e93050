namespace Interop.Core.Tests.Adapters.Libvirt;

/// <summary>One "=== call N" block of a libvirt hook capture in fixtures/hooks.</summary>
public sealed record HookCapture(string File, int Call, IReadOnlyList<string> Args, IReadOnlyList<string> LeaderCgroup, string Stdin)
{
    public override string ToString() => $"{File}#{Call} {string.Join(' ', Args)}";

    public static IReadOnlyList<HookCapture> Load(string fileName)
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "hooks", fileName);
        var captures = new List<HookCapture>();
        int? call = null;
        var args = new List<string>();
        var cgroup = new List<string>();
        var stdin = new List<string>();
        var section = "";

        void Flush()
        {
            if (call is { } n)
            {
                captures.Add(new HookCapture(fileName, n, [.. args], [.. cgroup], string.Join('\n', stdin).Trim() + "\n"));
            }

            args.Clear();
            cgroup.Clear();
            stdin.Clear();
            section = "";
        }

        foreach (var line in System.IO.File.ReadAllLines(path))
        {
            if (line.StartsWith("=== call ", StringComparison.Ordinal))
            {
                Flush();
                call = int.Parse(line["=== call ".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("--- stdin:", StringComparison.Ordinal))
            {
                section = "stdin";
            }
            else if (line.StartsWith("--- container leader", StringComparison.Ordinal))
            {
                section = "cgroup";
            }
            else if (section == "stdin")
            {
                stdin.Add(line);
            }
            else if (section == "cgroup")
            {
                cgroup.Add(line);
            }
            else if (line.StartsWith("argv[", StringComparison.Ordinal))
            {
                args.Add(line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            }
        }

        Flush();
        return captures;
    }
}
