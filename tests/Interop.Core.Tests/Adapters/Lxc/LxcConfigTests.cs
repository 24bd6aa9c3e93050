using Interop.Core.Adapters.Lxc;

namespace Interop.Core.Tests.Adapters.Lxc;

public class LxcConfigTests
{
    [Test]
    public void Include_file_for_the_default_shared_root()
    {
        var text = LxcConfig.IncludeFile("/machine", "/usr/local/bin/interopctl");
        var settings = text.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(settings, Is.EqualTo(new[]
            {
                "lxc.cgroup.dir = machine",
                "lxc.hook.pre-start = /usr/local/bin/interopctl hook lxc",
                "lxc.hook.start-host = /usr/local/bin/interopctl hook lxc",
                "lxc.hook.stop = /usr/local/bin/interopctl hook lxc",
                "lxc.hook.post-stop = /usr/local/bin/interopctl hook lxc",
            }));
            Assert.That(text, Does.EndWith("\n"));
            Assert.That(text, Does.Contain("lxc.include = /usr/share/interop/lxc.conf"));
            Assert.That(settings.Any(l => l.StartsWith("lxc.cgroup.relative", StringComparison.Ordinal)), Is.False);
            Assert.That(settings.Any(l => l.StartsWith("lxc.hook.version", StringComparison.Ordinal)), Is.False);
        });
    }

    [Test]
    public void Every_hook_line_is_one_LxcHook_parses_as_version_0_and_1()
    {
        // conf.c run_script_argv: v0 appends "NAME lxc TYPE", v1 nothing; the words after "hook lxc" reach Parse.
        foreach (var type in LxcConfig.Hooks)
        {
            var v0 = LxcHook.Parse(["web.01-a", "lxc", type], new Dictionary<string, string> { ["LXC_PID"] = "77" });
            var v1 = LxcHook.Parse([], new Dictionary<string, string>
            {
                ["LXC_HOOK_VERSION"] = "1",
                ["LXC_NAME"] = "web.01-a",
                ["LXC_HOOK_TYPE"] = type,
                ["LXC_HOOK_SECTION"] = "lxc",
                ["LXC_PID"] = "77",
            });
            Assert.That(v0, Is.EqualTo(v1).Using<Model.HookCall>((a, b) => a.Event == b.Event && a.Name == b.Name && a.Leader == b.Leader), type);
            Assert.That(v0.Event, Is.Not.EqualTo(Model.LifecycleEvent.Ignored), type);
        }
    }

    [TestCase("machine/web tier.partition")]
    [TestCase("a#b")]
    [TestCase("/")]
    [TestCase("a/../b")]
    [TestCase("a\nlxc.cgroup.relative = 1")]
    public void Refuses_a_shared_root_LXC_cannot_take(string root)
    {
        var ex = Assert.Throws<InvalidInputException>(() => LxcConfig.IncludeFile(root, "/usr/bin/interopctl"));
        Assert.That(ex!.Field, Is.EqualTo("shared root"));
    }

    [TestCase("interopctl")]
    [TestCase("")]
    [TestCase("/usr/bin/interopctl\nlxc.cgroup.relative = 1")]
    public void Refuses_a_bad_interopctl_path(string path)
    {
        var ex = Assert.Throws<InvalidInputException>(() => LxcConfig.IncludeFile("machine", path));
        Assert.That(ex!.Field, Is.EqualTo("interopctl"));
    }

    [TestCase("/opt/my tools/interopctl", "'/opt/my tools/interopctl'")]
    [TestCase("/opt/it's/interopctl", "'/opt/it'\\''s/interopctl'")]
    [TestCase("/opt/$(x)/interopctl", "'/opt/$(x)/interopctl'")]
    [TestCase("/usr/local/bin/interopctl", "/usr/local/bin/interopctl")]
    public void Quotes_an_interopctl_path_the_shell_would_split(string path, string word)
    {
        var text = LxcConfig.IncludeFile("machine", path);
        Assert.That(text, Does.Contain($"lxc.hook.pre-start = {word} hook lxc\n"));
    }
}

public class LxcConfigSystemdTests
{
    [Test]
    public void Include_file_for_a_systemd_host_sets_relative_and_the_hooks_and_no_cgroup_dir()
    {
        var text = LxcConfig.SystemdIncludeFile("/machine.slice", "/usr/local/bin/interopctl");
        var settings = text.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(settings, Is.EqualTo(new[]
            {
                "lxc.cgroup.relative = 1",
                "lxc.hook.pre-start = /usr/local/bin/interopctl hook lxc",
                "lxc.hook.start-host = /usr/local/bin/interopctl hook lxc",
                "lxc.hook.stop = /usr/local/bin/interopctl hook lxc",
                "lxc.hook.post-stop = /usr/local/bin/interopctl hook lxc",
            }));
            Assert.That(text, Does.Contain("machine.slice"));
            Assert.That(text, Does.Contain("lxc.include = /usr/share/interop/lxc.conf"));
        });
    }

    [Test]
    public void A_shared_root_that_is_no_slice_is_refused() =>
        Assert.Throws<InvalidInputException>(() => LxcConfig.SystemdIncludeFile("/machine", "/usr/bin/interopctl"));
}
