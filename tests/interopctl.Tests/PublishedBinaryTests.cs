using Interop.TestSupport;

namespace Interop.Ctl.Tests;

/// <summary>
/// The published NativeAOT binary as a process (INTEROP_CTL points at it; 'make unit' sets it). Without
/// INTEROP_CTL these tests are ignored. No daemon is needed: the bus given is one nobody listens on.
/// </summary>
[NonParallelizable]
public class PublishedBinaryTests
{
    private static string Binary()
    {
        var path = Environment.GetEnvironmentVariable("INTEROP_CTL");
        if (string.IsNullOrEmpty(path))
        {
            Assert.Ignore("INTEROP_CTL is not set: run 'make unit' (or set INTEROP_CTL to artifacts/interopctl/interopctl after 'make publish') to test the AOT binary");
        }

        Assert.That(File.Exists(path), Is.True, $"INTEROP_CTL={path} does not exist");
        return path!;
    }

    [Test]
    public void Version_prints_the_version()
    {
        var run = Run(Binary(), ["--version"]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Stdout, Does.Match(@"^\d+\.\d+\.\d+"));
        Assert.That(run.Stderr, Is.Empty);
    }

    [Test]
    public void Help_lists_commands_and_exit_codes()
    {
        var run = Run(Binary(), ["--help"]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Stdout, Does.Contain("lxc-config").And.Contain("whois").And.Contain("Exit codes: 0 ok"));
    }

    [Test]
    public void Lxc_config_prints_the_include_file()
    {
        var run = Run(Binary(), ["lxc-config", "--interopctl", "/usr/local/bin/interopctl", "--shared-root", "/machine", "--host", "plain"]);

        // This host mounts cgroup2 (/sys/fs/cgroup/unified): the published binary's auto leaves start-host out.
        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Stdout, Does.Contain("lxc.cgroup.dir = machine\n").And.Contain("lxc.hook.pre-start = /usr/local/bin/interopctl hook lxc\n"));
        Assert.That(run.Stdout, Does.Not.Contain("lxc.hook.start-host"));
    }

    [Test]
    public void Hook_libvirt_with_malformed_xml_says_where_in_words_not_a_resource_key()
    {
        const string Xml = "<domain type='lxc'>\n  <name>web</name>\n  <uuid>c5833ee2-cac8-401e-bcf6-862a1cf9ef5e</uuid>\n  <os>]]></os>\n</domain>\n";

        var run = Run(Binary(), ["--bus", "unix:path=/nonexistent/interop-test-bus", "hook", "libvirt", "web", "prepare", "begin", "-"], Xml);

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
            Assert.That(run.Stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1), run.ToString());
            Assert.That(run.Stderr, Does.Contain("the domain XML is malformed").And.Contain("at line 4, column"), run.ToString());
            Assert.That(run.Stderr, Does.Not.Match("Xml_[A-Za-z]+"), "a stripped resource key instead of a message");
        });
    }

    [Test]
    public void A_link_to_it_in_libvirts_hook_dir_is_the_libvirt_hook()
    {
        // How `make install` and the package install the hook: /etc/libvirt/hooks/lxc.d/interop -> interopctl.
        var dir = Directory.CreateTempSubdirectory("interop-hooks-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "lxc.d"));
            var hook = Path.Combine(dir, "lxc.d", "interop");
            var other = Path.Combine(dir, "ctl");
            File.CreateSymbolicLink(hook, Path.GetFullPath(Binary()));
            File.CreateSymbolicLink(other, Path.GetFullPath(Binary()));

            var start = Run(hook, ["web", "start", "begin", "-"], "<domain type='lxc'/>");
            var prepare = Run(hook, ["web", "prepare", "begin", "-"], "<domain type='lxc'><name>web</os>");
            var cli = Run(other, ["web", "prepare", "begin", "-"]);

            Assert.Multiple(() =>
            {
                Assert.That(start.ExitCode, Is.EqualTo(0), start.ToString());
                Assert.That(start.Stderr, Is.Empty, start.ToString());
                Assert.That(prepare.ExitCode, Is.EqualTo(1), prepare.ToString());
                Assert.That(prepare.Stderr, Does.StartWith("interopctl: libvirt hook refused").And.Contain("malformed"), prepare.ToString());
                Assert.That(cli.ExitCode, Is.EqualTo(2), "by another name it is the CLI, and 'web' is no command: " + cli);
            });
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Hook_lxc_with_a_bad_name_exits_1_with_one_line()
    {
        var run = Run(Binary(), ["--bus", "unix:path=/nonexistent/interop-test-bus", "hook", "lxc", "bad/name", "lxc", "pre-start"]);

        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1));
        Assert.That(lines[0], Does.StartWith("interopctl: ").And.Contain("invalid name"));
    }

    [Test]
    public void Hook_lxc_stop_with_no_daemon_exits_0_with_a_warning()
    {
        var run = Run(Binary(), ["--bus", "unix:path=/nonexistent/interop-test-bus", "hook", "lxc", "web", "lxc", "stop", "mnt:/proc/1/fd/3"]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1));
        Assert.That(lines[0], Does.StartWith("interopctl: warning: "));
    }

    [Test]
    public void List_with_no_daemon_exits_3()
    {
        var run = Run(Binary(), ["--bus", "unix:path=/nonexistent/interop-test-bus", "list"]);

        Assert.That(run.ExitCode, Is.EqualTo(3), run.ToString());
        Assert.That(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1));
    }

    /// <summary>One run of the binary (bounded, killed by its pid if it hangs), with no bus or config from this host.</summary>
    private static CmdResult Run(string path, string[] args, string stdin = "")
        => Cmd.Run(path, args, stdin, new Dictionary<string, string?>
        {
            ["INTEROP_BUS_ADDRESS"] = null,
            ["INTEROP_CONFIG"] = "/nonexistent/interop-test.yaml",
        }, TimeSpan.FromSeconds(30));
}
