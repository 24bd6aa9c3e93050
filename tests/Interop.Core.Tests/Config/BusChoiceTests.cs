using Interop.Core.Config;

namespace Interop.Core.Tests.Config;

/// <summary>The one order both programs find the bus in: --bus, $INTEROP_BUS_ADDRESS, the file's bus.</summary>
public sealed class BusChoiceTests
{
    [TestCase("unix:path=/opt", "unix:path=/env", "unix:path=/opt", false)]
    [TestCase(null, "unix:path=/env", "unix:path=/env", false)]
    [TestCase("", "unix:path=/env", "unix:path=/env", false)]
    [TestCase(null, null, "unix:path=/file", true)]
    [TestCase(null, "", "unix:path=/file", true)]
    public void Option_then_environment_then_file(string? option, string? environment, string expected, bool fileRead)
    {
        var read = false;
        var bus = BusChoice.Resolve(option, environment, () =>
        {
            read = true;
            return "unix:path=/file";
        });

        Assert.Multiple(() =>
        {
            Assert.That(bus, Is.EqualTo(expected));
            Assert.That(read, Is.EqualTo(fileRead), "the file is asked for only when needed");
        });
    }

    [TestCase(null, InteropConfig.DefaultPath)]
    [TestCase("", InteropConfig.DefaultPath)]
    [TestCase("/tmp/x.yaml", "/tmp/x.yaml")]
    public void The_config_file_is_the_variable_else_the_default(string? fromEnvironment, string expected)
        => Assert.That(InteropConfig.PathFrom(fromEnvironment), Is.EqualTo(expected));
}
