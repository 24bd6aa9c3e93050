using Interop.Core.Adapters.Lxc;

namespace Interop.Core.Tests.Adapters.Lxc;

public class LxcMonitorTests
{
    [TestCase(new[] { "[lxc monitor] /var/lib/lxc web" }, "web", true)]
    [TestCase(new[] { "[lxc", "monitor]", "/var/lib/lxc", "web" }, "web", true)]
    [TestCase(new[] { "[lxc monitor] /var/lib/lxc web2" }, "web", false)]
    [TestCase(new[] { "[lxc monitor] /var/lib/lxc my web" }, "my web", true)]
    [TestCase(new[] { "/usr/bin/lxc-start", "-F", "-n", "web" }, "web", true)]
    [TestCase(new[] { "lxc-start", "--name=web", "-F" }, "web", true)]
    [TestCase(new[] { "lxc-start", "-nweb" }, "web", true)]
    [TestCase(new[] { "lxc-start", "-n", "db" }, "web", false)]
    [TestCase(new[] { "/usr/bin/lxc-execute", "-n", "web", "--", "sh" }, "web", true)]
    [TestCase(new[] { "/bin/sh", "-c", "lxc-start -n web" }, "web", false)]
    [TestCase(new string[0], "web", false)]
    public void The_monitor_is_known_by_its_title_or_its_foreground_argv(string[] argv, string name, bool monitor) =>
        Assert.That(LxcMonitor.IsMonitor(argv, name), Is.EqualTo(monitor));

    [Test]
    public void The_walk_goes_past_shells_to_the_monitor()
    {
        var argv = new Dictionary<int, string[]>
        {
            [300] = ["/bin/sh", "-c", "exec /usr/local/bin/interopctl hook lxc web lxc pre-start"],
            [200] = ["[lxc monitor] /var/lib/lxc web"],
            [100] = ["-bash"],
        };
        var parent = new Dictionary<int, int> { [300] = 200, [200] = 100, [100] = 1 };
        Assert.That(LxcMonitor.Find(300, "web", p => argv.GetValueOrDefault(p), p => parent.GetValueOrDefault(p)), Is.EqualTo(200));
    }

    [Test]
    public void The_walk_stops_at_the_first_process_that_is_neither_a_shell_nor_the_monitor()
    {
        var argv = new Dictionary<int, string[]>
        {
            [300] = ["/usr/bin/python3", "start.py"],
            [200] = ["[lxc monitor] /var/lib/lxc web"],
        };
        var parent = new Dictionary<int, int> { [300] = 200, [200] = 1 };
        Assert.That(LxcMonitor.Find(300, "web", p => argv.GetValueOrDefault(p), p => parent.GetValueOrDefault(p)), Is.Zero);
    }

    [Test]
    public void A_vanished_process_ends_the_walk() =>
        Assert.That(LxcMonitor.Find(300, "web", _ => null, _ => 1), Is.Zero);
}
