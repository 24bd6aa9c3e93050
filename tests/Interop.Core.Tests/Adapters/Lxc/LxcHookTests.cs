using Interop.Core.Adapters.Lxc;
using Interop.Core.Model;

namespace Interop.Core.Tests.Adapters.Lxc;

public class LxcHookTests
{
    private const string Name = "web.01-a";

    public static IEnumerable<TestCaseData> EveryType()
    {
        var expected = new Dictionary<string, LifecycleEvent>
        {
            ["pre-start"] = LifecycleEvent.Prepare,
            ["pre-mount"] = LifecycleEvent.Ignored,
            ["mount"] = LifecycleEvent.Ignored,
            ["autodev"] = LifecycleEvent.Ignored,
            ["start"] = LifecycleEvent.Ignored,
            ["stop"] = LifecycleEvent.Stopped,
            ["post-stop"] = LifecycleEvent.Released,
            ["clone"] = LifecycleEvent.Ignored,
            ["destroy"] = LifecycleEvent.Ignored,
            ["start-host"] = LifecycleEvent.Started,
        };
        foreach (var (type, ev) in expected)
        {
            yield return new TestCaseData(type, ev).SetArgDisplayNames(type);
        }
    }

    [TestCaseSource(nameof(EveryType))]
    public void Version0_maps_every_type(string type, LifecycleEvent expected)
    {
        var env = BaseEnv("0");
        env["LXC_PID"] = "4242";
        var call = LxcHook.Parse([Name, "lxc", type], env);

        Assert.Multiple(() =>
        {
            Assert.That(call.Manager, Is.EqualTo(Manager.Lxc));
            Assert.That(call.Name, Is.EqualTo(Name));
            Assert.That(call.Event, Is.EqualTo(expected));
            Assert.That(call.HookType, Is.EqualTo(type));
            Assert.That(call.Facts[FactKeys.Hook], Is.EqualTo(type));
            Assert.That(call.Leader, Is.EqualTo(type is "start-host" or "stop" or "post-stop" ? 4242 : null));
            Assert.That(call.IsEndOfLife, Is.EqualTo(type is "stop" or "post-stop"));
        });
    }

    [TestCase("0", new[] { "web 01", "lxc", "post-stop" }, null, LifecycleEvent.Released)]
    [TestCase("0", new[] { "x", "other", "stop" }, null, LifecycleEvent.Stopped)]
    [TestCase("0", new[] { "x", "lxc", "pre-start" }, null, LifecycleEvent.Prepare)]
    [TestCase("0", new[] { "x", "lxc" }, null, LifecycleEvent.Ignored)]
    [TestCase("0", new[] { "x", "lxc", "bogus" }, null, LifecycleEvent.Ignored)]
    [TestCase("1", new string[0], "post-stop", LifecycleEvent.Released)]
    [TestCase("1", new string[0], null, LifecycleEvent.Ignored)]
    [TestCase("1", new[] { "x", "lxc", "stop" }, "start-host", LifecycleEvent.Started)]
    public void A_refused_call_still_says_which_event_it_claims(string version, string[] args, string? type, LifecycleEvent expected)
    {
        var env = new Dictionary<string, string> { ["LXC_HOOK_VERSION"] = version, ["LXC_NAME"] = "mismatch" };
        if (type is not null)
        {
            env["LXC_HOOK_TYPE"] = type;
        }

        Assert.That(LxcHook.ClaimedEvent(args, env), Is.EqualTo(expected));
    }

    [TestCase(LifecycleEvent.Stopped, true)]
    [TestCase(LifecycleEvent.Released, true)]
    [TestCase(LifecycleEvent.Prepare, false)]
    [TestCase(LifecycleEvent.Start, false)]
    [TestCase(LifecycleEvent.Started, false)]
    [TestCase(LifecycleEvent.Reconnect, false)]
    [TestCase(LifecycleEvent.Ignored, false)]
    public void Only_stopped_and_released_are_end_of_life(LifecycleEvent lifecycleEvent, bool expected)
        => Assert.That(lifecycleEvent.IsEndOfLife(), Is.EqualTo(expected));

    [TestCaseSource(nameof(EveryType))]
    public void Version1_maps_every_type(string type, LifecycleEvent expected)
    {
        var env = BaseEnv("1");
        env["LXC_HOOK_TYPE"] = type;
        env["LXC_HOOK_SECTION"] = "lxc";
        env["LXC_PID"] = "4242";
        var call = LxcHook.Parse([], env);

        Assert.Multiple(() =>
        {
            Assert.That(call.Name, Is.EqualTo(Name));
            Assert.That(call.Event, Is.EqualTo(expected));
            Assert.That(call.HookType, Is.EqualTo(type));
            Assert.That(call.Leader, Is.EqualTo(type is "start-host" or "stop" or "post-stop" ? 4242 : null));
        });
    }

    [Test]
    public void Version_defaults_to_0_when_LXC_HOOK_VERSION_is_absent()
    {
        var env = BaseEnv(null);
        env["LXC_HOOK_TYPE"] = "post-stop";
        var call = LxcHook.Parse([Name, "lxc", "pre-start"], env);

        Assert.That(call.Event, Is.EqualTo(LifecycleEvent.Prepare), "v0 ignores a stale LXC_HOOK_TYPE");
    }

    [Test]
    public void Version0_without_LXC_NAME_takes_the_argv_name()
    {
        var call = LxcHook.Parse(["c1", "lxc", "pre-start"], new Dictionary<string, string>());
        Assert.That(call.Name, Is.EqualTo("c1"));
    }

    [Test]
    public void Pre_start_ignores_a_stale_LXC_PID_and_LXC_TARGET_from_an_outer_container()
    {
        var env = BaseEnv("0");
        env["LXC_PID"] = "not-a-pid";
        env["LXC_TARGET"] = "bogus";
        var call = LxcHook.Parse([Name, "lxc", "pre-start"], env);

        Assert.Multiple(() =>
        {
            Assert.That(call.Leader, Is.Null);
            Assert.That(call.Facts.ContainsKey(FactKeys.Target), Is.False);
        });
    }

    [Test]
    public void Facts_carry_config_rootfs_and_cgns()
    {
        var env = BaseEnv("0");
        var call = LxcHook.Parse([Name, "lxc", "pre-start"], env);

        Assert.That(call.Facts, Is.EquivalentTo(new Dictionary<string, string>
        {
            [FactKeys.Hook] = "pre-start",
            [FactKeys.ConfigFile] = "/var/lib/lxc/web.01-a/config",
            [FactKeys.RootfsPath] = "/var/lib/lxc/web.01-a/rootfs",
            [FactKeys.CgnsAware] = "1",
        }));
    }

    [Test]
    public void Cgns_aware_is_absent_unless_LXC_says_1()
    {
        var env = BaseEnv("0");
        env["LXC_CGNS_AWARE"] = "0";
        var call = LxcHook.Parse([Name, "lxc", "pre-start"], env);
        Assert.That(call.Facts.ContainsKey(FactKeys.CgnsAware), Is.False);
    }

    [TestCase("stop", "reboot")]
    [TestCase("post-stop", "stop")]
    public void Stop_hooks_record_the_target(string type, string target)
    {
        var env = BaseEnv("0");
        env["LXC_TARGET"] = target;
        var call = LxcHook.Parse([Name, "lxc", type], env);
        Assert.That(call.Facts[FactKeys.Target], Is.EqualTo(target));
    }

    [Test]
    public void Version0_stop_namespace_args_become_the_namespaces_fact()
    {
        var env = BaseEnv("0");
        string[] args = [Name, "lxc", "stop", "net:/proc/9061/fd/43", "mnt:/proc/9061/fd/39", "cgroup:/proc/9061/fd/7", "future-thing", "odd:"];
        var call = LxcHook.Parse(args, env);
        Assert.That(call.Facts[FactKeys.Namespaces], Is.EqualTo("mnt,net,cgroup"));
    }

    [Test]
    public void Version1_stop_namespace_env_becomes_the_namespaces_fact()
    {
        var env = BaseEnv("1");
        env["LXC_HOOK_TYPE"] = "stop";
        env["LXC_HOOK_SECTION"] = "lxc";
        env["LXC_PID_NS"] = "/proc/9061/fd/40";
        env["LXC_UTS_NS"] = "/proc/9061/fd/41";
        var call = LxcHook.Parse([], env);
        Assert.That(call.Facts[FactKeys.Namespaces], Is.EqualTo("pid,uts"));
    }

    [Test]
    public void Version1_ignores_extra_args()
    {
        var env = BaseEnv("1");
        env["LXC_HOOK_TYPE"] = "pre-start";
        env["LXC_HOOK_SECTION"] = "lxc";
        var call = LxcHook.Parse(["other", "lxc", "stop"], env);
        Assert.That(call.Event, Is.EqualTo(LifecycleEvent.Prepare));
    }

    // Every refusal: (description, version, args, extra env, expected field).
    public static IEnumerable<TestCaseData> Refusals()
    {
        static TestCaseData Row(string label, string? version, string[] args, Dictionary<string, string?> env, string field) =>
            new TestCaseData(version, args, env, field).SetArgDisplayNames(label);

        var v1 = new Dictionary<string, string?> { ["LXC_HOOK_TYPE"] = "pre-start", ["LXC_HOOK_SECTION"] = "lxc" };
        yield return Row("v0 too few args", "0", [Name, "lxc"], [], "hook");
        yield return Row("v0 no args", "0", [], [], "hook");
        yield return Row("v0 wrong section", "0", [Name, "net", "pre-start"], [], "section");
        yield return Row("v0 unknown type", "0", [Name, "lxc", "post-start"], [], "hook");
        yield return Row("v0 argv name differs from LXC_NAME", "0", ["other", "lxc", "pre-start"], [], "name");
        yield return Row("v0 name split by the shell", "0", ["my", "box", "lxc", "pre-start"], new() { ["LXC_NAME"] = "my box" }, "name");
        yield return Row("v1 missing LXC_NAME", "1", [], new(v1) { ["LXC_NAME"] = null }, "name");
        yield return Row("v1 missing type", "1", [], new() { ["LXC_HOOK_SECTION"] = "lxc" }, "hook");
        yield return Row("v1 unknown type", "1", [], new(v1) { ["LXC_HOOK_TYPE"] = "prestart" }, "hook");
        yield return Row("v1 net section", "1", [], new(v1) { ["LXC_HOOK_SECTION"] = "net" }, "section");
        yield return Row("v1 missing section", "1", [], new(v1) { ["LXC_HOOK_SECTION"] = null }, "section");
        yield return Row("bad version", "2", [Name, "lxc", "pre-start"], [], "LXC_HOOK_VERSION");
        yield return Row("v0 start-host without LXC_PID", "0", [Name, "lxc", "start-host"], [], "LXC_PID");
        yield return Row("v1 start-host without LXC_PID", "1", [], new(v1) { ["LXC_HOOK_TYPE"] = "start-host" }, "LXC_PID");
        yield return Row("start-host pid 1", "0", [Name, "lxc", "start-host"], new() { ["LXC_PID"] = "1" }, "LXC_PID");
        yield return Row("start-host pid 0", "0", [Name, "lxc", "start-host"], new() { ["LXC_PID"] = "0" }, "LXC_PID");
        yield return Row("start-host pid text", "0", [Name, "lxc", "start-host"], new() { ["LXC_PID"] = "12a" }, "LXC_PID");
        yield return Row("start-host pid negative", "0", [Name, "lxc", "start-host"], new() { ["LXC_PID"] = "-5" }, "LXC_PID");
        yield return Row("start-host pid overflow", "0", [Name, "lxc", "start-host"], new() { ["LXC_PID"] = "99999999999" }, "LXC_PID");
        yield return Row("start-host pid empty", "0", [Name, "lxc", "start-host"], new() { ["LXC_PID"] = string.Empty }, "LXC_PID");
        yield return Row("stop with a bad pid", "0", [Name, "lxc", "stop"], new() { ["LXC_PID"] = "x" }, "LXC_PID");
        yield return Row("stop with a bad target", "0", [Name, "lxc", "stop"], new() { ["LXC_TARGET"] = "halt" }, "LXC_TARGET");
        yield return Row("config path with newline", "0", [Name, "lxc", "pre-start"], new() { ["LXC_CONFIG_FILE"] = "/a\n/b" }, "LXC_CONFIG_FILE");
        yield return Row("rootfs path with escape", "0", [Name, "lxc", "pre-start"], new() { ["LXC_ROOTFS_PATH"] = "/a\u001b[2J" }, "LXC_ROOTFS_PATH");
    }

    [TestCaseSource(nameof(Refusals))]
    public void Refuses(string? version, string[] args, Dictionary<string, string?> extra, string field)
    {
        var env = BaseEnv(version);
        foreach (var (k, v) in extra)
        {
            if (v is null)
            {
                env.Remove(k);
            }
            else
            {
                env[k] = v;
            }
        }

        var ex = Assert.Throws<InvalidInputException>(() => LxcHook.Parse(args, env));
        Assert.That(ex!.Field, Is.EqualTo(field));
    }

    public static IEnumerable<TestCaseData> HostileNames()
    {
        yield return new TestCaseData("/").SetArgDisplayNames("slash");
        yield return new TestCaseData("a/b").SetArgDisplayNames("inner slash");
        yield return new TestCaseData("..").SetArgDisplayNames("dotdot");
        yield return new TestCaseData(".").SetArgDisplayNames("dot");
        yield return new TestCaseData("a\0b").SetArgDisplayNames("NUL");
        yield return new TestCaseData("a\nb").SetArgDisplayNames("newline");
        yield return new TestCaseData("a\tb").SetArgDisplayNames("tab");
        yield return new TestCaseData("a\u007fb").SetArgDisplayNames("DEL");
        yield return new TestCaseData(new string('x', 256)).SetArgDisplayNames("256 bytes");
        yield return new TestCaseData(new string('é', 128)).SetArgDisplayNames("256 UTF-8 bytes");
        yield return new TestCaseData(string.Empty).SetArgDisplayNames("empty");
    }

    [TestCaseSource(nameof(HostileNames))]
    public void Version0_refuses_hostile_names(string name)
    {
        var env = new Dictionary<string, string> { ["LXC_NAME"] = name, ["LXC_HOOK_VERSION"] = "0" };
        var ex = Assert.Throws<InvalidInputException>(() => LxcHook.Parse([name, "lxc", "pre-start"], env));
        Assert.That(ex!.Field, Is.EqualTo("name"));
    }

    [TestCaseSource(nameof(HostileNames))]
    public void Version1_refuses_hostile_names(string name)
    {
        var env = new Dictionary<string, string>
        {
            ["LXC_NAME"] = name,
            ["LXC_HOOK_VERSION"] = "1",
            ["LXC_HOOK_TYPE"] = "pre-start",
            ["LXC_HOOK_SECTION"] = "lxc",
        };
        var ex = Assert.Throws<InvalidInputException>(() => LxcHook.Parse([], env));
        Assert.That(ex!.Field, Is.EqualTo("name"));
    }

    [TestCase("255-bytes")]
    [TestCase("9lives")]
    [TestCase("Ünïcødé-容器")]
    [TestCase("web.01-a")]
    [TestCase("x-7")]
    public void Accepts_edge_names(string name)
    {
        if (name == "255-bytes")
        {
            name = new string('n', 255);
        }

        var env = new Dictionary<string, string> { ["LXC_NAME"] = name };
        Assert.That(LxcHook.Parse([name, "lxc", "pre-start"], env).Name, Is.EqualTo(name));
    }

    private static Dictionary<string, string> BaseEnv(string? version)
    {
        var env = new Dictionary<string, string>
        {
            ["LXC_NAME"] = Name,
            ["LXC_CONFIG_FILE"] = "/var/lib/lxc/web.01-a/config",
            ["LXC_ROOTFS_PATH"] = "/var/lib/lxc/web.01-a/rootfs",
            ["LXC_ROOTFS_MOUNT"] = "/usr/lib/x86_64-linux-gnu/lxc/rootfs",
            ["LXC_CGNS_AWARE"] = "1",
            ["LXC_LOG_LEVEL"] = "DEBUG",
        };
        if (version is not null)
        {
            env["LXC_HOOK_VERSION"] = version;
        }

        return env;
    }
}
