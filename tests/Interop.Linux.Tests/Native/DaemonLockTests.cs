using Interop.Linux.Native;

namespace Interop.Linux.Tests.Native;

public class DaemonLockTests
{
    [Test]
    public void A_second_taker_is_refused_and_told_the_holders_pid_until_the_holder_lets_go()
    {
        var dir = Directory.CreateTempSubdirectory("interop-lock-").FullName;
        try
        {
            var path = Path.Combine(dir, "sub", "state.yaml.lock");
            var first = DaemonLock.TryTake(path, out var none);
            var second = DaemonLock.TryTake(path, out var holder);
            first!.Dispose();
            using var third = DaemonLock.TryTake(path, out _);

            Assert.Multiple(() =>
            {
                Assert.That(first, Is.Not.Null);
                Assert.That(none, Is.Zero);
                Assert.That(second, Is.Null);
                Assert.That(holder, Is.EqualTo(Environment.ProcessId));
                Assert.That(third, Is.Not.Null, "released with its descriptor");
            });
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
