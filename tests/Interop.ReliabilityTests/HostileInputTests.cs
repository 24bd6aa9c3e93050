using System.Diagnostics;
using System.Text;
using Interop.Core;
using Interop.ReliabilityTests.Infra;

namespace Interop.ReliabilityTests;

/// <summary>
/// Hostile input through every entry point (DESIGN.md section 11): D-Bus arguments, `interopctl hook lxc` argv and
/// LXC_* environment (v0 and v1), `interopctl hook libvirt` argv and stdin XML (mutations of the real captures).
/// Every hostile input is refused cleanly, the daemon stays up, and no dir appears or vanishes anywhere but where
/// an accepted valid-looking input legitimately put it (released again before the comparison).
/// NUL is tested where the transport carries it (stdin XML); D-Bus strings, argv and the environment cannot hold it.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class HostileInputTests
{
    private const int Seed = 20_240_612;
    private const string Mgr = RawBus.ManagerPath;
    private const string MgrI = RawBus.ManagerIface;
    private const string Inv = RawBus.InvalidArgument;
    private const string NotIn = "org.interop.Interop1.Error.NotInSharedRoot";
    private const string NoSuch = "org.interop.Interop1.Error.NoSuchContainer";

    private static readonly Dictionary<string, string> NoFacts = [];

    /// <summary>Names DESIGN.md section 11 lists as hostile (no NUL: no transport here carries it in a name).</summary>
    private static readonly string[] BadNames =
    [
        "", "/", ".", "..", "a/b", "../x", "../../etc", "x/..", "/abs", "a\u0001b", "a\nb", "a\tb", "a\rb", "a\u001bb", "a\u007fb", "a\u0085b",
        new('a', 256), new('\u00e9', 128), "\u00e9" + new string('a', 254),
    ];

    private static readonly string[] BadKeys =
    [
        "", "tasks", "cgroup.procs", "cgroup.threads", "release_agent", "notify_on_release", "cgroup.subtree_control", "cgroup.clone_children",
        "../cpu.shares", "cpu/../../cpu.shares", "/etc/passwd", "cpu.shares/", "CPU.shares", "cpu", ".shares", "cpu.", "cpu shares", "cpu.shares\n",
        "cpu.sh\u0001ares", "pids.max/../../../tasks", "..", "/", new string('a', 300) + ".x",
    ];

    private static readonly string[] BadValues = ["1\n2", "max\u0001", "\u001b[2J", new('9', 5000)];

    private static readonly string[] BadPidTexts = ["0", "1", "-1", "abc", "99999999999", "4194305x", " 5", "", "0x10", "+7"];

    [Test]
    public async Task The_section_11_list_is_refused_cleanly_on_every_entry_point_and_creates_nothing()
    {
        await using var h = await HostileHarness.StartAsync();
        var root = h.Scratch.SharedRoot;

        // ---- D-Bus: managers, names, keys, values, pids, paths, partitions ----
        foreach (var m in new[] { "", "docker", "LXC", "lxc/..", "../lxc", "lxc\n", "libvirt ", "lxc\u0001" })
        {
            await h.DBusAsync("dbus-manager", HostileHarness.Show(m), true, [Inv], Mgr, MgrI, "PrepareContainer", m, "rh-m", NoFacts);
            await h.DBusAsync("dbus-manager", HostileHarness.Show(m), true, [Inv], Mgr, MgrI, "GetContainer", m, "rh-m");
        }

        foreach (var name in BadNames)
        {
            var label = HostileHarness.Show(name);
            foreach (var manager in new[] { "lxc", "libvirt" })
            {
                var facts = manager == "libvirt" ? h.Life.LibvirtFacts : NoFacts;
                await h.DBusAsync("dbus-name", label, true, [Inv], Mgr, MgrI, "PrepareContainer", manager, name, facts);
                await h.DBusAsync("dbus-name", label, true, [Inv], Mgr, MgrI, "RegisterContainer", manager, name, (uint)h.Target.Leader!.Pid, facts);
                await h.DBusAsync("dbus-name", label, true, [Inv], Mgr, MgrI, "StopContainer", manager, name, facts);
                await h.DBusAsync("dbus-name", label, true, [Inv], Mgr, MgrI, "ReleaseContainer", manager, name, facts);
                await h.DBusAsync("dbus-name", label, true, [Inv], Mgr, MgrI, "GetContainer", manager, name);
            }
        }

        await h.CheckAliveAsync("dbus names");

        foreach (var key in BadKeys)
        {
            await h.DBusAsync("dbus-key", HostileHarness.Show(key), true, [Inv], h.TargetPath, RawBus.ContainerIface, "GetValue", key);
            await h.DBusAsync("dbus-key", HostileHarness.Show(key), true, [Inv], h.TargetPath, RawBus.ContainerIface, "SetValue", key, "1");
        }

        foreach (var value in BadValues)
        {
            await h.DBusAsync("dbus-value", HostileHarness.Show(value), true, [Inv], h.TargetPath, RawBus.ContainerIface, "SetValue", "pids.max", value);
        }

        // Pids: 0, 1, beyond pid_t, not running, and running but outside the shared root (this test, the bus).
        foreach (var pid in new uint[] { 0, 1, uint.MaxValue, (uint)int.MaxValue + 1, (uint)int.MaxValue, NotRunningPid() })
        {
            await h.DBusAsync("dbus-pid", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), true, [Inv], Mgr, MgrI, "RegisterContainer", "lxc", "rh-pid", pid, NoFacts);
            await h.DBusAsync("dbus-pid", "by-pid " + pid, true, [Inv, NoSuch], Mgr, MgrI, "GetContainerByPid", pid);
        }

        foreach (var pid in new[] { (uint)Environment.ProcessId, (uint)h.Daemon.Pid })
        {
            await h.DBusAsync("dbus-pid", $"outside {pid}", true, [NotIn], Mgr, MgrI, "RegisterContainer", "lxc", "rh-pid", pid, NoFacts);
            await h.DBusAsync("dbus-pid", $"outside {pid}", true, [NotIn], Mgr, MgrI, "RegisterContainer", "libvirt", "rh-pid", pid, h.Life.LibvirtFacts);
        }

        foreach (var path in new[] { "", "..", "../..", "/../etc", "/a/\u0001", "//", $"{root}/../../..", "/" + new string('a', 300) })
        {
            await h.DBusAsync("dbus-path", HostileHarness.Show(path), true, [Inv, NoSuch], Mgr, MgrI, "GetContainerByCgroup", path);
        }

        foreach (var p in HostilePartitions(h))
        {
            await h.DBusAsync("dbus-partition", HostileHarness.Show(p), true, [Inv, NotIn], Mgr, MgrI, "PrepareContainer", "libvirt", "rh-part", Part(p));

            // Release never refuses a well-formed absolute partition elsewhere (nothing to release there, nothing made).
            var wellFormed = p.StartsWith('/') && Valid(() => Names.ValidateRelativePath(p, "partition"));
            await h.DBusAsync("dbus-partition", HostileHarness.Show(p) + " release", !wellFormed, [Inv, NotIn], Mgr, MgrI, "ReleaseContainer", "libvirt", "rh-part", Part(p));
        }

        await h.CheckAliveAsync("dbus keys, values, pids, paths, partitions");

        // ---- interopctl hook lxc: v0 argv + env, v1 env ----
        foreach (var name in BadNames)
        {
            var label = HostileHarness.Show(name);
            h.Cli("cli-lxc-v0", label, true, false, ["hook", "lxc", name, "lxc", "pre-start"], LxcEnv(name, "0"), null);
            h.Cli("cli-lxc-v1", label, true, true, ["hook", "lxc"], LxcEnv(name, "1", "stop"), null);

            // Quick runs cover abort and end-of-life once per name (v0 and v1 alternating); soak runs every pairing.
            if (Tools.Soak)
            {
                h.Cli("cli-lxc-v0", label, true, true, ["hook", "lxc", name, "lxc", "post-stop"], LxcEnv(name, "0"), null);
                h.Cli("cli-lxc-v1", label, true, false, ["hook", "lxc"], LxcEnv(name, "1", "pre-start"), null);
            }
        }

        foreach (var pid in BadPidTexts)
        {
            h.Cli("cli-lxc-v0", "LXC_PID=" + pid, true, false, ["hook", "lxc", "rh-lxc", "lxc", "start-host"], LxcEnv("rh-lxc", "0", pid: pid), null);
            h.Cli("cli-lxc-v1", "LXC_PID=" + pid, true, false, ["hook", "lxc"], LxcEnv("rh-lxc", "1", "start-host", pid), null);
        }

        h.Cli("cli-lxc-v0", "section", true, false, ["hook", "lxc", "rh-lxc", "net", "pre-start"], LxcEnv("rh-lxc", "0"), null);
        h.Cli("cli-lxc-v0", "type", true, false, ["hook", "lxc", "rh-lxc", "lxc", "../pre-start"], LxcEnv("rh-lxc", "0"), null);
        h.Cli("cli-lxc-v0", "name-mismatch", true, false, ["hook", "lxc", "rh-lxc", "lxc", "pre-start"], LxcEnv("../rh-lxc", "0"), null);
        h.Cli("cli-lxc-v1", "version", true, false, ["hook", "lxc"], LxcEnv("rh-lxc", "2", "pre-start"), null);
        h.Cli("cli-lxc-v1", "section", true, false, ["hook", "lxc"], new Dictionary<string, string>(LxcEnv("rh-lxc", "1", "pre-start")) { ["LXC_HOOK_SECTION"] = "net" }, null);
        h.Cli("cli-lxc-v1", "config-file", true, false, ["hook", "lxc"], new Dictionary<string, string>(LxcEnv("rh-lxc", "1", "pre-start")) { ["LXC_CONFIG_FILE"] = "/var/lib/lxc/x/config\u0001" }, null);
        h.Cli("cli-lxc-v1", "target", true, true, ["hook", "lxc"], new Dictionary<string, string>(LxcEnv("rh-lxc", "1", "stop")) { ["LXC_TARGET"] = "../x" }, null);

        // The control: the capture's own shape is accepted, and released again.
        if (h.Cli("cli-lxc-v0", "capture", false, false, ["hook", "lxc", "rh-lxc", "lxc", "pre-start"], LxcEnv("rh-lxc", "0"), null))
        {
            h.Cli("cli-lxc-v0", "capture post-stop", false, true, ["hook", "lxc", "rh-lxc", "lxc", "post-stop"], LxcEnv("rh-lxc", "0"), null);
        }

        await h.CheckAliveAsync("cli lxc");

        // ---- interopctl hook libvirt: argv + XML mutations of the real captures ----
        var (prepareXml, startedXml) = Captures();
        const string Cap = "e-lv-rt";
        foreach (var (label, name, xml) in XmlMutations(prepareXml, Cap, root))
        {
            h.Cli("cli-libvirt", label + " prepare", true, false, ["hook", "libvirt", name, "prepare", "begin", "-"], NoFacts, xml);
            var foreign = label == "partition /machine";
            h.Cli("cli-libvirt", label + " release", !foreign, true, ["hook", "libvirt", name, "release", "end", "-"], NoFacts, xml);
        }

        foreach (var id in new[] { "0", "1", "-1", "abc", "99999999999", "", "16923 ", "0x10", NotRunningPid().ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            var xml = Rooted(startedXml, root).Replace("id='16923'", $"id='{id}'", StringComparison.Ordinal);
            h.Cli("cli-libvirt", $"id='{id}' started", true, false, ["hook", "libvirt", Cap, "started", "begin", "-"], NoFacts, xml);
            h.Cli("cli-libvirt", $"id='{id}' reconnect", true, false, ["hook", "libvirt", Cap, "reconnect", "begin", "-"], NoFacts, xml);
        }

        h.Cli("cli-libvirt", "no id started", true, false, ["hook", "libvirt", Cap, "started", "begin", "-"], NoFacts, Rooted(prepareXml, root));
        h.Cli("cli-libvirt", "argv short", true, false, ["hook", "libvirt", Cap, "prepare"], NoFacts, Rooted(prepareXml, root));
        h.Cli("cli-libvirt", "empty stdin", true, false, ["hook", "libvirt", Cap, "prepare", "begin", "-"], NoFacts, "");
        h.Cli("cli-libvirt", "release reason", true, true, ["hook", "libvirt", Cap, "release", "end", "a\u0001b"], NoFacts, Rooted(prepareXml, root));
        if (h.Cli("cli-libvirt", "capture", false, false, ["hook", "libvirt", Cap, "prepare", "begin", "-"], NoFacts, Rooted(prepareXml, root)))
        {
            h.Cli("cli-libvirt", "capture release", false, true, ["hook", "libvirt", Cap, "release", "end", "-"], NoFacts, Rooted(prepareXml, root));
        }

        // A large document well under the limit (a domain with a long description, say) is read whole and accepted.
        var padded = Rooted(prepareXml, root).Replace("<clock", "<!--" + new string('x', 300_000) + "-->\n  <clock", StringComparison.Ordinal);
        Assert.That(padded, Has.Length.GreaterThan(300_000));
        if (h.Cli("cli-libvirt", "capture with a 300 KB comment", false, false, ["hook", "libvirt", Cap, "prepare", "begin", "-"], NoFacts, padded))
        {
            h.Cli("cli-libvirt", "capture with a 300 KB comment release", false, true, ["hook", "libvirt", Cap, "release", "end", "-"], NoFacts, padded);
        }
        else
        {
            h.Failures.Add("cli-libvirt: a valid domain XML of 300 KB was not accepted");
        }

        await h.CheckAliveAsync("cli libvirt");
        var differences = h.DirDifferences();
        h.ReportFigures("hostile");
        Figures.Report("hostile", $"dirs made or removed outside what accepted inputs released: {differences.Count}");
        Assert.Multiple(() =>
        {
            Assert.That(h.Failures, Is.Empty);
            Assert.That(differences, Is.Empty);
            Assert.That(h.Daemon.Running, Is.True);
            Assert.That(h.Tried("dbus-name"), Is.EqualTo(BadNames.Length * 10));
        });
    }

    [Test]
    public async Task A_seeded_fuzz_loop_is_refused_cleanly_or_accepted_and_released()
    {
        var count = Tools.Soak ? 5000 : 300;
        var limit = TimeSpan.FromSeconds(Tools.Soak ? 600 : 20);
        await using var h = await HostileHarness.StartAsync();
        var random = new Random(Seed);
        var root = h.Scratch.SharedRoot;
        var (prepareXml, _) = Captures();
        var foreignPids = new uint[] { (uint)Environment.ProcessId, (uint)h.Daemon.Pid, 0, 1, NotRunningPid() };
        var sw = Stopwatch.StartNew();
        var done = 0;
        for (; done < count && sw.Elapsed < limit; done++)
        {
            var name = FuzzName(random);
            var nameOk = Valid(() => Names.ValidateComponent(name, "name"));
            switch (done % 6)
            {
                case 0:
                    var manager = random.Next(2) == 0 ? "lxc" : "libvirt";
                    var facts = manager == "libvirt" ? h.Life.LibvirtFacts : NoFacts;
                    if (await h.DBusAsync("fuzz-dbus-name", HostileHarness.Show(name), !nameOk, [Inv], Mgr, MgrI, "PrepareContainer", manager, name, facts))
                    {
                        await ReleaseAsync(h, manager, name, facts);
                    }

                    break;
                case 1:
                    var key = FuzzKey(random);
                    var keyOk = Valid(() => Names.ValidateKey(key));
                    await h.DBusAsync("fuzz-dbus-key", HostileHarness.Show(key), !keyOk, [Inv], h.TargetPath, RawBus.ContainerIface, keyOk ? "GetValue" : "SetValue", keyOk ? [key] : [key, "1"]);
                    break;
                case 2:
                    var pid = random.Next(3) == 0 ? foreignPids[random.Next(foreignPids.Length)] : (uint)random.NextInt64(0, uint.MaxValue + 1L);
                    var pidName = nameOk ? name : "rh-fuzz";

                    // No pid a fuzzer can pick is the leader of a container in the shared root: all are refused.
                    await h.DBusAsync("fuzz-dbus-pid", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), true, [Inv, NotIn], Mgr, MgrI, "RegisterContainer", "lxc", pidName, pid, NoFacts);
                    break;
                case 3:
                    var partition = FuzzPartition(random, root);
                    var partOk = PartitionInsideRoot(partition, root);
                    if (await h.DBusAsync("fuzz-dbus-partition", HostileHarness.Show(partition), !partOk, [Inv, NotIn], Mgr, MgrI, "PrepareContainer", "libvirt", "rh-fuzz", Part(partition)))
                    {
                        await ReleaseAsync(h, "libvirt", "rh-fuzz", Part(partition));
                    }

                    break;
                case 4:
                    var v1 = random.Next(2) == 0;
                    var endOfLife = random.Next(3) == 0;
                    var type = endOfLife ? (random.Next(2) == 0 ? "stop" : "post-stop") : "pre-start";
                    var env = LxcEnv(name, v1 ? "1" : "0", v1 ? type : null);
                    string[] argv = v1 ? ["hook", "lxc"] : ["hook", "lxc", name, "lxc", type];
                    var entry = v1 ? "fuzz-cli-lxc-v1" : "fuzz-cli-lxc-v0";
                    if (h.Cli(entry, HostileHarness.Show(name) + " " + type, !nameOk, endOfLife, argv, env, null) && !endOfLife)
                    {
                        h.Cli(entry, "release " + HostileHarness.Show(name), false, true, v1 ? ["hook", "lxc"] : ["hook", "lxc", name, "lxc", "post-stop"], LxcEnv(name, v1 ? "1" : "0", v1 ? "post-stop" : null), null);
                    }

                    break;
                default:
                    var (label, xmlName, xml, hostile) = FuzzXml(random, prepareXml, root);
                    var op = random.Next(3) == 0 ? "release" : "prepare";
                    var eol = op == "release";
                    if (h.Cli("fuzz-cli-libvirt", label + " " + op, hostile, eol, ["hook", "libvirt", xmlName, op, eol ? "end" : "begin", "-"], NoFacts, xml) && !eol)
                    {
                        h.Cli("fuzz-cli-libvirt", "release " + label, false, true, ["hook", "libvirt", xmlName, "release", "end", "-"], NoFacts, xml);
                    }

                    break;
            }

            if (done % 50 == 49)
            {
                await h.CheckAliveAsync($"fuzz input {done + 1}");
            }
        }

        await h.CheckAliveAsync("the fuzz loop");

        // Partitions accepted under the shared root stay as libvirt leaves them; the prune removes the empty ones.
        var (pruneError, pruneMessage) = await h.Raw.CallAsync(Mgr, MgrI, "Prune", false);
        var differences = h.DirDifferences();
        h.ReportFigures("hostile-fuzz");
        Figures.Report("hostile-fuzz", $"seed {Seed}: {done} of {count} inputs in {sw.Elapsed.TotalSeconds:F1} s (limit {limit.TotalSeconds:F0} s); dirs differing after release + Prune: {differences.Count}");
        Assert.Multiple(() =>
        {
            Assert.That(h.Failures, Is.Empty);
            Assert.That(pruneError, Is.Null, pruneMessage);
            Assert.That(differences, Is.Empty);
            Assert.That(h.Daemon.Running, Is.True);
            Assert.That(done, Is.GreaterThanOrEqualTo(Math.Min(count, 60)), "the time limit cut the loop very short");
        });
    }

    // ---- inputs ----

    private static IEnumerable<string> HostilePartitions(HostileHarness h)
    {
        var root = h.Scratch.SharedRoot;
        return
        [
            "", "/", "//", "..", "../x", "machine", "machine/x", "/..", "/../x", $"{root}/..", $"{root}/../x", $"{root}/../../etc", $"{root}/a/../../..",
            $"{root}//a", $"{root}/a\u0001", $"{root}/a\nb", $"{root}/.", $"{root}/" + new string('a', 256), "/machine", "/sys/fs/cgroup", $"/{h.Scratch.Name}", "/etc/../machine",
        ];
    }

    private static Dictionary<string, string> Part(string p) => new() { ["partition"] = p };

    private static Dictionary<string, string> LxcEnv(string name, string version, string? type = null, string? pid = null)
    {
        var env = new Dictionary<string, string>
        {
            ["LXC_NAME"] = name,
            ["LXC_HOOK_VERSION"] = version,
            ["LXC_CGNS_AWARE"] = "1",
            ["LXC_CONFIG_FILE"] = $"/var/lib/lxc/rh/config",
            ["LXC_ROOTFS_PATH"] = $"/var/lib/lxc/rh/rootfs",
            ["LXC_ROOTFS_MOUNT"] = "/usr/lib/x86_64-linux-gnu/lxc/rootfs",
            ["LXC_LOG_LEVEL"] = "DEBUG",
        };
        if (type is not null)
        {
            env["LXC_HOOK_TYPE"] = type;
            env["LXC_HOOK_SECTION"] = "lxc";
        }

        if (pid is not null)
        {
            env["LXC_PID"] = pid;
        }

        return env;
    }

    /// <summary>The prepare and started domain XML of the libvirt 9.0.0 capture.</summary>
    private static (string Prepare, string Started) Captures()
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "hooks", "libvirt-9.0.0-lxc-lifecycle.txt"));
        string Stdin(string call)
        {
            var at = text.IndexOf(call, StringComparison.Ordinal);
            var start = text.IndexOf("--- stdin:\n", at, StringComparison.Ordinal) + "--- stdin:\n".Length;
            var end = text.IndexOf("</domain>", start, StringComparison.Ordinal) + "</domain>".Length;
            return text[start..end] + "\n";
        }

        return (Stdin("=== call 15\n"), Stdin("=== call 17\n"));
    }

    /// <summary>The capture with its partition moved to the scratch shared root: what a correctly set up domain passes.</summary>
    private static string Rooted(string xml, string root) => xml.Replace("<partition>/machine</partition>", $"<partition>{root}</partition>", StringComparison.Ordinal);

    private static IEnumerable<(string Label, string Name, string Xml)> XmlMutations(string capture, string name, string root)
    {
        var good = Rooted(capture, root);
        var body = good[good.IndexOf("<domain", StringComparison.Ordinal)..];
        const string Laughs = """
            <!DOCTYPE domain [
             <!ENTITY a "aaaaaaaaaa">
             <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
             <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
             <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
             <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
             <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
             <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
             <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
            ]>
            """;
        yield return ("dtd", name, "<!DOCTYPE domain [<!ELEMENT domain ANY>]>\n" + body);
        yield return ("external-entity", name, "<!DOCTYPE domain [<!ENTITY x SYSTEM \"file:///etc/hostname\">]>\n" + body.Replace($"<name>{name}</name>", "<name>&x;</name>", StringComparison.Ordinal));
        yield return ("external-dtd", name, "<!DOCTYPE domain SYSTEM \"http://127.0.0.1:9/evil.dtd\">\n" + body);
        yield return ("billion-laughs", name, Laughs + "\n" + body.Replace("<on_crash>destroy</on_crash>", "<on_crash>&h;</on_crash>", StringComparison.Ordinal));
        yield return ("over-1MiB", name, good.Replace("<clock", "<!--" + new string('x', 1_100_000) + "-->\n  <clock", StringComparison.Ordinal));
        yield return ("wrong-root", name, good.Replace("<domain type='lxc'>", "<network type='lxc'>", StringComparison.Ordinal).Replace("</domain>", "</network>", StringComparison.Ordinal));
        yield return ("type-kvm", name, good.Replace("type='lxc'>", "type='kvm'>", StringComparison.Ordinal));
        yield return ("name-mismatch", name + "x", good);
        yield return ("no-name", name, good.Replace($"<name>{name}</name>", "", StringComparison.Ordinal));
        yield return ("two-names", name, good.Replace($"<name>{name}</name>", $"<name>{name}</name><name>other</name>", StringComparison.Ordinal));
        yield return ("bad-uuid", name, good.Replace("<uuid>c5833ee2", "<uuid>../../etc", StringComparison.Ordinal));
        foreach (var p in new[] { "../x", "/machine/../../etc", $"{root}/../..", $"{root}/../x", "machine", "/", "", $"{root}//a", $"{root}/a&#1;b", $"{root}/a&#10;b", "/machine", $"{root}/" + new string('p', 256) })
        {
            yield return ($"partition {HostileHarness.Show(p)}", name, good.Replace($"<partition>{root}</partition>", $"<partition>{p}</partition>", StringComparison.Ordinal));
        }

        foreach (var bad in new[] { "../x", "a/b", "..", new string('n', 256), "a&#1;b", "a&#0;b", "a\u0000b" })
        {
            var argv = bad.Replace("&#1;", "\u0001", StringComparison.Ordinal).Replace("&#0;", "", StringComparison.Ordinal).Replace("\0", "", StringComparison.Ordinal);
            yield return ($"name {HostileHarness.Show(bad)}", argv.Length == 0 ? "x" : argv, good.Replace($"<name>{name}</name>", $"<name>{bad}</name>", StringComparison.Ordinal));
        }

        yield return ("truncated", name, good[..(good.Length / 2)]);
        yield return ("nul-in-xml", name, good.Insert(good.Length / 3, "\0"));
        var garbage = new StringBuilder();
        var r = new Random(Seed);
        for (var i = 0; i < 4096; i++)
        {
            garbage.Append((char)r.Next(0, 256));
        }

        yield return ("binary-garbage", name, garbage.ToString());
    }

    private static readonly string[] Pieces =
    [
        "/", "..", ".", "\u0001", "\n", "\t", "\u007f", "\u0085", "\u00e9", " ", "-", "_", "lxc.payload.", "cgroup.", "tasks", "%n", "*", "$(id)", "\\", "~", "a", "web", "0",
        "\u202e", "\ufeff", ":", "\"", "'", "<", "&",
    ];

    private static string FuzzName(Random r)
    {
        var sb = new StringBuilder();
        if (r.Next(10) == 0)
        {
            // Around the 255-byte limit.
            sb.Append('n', r.Next(250, 260));
        }

        var n = r.Next(1, 6);
        for (var i = 0; i < n; i++)
        {
            sb.Append(Pieces[r.Next(Pieces.Length)]);
        }

        return "rh" + sb;
    }

    private static string FuzzKey(Random r)
    {
        string[] keys = ["tasks", "cgroup.procs", "cgroup.threads", "release_agent", "notify_on_release", "cgroup.subtree_control", "cgroup.clone_children", "pids.max", "cpu.shares", "a.b"];
        var k = keys[r.Next(keys.Length)];
        return r.Next(4) switch
        {
            0 => k,
            1 => k.Insert(r.Next(k.Length + 1), Pieces[r.Next(Pieces.Length)]),
            2 => Pieces[r.Next(Pieces.Length)] + k,
            _ => k + Pieces[r.Next(Pieces.Length)],
        };
    }

    private static string FuzzPartition(Random r, string root)
    {
        var sb = new StringBuilder(r.Next(4) switch { 0 => "", 1 => "/", 2 => "/machine", _ => root });
        var n = r.Next(0, 4);
        for (var i = 0; i < n; i++)
        {
            sb.Append(r.Next(3) == 0 ? "/" : "").Append(Pieces[r.Next(Pieces.Length)]);
        }

        return sb.ToString();
    }

    /// <summary>True when <paramref name="at"/> falls between the quotes of an attribute value of a start tag.</summary>
    private static bool InsideAttributeValue(string xml, int at)
    {
        var open = xml.LastIndexOf('<', Math.Max(0, at - 1));
        if (open < 0 || xml.LastIndexOf('>', Math.Max(0, at - 1)) > open)
        {
            return false;
        }

        var quotes = xml[open..at].Count(c => c is '\'' or '"');
        return quotes % 2 == 1;
    }

    /// <summary>Valid-looking: the shared root itself or below it, every component valid. Anything else must be refused.</summary>
    private static bool PartitionInsideRoot(string p, string root) =>
        p == root || (p.StartsWith(root + "/", StringComparison.Ordinal) && Valid(() => Names.ValidateRelativePath(p[(root.Length + 1)..], "partition")));

    private static (string Label, string Name, string Xml, bool Hostile) FuzzXml(Random r, string capture, string root)
    {
        const string Cap = "e-lv-rt";
        var good = Rooted(capture, root);
        switch (r.Next(5))
        {
            case 0:
                var name = FuzzName(r);
                var escaped = System.Security.SecurityElement.Escape(name);
                return ($"name {HostileHarness.Show(name)}", name, good.Replace($"<name>{Cap}</name>", $"<name>{escaped}</name>", StringComparison.Ordinal), !Valid(() => Names.ValidateComponent(name, "name")) || name.Any(char.IsControl));
            case 1:
                var p = FuzzPartition(r, root);
                return ($"partition {HostileHarness.Show(p)}", Cap, good.Replace($"<partition>{root}</partition>", $"<partition>{System.Security.SecurityElement.Escape(p)}</partition>", StringComparison.Ordinal), !PartitionInsideRoot(p, root));
            case 2:
                var cut = r.Next(1, good.Length - 12);
                return ($"truncated at {cut}", Cap, good[..cut], true);
            case 3:
                var at = r.Next(good.Length);
                var junk = new[] { "\0", "<!DOCTYPE x>", "<!ENTITY e 'x'>", "&e;", "]]>", "<", "&#0;", "\u0001" }[r.Next(8)];
                // "]]>" is only illegal in character data: inside an attribute value it is well-formed XML.
                var hostile = junk != "]]>" || !InsideAttributeValue(good, at);
                return ($"insert {HostileHarness.Show(junk)} at {at}", Cap, good.Insert(at, junk), hostile);
            default:
                var bytes = new char[r.Next(1, 2048)];
                for (var i = 0; i < bytes.Length; i++)
                {
                    bytes[i] = (char)r.Next(0, 256);
                }

                return ($"garbage {bytes.Length}", Cap, new string(bytes), true);
        }
    }

    private static bool Valid(Action check)
    {
        try
        {
            check();
            return true;
        }
        catch (InvalidInputException)
        {
            return false;
        }
    }

    /// <summary>A pid that is not running: a child this test started and reaped.</summary>
    private static uint NotRunningPid()
    {
        using var p = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        p.WaitForExit();
        return (uint)p.Id;
    }

    private static async Task ReleaseAsync(HostileHarness h, string manager, string name, IReadOnlyDictionary<string, string> facts)
    {
        var (error, message) = await h.Raw.CallAsync(Mgr, MgrI, "ReleaseContainer", manager, name, facts);
        if (error is not null)
        {
            h.Failures.Add($"release of accepted {manager}/{HostileHarness.Show(name)} failed: {error} {message}");
        }
    }
}
