namespace Interop.Core.Tests.Validation;

public class NamesTests
{
    [TestCase("web01")]
    [TestCase("web.01-a_b")]
    [TestCase("9-lives")]
    [TestCase("héllo-wörld")]
    [TestCase(".hidden")]
    public void Good_components_pass_unchanged(string name)
    {
        Assert.That(Names.ValidateComponent(name, "name"), Is.EqualTo(name));
    }

    [TestCase("", "must not be empty")]
    [TestCase(".", "'.' is not allowed")]
    [TestCase("..", "'..' is not allowed")]
    [TestCase("a/b", "contains '/'")]
    [TestCase("/", "contains '/'")]
    [TestCase("a\0b", "contains NUL")]
    [TestCase("a\nb", "control character")]
    [TestCase("a\tb", "control character")]
    [TestCase("a\u007fb", "control character")]
    public void Hostile_components_are_refused_naming_the_field(string name, string fragment)
    {
        var e = Assert.Throws<InvalidInputException>(() => Names.ValidateComponent(name, "name"))!;

        Assert.Multiple(() =>
        {
            Assert.That(e.Field, Is.EqualTo("name"));
            Assert.That(e.Message, Does.StartWith("invalid name: "));
            Assert.That(e.Message, Does.Contain(fragment));
            Assert.That(e.Message, Does.Not.Contain("\n").And.Not.Contain("\0"));
            Assert.That(e.ErrorName, Is.EqualTo("org.interop.Interop1.Error.InvalidArgument"));
        });
    }

    [Test]
    public void Lone_surrogates_are_refused()
    {
        // Built at run time: attribute metadata cannot carry a lone surrogate.
        var name = "a" + (char)0xD800;

        var e = Assert.Throws<InvalidInputException>(() => Names.ValidateComponent(name, "name"))!;
        Assert.That(e.Message, Does.Contain("not valid UTF-16"));
    }

    [Test]
    public void Length_limit_is_255_utf8_bytes()
    {
        Assert.That(Names.ValidateComponent(new string('a', 255), "name"), Has.Length.EqualTo(255));
        Assert.Throws<InvalidInputException>(() => Names.ValidateComponent(new string('a', 256), "name"));

        // 128 two-byte characters are 256 bytes although only 128 chars.
        Assert.Throws<InvalidInputException>(() => Names.ValidateComponent(new string('é', 128), "name"));
    }

    [TestCase("machine", "machine")]
    [TestCase("/machine", "machine")]
    [TestCase("/machine/web.partition", "machine/web.partition")]
    public void Relative_paths_lose_the_leading_slash(string path, string expected)
    {
        Assert.That(Names.ValidateRelativePath(path, "path"), Is.EqualTo(expected));
    }

    [TestCase("/")]
    [TestCase("")]
    [TestCase("a//b")]
    [TestCase("a/../b")]
    [TestCase("../etc")]
    [TestCase("a/")]
    [TestCase("a/b\0")]
    public void Bad_relative_paths_are_refused(string path)
    {
        Assert.Throws<InvalidInputException>(() => Names.ValidateRelativePath(path, "path"));
    }

    [TestCase("memory.limit_in_bytes")]
    [TestCase("cpu.shares")]
    [TestCase("cpuset.cpus")]
    [TestCase("memory.max")]
    [TestCase("io.bfq.weight")]
    public void Cgroup_keys_of_the_form_controller_setting_pass(string key)
    {
        Assert.That(Names.ValidateKey(key), Is.EqualTo(key));
    }

    [TestCase("tasks")]
    [TestCase("cgroup.procs")]
    [TestCase("cgroup.threads")]
    [TestCase("release_agent")]
    [TestCase("notify_on_release")]
    [TestCase("cgroup.subtree_control")]
    [TestCase("cgroup.clone_children")]
    [TestCase("../memory.limit_in_bytes")]
    [TestCase("Memory.Max")]
    [TestCase("memory")]
    [TestCase("memory.max/x")]
    [TestCase("")]
    public void Denied_or_malformed_keys_are_refused(string key)
    {
        var e = Assert.Throws<InvalidInputException>(() => Names.ValidateKey(key))!;
        Assert.That(e.Field, Is.EqualTo("key"));
    }

    [TestCase("4242", 4242)]
    [TestCase("2", 2)]
    public void Pids_parse(string text, int pid)
    {
        Assert.That(Names.ParsePid(text), Is.EqualTo(pid));
    }

    [TestCase("0")]
    [TestCase("1")]
    [TestCase("-5")]
    [TestCase("12a")]
    [TestCase("99999999999")]
    [TestCase("")]
    [TestCase(" 42")]
    public void Bad_pids_are_refused(string text)
    {
        Assert.Throws<InvalidInputException>(() => Names.ParsePid(text));
    }

    [TestCase("64\n", "64")]
    [TestCase("max", "max")]
    public void Values_lose_one_trailing_newline(string value, string expected)
    {
        Assert.That(Names.ValidateValue(value), Is.EqualTo(expected));
    }

    [TestCase("1\n2")]
    [TestCase("")]
    [TestCase("\n")]
    [TestCase("a\0")]
    public void Multi_line_or_binary_values_are_refused(string value)
    {
        Assert.Throws<InvalidInputException>(() => Names.ValidateValue(value));
    }
}
