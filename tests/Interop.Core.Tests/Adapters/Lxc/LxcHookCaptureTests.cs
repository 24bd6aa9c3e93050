using Interop.Core.Adapters.Lxc;
using Interop.Core.Model;

namespace Interop.Core.Tests.Adapters.Lxc;

/// <summary>The real LXC 5.0.2 captures (fixtures/hooks/lxc-5.0.2-*.txt) parsed end to end.</summary>
public class LxcHookCaptureTests
{
    private const int InitPid = 9071;
    private const int MonitorPid = 9061;

    public static IEnumerable<TestCaseData> Calls()
    {
        var expected = new[]
        {
            (Event: LifecycleEvent.Prepare, Type: "pre-start", Leader: (int?)null),
            (Event: LifecycleEvent.Started, Type: "start-host", Leader: (int?)InitPid),
            (Event: LifecycleEvent.Stopped, Type: "stop", Leader: (int?)InitPid),
            (Event: LifecycleEvent.Released, Type: "post-stop", Leader: (int?)InitPid),
        };
        foreach (var version in new[] { 0, 1 })
        {
            var calls = ReadCapture($"lxc-5.0.2-hook-version-{version}.txt");
            if (calls.Count != expected.Length)
            {
                throw new InvalidDataException($"{version}: expected {expected.Length} calls in the capture, found {calls.Count}");
            }

            for (var i = 0; i < calls.Count; i++)
            {
                var (args, env) = calls[i];
                yield return new TestCaseData(args, env, expected[i].Event, expected[i].Type, expected[i].Leader)
                    .SetArgDisplayNames($"v{version} call {i + 1} {expected[i].Type}");
            }
        }
    }

    [TestCaseSource(nameof(Calls))]
    public void Capture_parses_to_the_expected_call(string[] args, Dictionary<string, string> env, LifecycleEvent ev, string type, int? leader)
    {
        var call = LxcHook.Parse(args, env);

        Assert.Multiple(() =>
        {
            Assert.That(call.Manager, Is.EqualTo(Manager.Lxc));
            Assert.That(call.Name, Is.EqualTo("e-lxc1"));
            Assert.That(call.Event, Is.EqualTo(ev));
            Assert.That(call.HookType, Is.EqualTo(type));
            Assert.That(call.Leader, Is.EqualTo(leader));
            Assert.That(call.Facts[FactKeys.ConfigFile], Is.EqualTo("/var/lib/lxc/e-lxc1/config"));
            Assert.That(call.Facts[FactKeys.RootfsPath], Is.EqualTo("/var/lib/lxc/e-lxc1/rootfs"));
            Assert.That(call.Facts[FactKeys.CgnsAware], Is.EqualTo("1"));
            if (type is "stop" or "post-stop")
            {
                Assert.That(call.Facts[FactKeys.Target], Is.EqualTo("stop"));
                Assert.That(call.Facts[FactKeys.Namespaces], Is.EqualTo("mnt,pid,uts,ipc,net,cgroup"));
            }
            else
            {
                Assert.That(call.Facts.ContainsKey(FactKeys.Target), Is.False);
                Assert.That(call.Facts.ContainsKey(FactKeys.Namespaces), Is.False);
            }
        });
    }

    private static List<(string[] Args, Dictionary<string, string> Env)> ReadCapture(string file)
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "hooks", file);
        var calls = new List<(string[], Dictionary<string, string>)>();
        List<string>? args = null;
        Dictionary<string, string>? env = null;
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Replace("<init pid>", InitPid.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("<monitor>", MonitorPid.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            if (line.StartsWith("=== call", StringComparison.Ordinal))
            {
                if (args is not null)
                {
                    calls.Add((args.ToArray(), env!));
                }

                args = [];
                env = new Dictionary<string, string>(StringComparer.Ordinal);
            }
            else if (line.StartsWith("argv[", StringComparison.Ordinal))
            {
                args!.Add(line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            }
            else if (line.StartsWith("env ", StringComparison.Ordinal))
            {
                var kv = line[4..];
                var eq = kv.IndexOf('=', StringComparison.Ordinal);
                env![kv[..eq]] = kv[(eq + 1)..];
            }
        }

        if (args is not null)
        {
            calls.Add((args.ToArray(), env!));
        }

        return calls;
    }
}
