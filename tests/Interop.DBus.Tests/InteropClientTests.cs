using Interop.TestSupport;
namespace Interop.DBus.Tests;

/// <summary>The client against a live bus on which nobody owns org.interop.Interop1 (interopd not running).</summary>
[NonParallelizable]
public sealed class InteropClientTests
{
    private PrivateBus _daemon = null!;

    [OneTimeSetUp]
    public void StartDaemon() => _daemon = new PrivateBus();

    [OneTimeTearDown]
    public void StopDaemon() => _daemon.Dispose();

    [Test]
    public async Task A_synchronous_call_right_after_connecting_reports_the_daemon_unreachable_instead_of_deadlocking()
    {
        // interopctl's shape: connect, and in the continuation call a synchronous member. The bus answers
        // ServiceUnknown at once; the client must not block the connection's read loop waiting for it.
        var call = Task.Run(async () =>
        {
            await using var client = await InteropClient.ConnectAsync(_daemon.Address);
            return client.ListContainers();
        });

        var first = await Task.WhenAny(call, Task.Delay(TimeSpan.FromSeconds(10)));

        Assert.That(first, Is.SameAs(call), "the client deadlocked");
        var e = Assert.ThrowsAsync<DaemonUnreachableException>(async () => await call)!;
        Assert.That(e.Message, Does.Contain("nobody owns org.interop.Interop1"));
    }

    [Test]
    public async Task Every_synchronous_member_fails_fast_when_nobody_owns_the_name()
    {
        await using var client = await InteropClient.ConnectAsync(_daemon.Address);
        var members = new Func<object>[]
        {
            () => client.Version,
            () => client.ContainerCount,
            () => client.ListContainers(),
            () => client.GetContainerByPid(4242),
        };

        foreach (var member in members)
        {
            var call = Task.Run(member);
            var first = await Task.WhenAny(call, Task.Delay(TimeSpan.FromSeconds(10)));
            Assert.That(first, Is.SameAs(call), "the client deadlocked");
            Assert.ThrowsAsync<DaemonUnreachableException>(async () => await call);
        }
    }

    [Test]
    public void The_direct_client_reports_the_daemon_unreachable_when_nobody_owns_the_name()
    {
        using var client = Direct.DirectClient.Connect(_daemon.Address);
        var ex = Assert.Throws<DaemonUnreachableException>(() => client.PrepareContainerAsync(Core.Model.Manager.Lxc, "web", new Dictionary<string, string>()));
        Assert.That(ex!.Message, Does.Contain("nobody owns org.interop.Interop1"));
    }
}
