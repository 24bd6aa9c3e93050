using Interop.Core.Text;

namespace Interop.Core.Tests.Adapters.Libvirt;

public class SystemdEscapeTests
{
    // virsystemd.c virSystemdEscapeName.
    [TestCase("lxc-16923-e-lv-rt", @"lxc\x2d16923\x2de\x2dlv\x2drt", TestName = "dashes")]
    [TestCase("web", "web", TestName = "plain")]
    [TestCase("a.b", "a.b", TestName = "inner dot kept")]
    [TestCase(".hidden", @"\x2ehidden", TestName = "leading dot")]
    [TestCase("..x", @"\x2e.x", TestName = "only the first dot")]
    [TestCase("a/b", "a-b", TestName = "slash becomes dash")]
    [TestCase(@"a\b", @"a\x5cb", TestName = "backslash")]
    [TestCase("a b", @"a\x20b", TestName = "space")]
    [TestCase("a:b_c", "a:b_c", TestName = "colon and underscore kept")]
    [TestCase("ü", @"\xc3\xbc", TestName = "UTF-8 bytes, lower-case hex")]
    [TestCase("A~Z", @"A\x7eZ", TestName = "tilde")]
    [TestCase("", "", TestName = "empty")]
    public void Escape_matches_libvirt(string name, string expected)
    {
        Assert.That(SystemdEscape.Escape(name), Is.EqualTo(expected));
    }

    [TestCase("lxc-16923-e-lv-rt")]
    [TestCase(".hidden")]
    [TestCase("ü b\\c")]
    public void Unescape_reverses_Escape(string name)
    {
        Assert.That(SystemdEscape.Unescape(SystemdEscape.Escape(name)), Is.EqualTo(name));
    }

    [TestCase("a-b", TestName = "bare dash (was a slash)")]
    [TestCase(@"a\x2", TestName = "short escape")]
    [TestCase(@"a\x2D", TestName = "upper-case hex")]
    [TestCase(@"a\y2d", TestName = "not x")]
    [TestCase(".a", TestName = "unescaped leading dot")]
    [TestCase(@"\xff", TestName = "invalid UTF-8")]
    public void Unescape_refuses_what_Escape_cannot_produce(string escaped)
    {
        Assert.That(SystemdEscape.Unescape(escaped), Is.Null);
    }

    // virsystemd.c virSystemdMakeSliceName.
    [TestCase("/machine", "machine.slice")]
    [TestCase("/machine/web-tier", @"machine-web\x2dtier.slice")]
    [TestCase("/a/b/c", "a-b-c.slice")]
    [TestCase("/.x", @"\x2ex.slice")]
    public void SliceName_matches_libvirt(string partition, string expected)
    {
        Assert.That(SystemdEscape.SliceName(partition), Is.EqualTo(expected));
    }

    [TestCase("machine.slice", "machine.slice")]
    [TestCase(@"machine-web\x2dtier.slice", @"machine.slice/machine-web\x2dtier.slice")]
    [TestCase("a-b-c.slice", "a.slice/a-b.slice/a-b-c.slice")]
    public void SliceDir_nests_like_systemd(string slice, string expected)
    {
        Assert.That(SystemdEscape.SliceDir(slice), Is.EqualTo(expected));
    }

    [TestCase("a--b.slice")]
    [TestCase("-a.slice")]
    [TestCase("a-.slice")]
    [TestCase(".slice")]
    [TestCase("a.scope")]
    public void SliceDir_refuses_slices_systemd_refuses(string slice)
    {
        var ex = Assert.Throws<InvalidInputException>(() => SystemdEscape.SliceDir(slice));
        Assert.That(ex!.Field, Is.EqualTo("partition"));
    }

    [Test]
    public void ScopeName_and_back()
    {
        var scope = SystemdEscape.ScopeName("lxc-4242-web.01");
        Assert.That(scope, Is.EqualTo(@"machine-lxc\x2d4242\x2dweb.01.scope"));
        Assert.That(SystemdEscape.MachineNameOfScope(scope), Is.EqualTo("lxc-4242-web.01"));
    }
}
