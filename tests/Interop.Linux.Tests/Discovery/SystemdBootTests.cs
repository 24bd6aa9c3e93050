using Interop.Linux.Discovery;

namespace Interop.Linux.Tests.Discovery;

public class SystemdBootTests
{
    [Test]
    public void Systemd_is_pid_1_exactly_when_run_systemd_system_exists()
    {
        var root = Directory.CreateTempSubdirectory("interop-sdboot-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "run/systemd"));
            Assert.That(SystemdBoot.IsBooted(root), Is.False, "/run/systemd alone (e.g. a container's leftover) is not systemd as PID 1");
            Directory.CreateDirectory(Path.Combine(root, "run/systemd/system"));
            Assert.That(SystemdBoot.IsBooted(root), Is.True);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
