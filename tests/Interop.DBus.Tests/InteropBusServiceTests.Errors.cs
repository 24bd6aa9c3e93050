using Interop.Core;
using Interop.Core.Model;
using Interop.Core.Systemd;
using Interop.DBus.Direct;
using Interop.TestSupport;

namespace Interop.DBus.Tests;

/// <summary>Error replies: the message first (what busctl and dbus-send print), then the typed fields the clients rebuild the exception from.</summary>
public partial class InteropBusServiceTests
{
    /// <summary>The same fields as <see cref="Errors"/>, each with a message that says it in other words.</summary>
    private static IEnumerable<TestCaseData> Reworded()
    {
        yield return new TestCaseData(new InvalidInputException("that name will not do", "name", "'a/b' contains '/'")).SetArgDisplayNames("InvalidArgument");
        yield return new TestCaseData(new NoSuchContainerException("nothing called that here", "lxc/ghost")).SetArgDisplayNames("NoSuchContainer");
        yield return new TestCaseData(new ConflictException("in the way", "lxc/web-01")).SetArgDisplayNames("Conflict");
        yield return new TestCaseData(new NotInSharedRootException("elsewhere", "libvirt/db_1")).SetArgDisplayNames("NotInSharedRoot");
        yield return new TestCaseData(new CgroupException("the kernel is out of room", "/sys/fs/cgroup/cpuset/machine/x/cgroup.procs", 28, "write", "ENOSPC: no space left")).SetArgDisplayNames("Cgroup");
        yield return new TestCaseData(new SystemdException("systemd said no", "lxc-web.scope", "org.freedesktop.systemd1.NoSuchUnit", "Unit lxc-web.scope not loaded.")).SetArgDisplayNames("Systemd");
    }

    /// <summary>What a caller can act on: the type and the typed fields, never the wording.</summary>
    private static string Fields(Exception e) => e switch
    {
        InvalidInputException x => $"{x.GetType().Name} field={x.Field} reason={x.Reason}",
        NoSuchContainerException x => $"{x.GetType().Name} what={x.What}",
        ConflictException x => $"{x.GetType().Name} container={x.Container}",
        NotInSharedRootException x => $"{x.GetType().Name} container={x.Container}",
        CgroupException x => $"{x.GetType().Name} op={x.Operation} path={x.Path} errno={x.Errno} detail={x.Detail}",
        SystemdException x => $"{x.GetType().Name} subject={x.Subject} error={x.DBusError} message={x.SystemdMessage}",
        _ => e.GetType().Name,
    };

    [TestCaseSource(nameof(Reworded))]
    public void A_message_worded_differently_does_not_change_what_either_client_reports(InteropException reworded)
    {
        _fake.ThrowOnNextCall = reworded;
        var overBus = Assert.ThrowsAsync(reworded.GetType(), () => _client.ListContainersAsync())!;
        _fake.ThrowOnNextCall = reworded;
        using var direct = DirectClient.Connect(_daemon.Address);
        var overDirect = Assert.Throws(reworded.GetType(), () => direct.StopContainerAsync(Manager.Lxc, "web", new Dictionary<string, string>()))!;
        Assert.Multiple(() =>
        {
            Assert.That(Fields(overBus), Is.EqualTo(Fields(reworded)));
            Assert.That(Fields(overDirect), Is.EqualTo(Fields(reworded)));
            Assert.That(overBus.Message, Is.EqualTo(reworded.Message), "the message is passed on as it was sent");
            Assert.That(overDirect.Message, Is.EqualTo(reworded.Message));
        });
    }

    [Test]
    public async Task Dbus_send_and_busctl_print_the_message_of_an_error_with_fields_and_gdbus_its_name()
    {
        var error = new CgroupException("/sys/fs/cgroup/cpuset/machine/x/cgroup.procs", 28, "write", "No space left on device");
        _fake.ThrowOnNextCall = error;
        var sent = await DBusSendAsync(ManagerPath, $"{ManagerIface}.ListContainers");
        _fake.ThrowOnNextCall = error;
        var busctl = await Cmd.RunAsync("busctl", $"--address={_daemon.Address}", "call", Bus, ManagerPath, ManagerIface, "ListContainers");
        _fake.ThrowOnNextCall = error;
        var gdbus = await Cmd.RunAsync("gdbus", "call", "--address", _daemon.Address, "--dest", Bus, "--object-path", ManagerPath, "--method", $"{ManagerIface}.ListContainers");
        Assert.Multiple(() =>
        {
            Assert.That(sent.Stderr, Does.Contain("org.interop.Interop1.Error.Cgroup").And.Contain(error.Message));
            Assert.That(busctl.Stderr, Does.Contain(error.Message));
            // GLib shows the message of a (s) body only; of this one, the error name and the body's type.
            Assert.That(gdbus.Stderr, Does.Contain("org.interop.Interop1.Error.Cgroup").And.Contain("(sssis)"));
        });
    }

    [Test]
    public void A_reply_without_fields_keeps_its_type_and_message()
    {
        // An interopd from before the fields sends the message only (signature "s"); so does a reply whose fields do not fit.
        var old = ErrorCodec.ToException("system", new ErrorReply(InteropException.Prefix + "Cgroup", "s", ["write /x: busy (errno 16)"]));
        var odd = ErrorCodec.ToException("system", new ErrorReply(InteropException.Prefix + "InvalidArgument", "su", ["invalid name: x", 7L]));
        Assert.Multiple(() =>
        {
            Assert.That(old, Is.TypeOf<CgroupException>().With.Message.EqualTo("write /x: busy (errno 16)"));
            Assert.That(((CgroupException)old).Path, Is.Empty, "nothing is read out of the words");
            Assert.That(odd, Is.TypeOf<InvalidInputException>().With.Message.EqualTo("invalid name: x"));
            Assert.That(((InvalidInputException)odd).Field, Is.Empty);
        });
    }
}
