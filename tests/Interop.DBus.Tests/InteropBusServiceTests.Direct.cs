using Interop.Core;
using Interop.Core.Model;
using Interop.DBus.Direct;

namespace Interop.DBus.Tests;

/// <summary>The hooks' DirectClient against the real server through the private dbus-daemon.</summary>
public partial class InteropBusServiceTests
{
    [Test]
    public async Task Direct_lifecycle_calls_reach_the_service_with_their_arguments()
    {
        // Enough entries, odd lengths and non-ASCII text to exercise every padding rule of a{ss}.
        var facts = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["hook"] = "pre-start",
            ["config_file"] = "/var/lib/lxc/nëw ✓/config",
            ["empty"] = string.Empty,
            ["x"] = "y",
        };
        for (var i = 0; i < 17; i++)
        {
            facts[$"k{new string('k', i)}"] = new string('v', i);
        }

        using var client = DirectClient.Connect(_daemon.Address);
        await client.PrepareContainerAsync(Manager.Lxc, "nëw", facts);
        var registered = await client.RegisterContainerAsync(Manager.Lxc, "nëw", 4_000_000_000, facts);
        await client.StopContainerAsync(Manager.Libvirt, "db_1", new Dictionary<string, string>());
        var released = await client.ReleaseContainerAsync(Manager.Libvirt, "db_1", new Dictionary<string, string> { ["uuid"] = "u" });
        var releasedAgain = await client.ReleaseContainerAsync(Manager.Libvirt, "db_1", new Dictionary<string, string>());

        var expectedFacts = string.Join(",", facts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
        Assert.Multiple(() =>
        {
            Assert.That(_fake.Calls, Is.EqualTo(new[]
            {
                $"Prepare lxc nëw {expectedFacts}",
                $"Register lxc nëw 4000000000 {expectedFacts}",
                "Stop libvirt db_1 ",
                "Release libvirt db_1 uuid=u",
                "Release libvirt db_1 ",
            }));
            Assert.That(registered, Is.EqualTo(ObjectPaths.ForContainer(Manager.Lxc, "nëw")));
            Assert.That(released, Is.True);
            Assert.That(releasedAgain, Is.False);
        });
    }

    [TestCaseSource(nameof(Errors))]
    public void Direct_calls_map_service_errors_to_the_same_type_message_and_fields(InteropException error)
    {
        _fake.ThrowOnNextCall = error;
        using var client = DirectClient.Connect(_daemon.Address);
        var thrown = Assert.Throws(error.GetType(), () => client.PrepareContainerAsync(Manager.Lxc, "web", new Dictionary<string, string>())) as InteropException;
        Assert.Multiple(() =>
        {
            Assert.That(thrown!.ErrorName, Is.EqualTo(error.ErrorName));
            Assert.That(thrown.Message, Is.EqualTo(error.Message));
            Assert.That(Fields(thrown), Is.EqualTo(Fields(error)));
        });
    }

    [Test]
    public async Task Direct_client_makes_several_calls_on_one_connection()
    {
        using var client = DirectClient.Connect(_daemon.Address);
        await client.StopContainerAsync(Manager.Lxc, "a", new Dictionary<string, string>());
        _fake.ThrowOnNextCall = new ConflictException("busy");
        Assert.Throws<ConflictException>(() => client.StopContainerAsync(Manager.Lxc, "b", new Dictionary<string, string>()));
        await client.StopContainerAsync(Manager.Lxc, "c", new Dictionary<string, string>());
        Assert.That(_fake.Calls, Is.EqualTo(new[] { "Stop lxc a ", "Stop lxc b ", "Stop lxc c " }));
    }

    [Test]
    public void Direct_client_without_a_bus_is_DaemonUnreachable()
    {
        var ex = Assert.Throws<DaemonUnreachableException>(() => DirectClient.Connect("unix:path=/nonexistent/interop-test-bus"));
        Assert.That(ex!.Message, Does.Contain("interopd is not running on unix:path=/nonexistent/interop-test-bus")
            .And.Contain("No such file or directory"));
    }

    [Test]
    public void Direct_client_refuses_a_name_with_a_NUL_before_sending_anything()
    {
        using var client = DirectClient.Connect(_daemon.Address);
        Assert.Throws<ArgumentException>(() => client.StopContainerAsync(Manager.Lxc, "a\0b", new Dictionary<string, string>()));
        Assert.That(_fake.Calls, Is.Empty);
    }
}
