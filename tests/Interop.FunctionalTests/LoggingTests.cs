namespace Interop.FunctionalTests;

/// <summary>
/// interopd with the nlog.config the package installs (config/nlog.config): it loads, and lines go to stderr. The
/// published interopd is NativeAOT, where NLog needs its typed layouts kept (the Console target's stdErr="true").
/// </summary>
public class LoggingTests
{
    [Test]
    public void The_shipped_nlog_config_loads_and_logs_to_stderr()
    {
        var dir = Directory.CreateTempSubdirectory("interop-logging.");
        try
        {
            // A configuration interopd refuses: it logs one FATAL line and exits 2 before touching anything.
            var config = Path.Combine(dir.FullName, "interop.yaml");
            File.WriteAllText(config, "bogus: 1\n");

            var r = Cmd.Run(Binaries.Interopd, "--config", config, "--log-config", Path.Combine(Binaries.RepoRoot, "config", "nlog.config"));

            Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
            Assert.That(r.Stdout, Is.Empty, r.ToString());
            Assert.That(r.Stderr.TrimEnd(), Does.StartWith("FATAL interopd: ").And.Contain("unknown key 'bogus'"), r.ToString());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
