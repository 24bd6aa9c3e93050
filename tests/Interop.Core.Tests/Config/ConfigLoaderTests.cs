using Interop.Core.Config;

namespace Interop.Core.Tests.Config;

public class ConfigLoaderTests
{
    [Test]
    public void Empty_file_gives_the_documented_defaults()
    {
        var config = ConfigLoader.Parse("");

        Assert.Multiple(() =>
        {
            Assert.That(config.SharedRoot, Is.EqualTo("/machine"));
            Assert.That(config.SharedRootDir, Is.EqualTo("machine"));
            Assert.That(config.Bus, Is.EqualTo("system"));
            Assert.That(config.StateFile, Is.EqualTo("/var/lib/interop/state.yaml"));
            Assert.That(config.Policy, Is.EqualTo(ContainerPolicy.Strict));
            Assert.That(config.ReaperInterval, Is.EqualTo(TimeSpan.FromMinutes(5)));
            Assert.That(config.AllowedUsers, Is.EqualTo(new[] { "root" }));
            Assert.That(config.AllowedGroups, Is.Empty);
        });
    }

    [Test]
    public void Every_key_is_read()
    {
        const string Text = """
            # comment
            shared_root: /interop/machine
            boundary: /interop
            bus: unix:path=/run/interop/bus
            state_file: /tmp/state.yaml
            policy: permissive
            reaper_interval: 0
            allowed_users: [root, 1000]
            allowed_groups:
              - lxd
              - libvirt
            """;

        var config = ConfigLoader.Parse(Text);

        Assert.Multiple(() =>
        {
            Assert.That(config.SharedRoot, Is.EqualTo("/interop/machine"));
            Assert.That(config.SharedRootDir, Is.EqualTo("interop/machine"));
            Assert.That(config.Boundary, Is.EqualTo("/interop"));
            Assert.That(config.Bus, Is.EqualTo("unix:path=/run/interop/bus"));
            Assert.That(config.StateFile, Is.EqualTo("/tmp/state.yaml"));
            Assert.That(config.Policy, Is.EqualTo(ContainerPolicy.Permissive));
            Assert.That(config.ReaperInterval, Is.EqualTo(TimeSpan.Zero));
            Assert.That(config.AllowedUsers, Is.EqualTo(new[] { "root", "1000" }));
            Assert.That(config.AllowedGroups, Is.EqualTo(new[] { "lxd", "libvirt" }));
        });
    }

    [Test]
    public void The_shipped_default_file_parses_to_the_defaults()
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "interop.yaml");

        var config = ConfigLoader.Parse(File.ReadAllText(path), path);

        Assert.That(config, Is.EqualTo(new InteropConfig()).Using<InteropConfig>((a, b) =>
            a.SharedRoot == b.SharedRoot && a.Boundary == b.Boundary && a.Bus == b.Bus && a.StateFile == b.StateFile && a.Policy == b.Policy
            && a.ReaperInterval == b.ReaperInterval && a.AllowedUsers.SequenceEqual(b.AllowedUsers)
            && a.AllowedGroups.SequenceEqual(b.AllowedGroups) && a.MetricsListen == b.MetricsListen));
    }

    [TestCase("", null)]
    [TestCase("metrics_listen: off\n", null)]
    [TestCase("metrics_listen: on\n", "127.0.0.1:9925")]
    [TestCase("metrics_listen: 0.0.0.0:9100\n", "0.0.0.0:9100")]
    [TestCase("metrics_listen: \"[::1]:9925\"\n", "[::1]:9925")]
    public void Metrics_listen_is_off_by_default_and_on_means_loopback_and_the_allocated_port(string text, string? expected)
    {
        Assert.That(ConfigLoader.Parse(text).MetricsListen, Is.EqualTo(expected));
    }

    [TestCase("colour: blue\n", 1, 1, "unknown key 'colour'")]
    [TestCase("bus: system\npolicy: lax\n", 2, 9, "policy 'lax' must be 'strict' or 'permissive'")]
    [TestCase("shared_root: machine\n", 1, 14, "must be absolute")]
    [TestCase("shared_root: /machine/../etc\n", 1, 14, "'..' is not allowed")]
    [TestCase("reaper_interval: -5\n", 1, 18, "whole number of seconds")]
    [TestCase("reaper_interval: 1h\n", 1, 18, "whole number of seconds")]
    [TestCase("bus: tcp\n", 1, 6, "must be 'system', 'session' or a D-Bus address")]
    [TestCase("allowed_users: root\n", 1, 16, "must be a list")]
    [TestCase("allowed_users: [\"a b\"]\n", 1, 17, "is not a user/group name")]
    [TestCase("policy: strict\npolicy: strict\n", 2, 1, "'policy' is set twice")]
    [TestCase("- a\n- b\n", 1, 1, "expected a mapping")]
    [TestCase("state_file: relative.yaml\n", 1, 13, "must be an absolute path")]
    [TestCase("bus: [system]\n", 1, 6, "expected a scalar")]
    [TestCase("boundary: /other\n", 1, 11, "must be the shared root /machine or one of its ancestors")]
    [TestCase("metrics_listen: localhost:9925\n", 1, 17, "metrics_listen 'localhost:9925' must be 'off', 'on' (127.0.0.1:9925) or an IP address and port")]
    [TestCase("metrics_listen: 300.1.2.3:9925\n", 1, 17, "metrics_listen '300.1.2.3:9925' must be")]
    [TestCase("metrics_listen: 127.0.0.1\n", 1, 17, "an IP address and port")]
    [TestCase("metrics_listen: 127.0.0.1:70000\n", 1, 17, "an IP address and port")]
    [TestCase("metrics_listen: \"::1:9925\"\n", 1, 17, "[::1]:9925")]
    public void Bad_input_names_file_line_column_and_what_was_expected(string text, int line, int column, string fragment)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(text, "/etc/interop/interop.yaml"))!;

        Assert.Multiple(() =>
        {
            Assert.That(e.Line, Is.EqualTo(line));
            Assert.That(e.Column, Is.EqualTo(column));
            Assert.That(e.Message, Does.StartWith($"/etc/interop/interop.yaml:{line}:{column}: "));
            Assert.That(e.Message, Does.Contain(fragment));
        });
    }
}
