namespace Interop.Core.Tests.Validation;

public class ResourceKeysTests
{
    [TestCase("memory.max")]
    [TestCase("memory.limit_in_bytes")]
    [TestCase("cpu.max")]
    [TestCase("cpu.shares")]
    [TestCase("cpuset.cpus")]
    [TestCase("pids.max")]
    [TestCase("io.max")]
    public void Resource_settings_are_writable(string key) => Assert.That(ResourceKeys.ValidateWritable(key), Is.EqualTo(key));

    [TestCase("cgroup.kill")]
    [TestCase("cgroup.freeze")]
    [TestCase("cgroup.procs")]
    [TestCase("cgroup.max.depth")]
    [TestCase("devices.allow")]
    [TestCase("devices.deny")]
    [TestCase("freezer.state")]
    [TestCase("tasks")]
    [TestCase("release_agent")]
    [TestCase("notify_on_release")]
    [TestCase("memory.force_empty")]
    [TestCase("cpu.stat")]
    [TestCase("hugetlb.2MB.limit_in_bytes")]
    [TestCase("x.y")]
    public void Everything_else_is_refused_as_bad_input(string key) =>
        Assert.That(() => ResourceKeys.ValidateWritable(key), Throws.TypeOf<InvalidInputException>().With.Message.Contain("key"));
}
