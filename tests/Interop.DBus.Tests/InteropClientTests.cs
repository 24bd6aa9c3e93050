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
    public async Task A_call_right_after_connecting_reports_the_daemon_unreachable()
    {
        // interopctl's shape: connect, then call. The bus answers ServiceUnknown at once.
        var call = Task.Run(async () =>
        {
            await using var client = await InteropClient.ConnectAsync(_daemon.Address);
            return await client.ListContainersAsync();
        });

        var first = await Task.WhenAny(call, Task.Delay(TimeSpan.FromSeconds(10)));

        Assert.That(first, Is.SameAs(call), "the client deadlocked");
        var e = Assert.ThrowsAsync<DaemonUnreachableException>(async () => await call)!;
        Assert.That(e.Message, Does.Contain("nobody owns org.interop.Interop1"));
    }

    [Test]
    public async Task Every_member_fails_fast_when_nobody_owns_the_name()
    {
        await using var client = await InteropClient.ConnectAsync(_daemon.Address);
        var members = new Func<Task>[]
        {
            () => client.GetPropertiesAsync(),
            () => client.ListContainersAsync(),
            () => client.GetContainerByPidAsync(4242),
            () => client.GetValueAsync(Core.Model.Manager.Lxc, "web", "pids.max"),
        };

        foreach (var member in members)
        {
            var call = member();
            var first = await Task.WhenAny(call, Task.Delay(TimeSpan.FromSeconds(10)));
            Assert.That(first, Is.SameAs(call), "the client deadlocked");
            Assert.ThrowsAsync<DaemonUnreachableException>(async () => await call);
        }
    }

    [Test]
    public async Task A_blocking_wait_on_a_call_cannot_deadlock_on_the_read_loop()
    {
        // Replies are read on the connection's read loop; connecting and every call complete off it, so even a
        // caller that blocks right in the continuation of the connect gets its answer.
        var call = Task.Run(async () =>
        {
            await using var client = await InteropClient.ConnectAsync(_daemon.Address);
            return client.ListContainersAsync().GetAwaiter().GetResult();
        });
        var first = await Task.WhenAny(call, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.That(first, Is.SameAs(call), "the client deadlocked");
        Assert.ThrowsAsync<DaemonUnreachableException>(async () => await call);
    }

    [Test]
    public void The_direct_client_reports_the_daemon_unreachable_when_nobody_owns_the_name()
    {
        using var client = Direct.DirectClient.Connect(_daemon.Address);
        var ex = Assert.Throws<DaemonUnreachableException>(() => client.PrepareContainerAsync(Core.Model.Manager.Lxc, "web", new Dictionary<string, string>()));
        Assert.That(ex!.Message, Does.Contain("nobody owns org.interop.Interop1"));
    }
}
