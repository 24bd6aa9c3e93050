using Interop.FunctionalTests.Support;

namespace Interop.FunctionalTests;

/// <summary>A real non-root caller (uid 65534) on the bus: reads work, mutations are refused by interopd.</summary>
[TestFixture]
public class AuthorizationTests
{
    private static readonly string[] AsNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", "--"];

    [TestCase("Setup", new string[0])]
    [TestCase("PrepareContainer", new[] { "string:lxc", "string:x", "dict:string:string:" })]
    [TestCase("Prune", new[] { "boolean:true" })]
    [TestCase("ReleaseContainer", new[] { "string:lxc", "string:x", "dict:string:string:" })]
    public void MutatingCall_AsNobody_IsAccessDenied_AndChangesNothing(string member, string[] args)
    {
        using var rig = Rig.Start();
        var before = rig.Scratch.Listing();
        var r = Cmd.Run("setpriv", AsNobody.Concat(new[] { "dbus-send", "--bus=" + rig.Address, "--print-reply", "--dest=org.interop.Interop1",
            "/org/interop/Interop1", "org.interop.Interop1.Manager." + member }).Concat(args));
        Assert.That(r.ExitCode, Is.Not.EqualTo(0), r.ToString());
        Assert.That(r.Stderr, Does.Contain("org.freedesktop.DBus.Error.AccessDenied"), r.ToString());
        Assert.That(rig.Scratch.Listing(), Is.EqualTo(before));
        Assert.That(Sync.Run(rig.Client.ListContainersAsync()), Is.Empty);
    }

    [Test]
    public void Busctl_AsNobody_MutationRefused_ReadsWork()
    {
        using var rig = Rig.Start();
        var setup = Cmd.Run("setpriv", AsNobody.Concat(new[] { "busctl", "--address=" + rig.Address, "call", "org.interop.Interop1",
            "/org/interop/Interop1", "org.interop.Interop1.Manager", "Setup" }));
        Assert.That(setup.ExitCode, Is.Not.EqualTo(0), setup.ToString());

        var list = Cmd.Run("setpriv", AsNobody.Concat(new[] { "busctl", "--address=" + rig.Address, "call", "org.interop.Interop1",
            "/org/interop/Interop1", "org.interop.Interop1.Manager", "ListContainers" }));
        Assert.That((list.ExitCode, list.Stdout.Trim()), Is.EqualTo((0, "a(sssuso) 0")), list.ToString());

        var all = Cmd.Run("setpriv", AsNobody.Concat(new[] { "busctl", "--address=" + rig.Address, "call", "org.interop.Interop1",
            "/org/interop/Interop1", "org.freedesktop.DBus.Properties", "GetAll", "s", "org.interop.Interop1.Manager" }));
        Assert.That(all.ExitCode, Is.EqualTo(0), all.ToString());
        Assert.That(all.Stdout, Does.Contain("\"SharedRoot\" s \"" + rig.SharedRoot + "\""));
    }
}
