namespace Interop.Linux.Tests.Discovery;

/// <summary>Where the copied fixtures live in the test output.</summary>
internal static class Fixtures
{
    public static string LibvirtDir => Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "libvirt-vircgroupdata");

    public static string ThisHostDir => Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "this-host");

    public static string Libvirt(string set, string suffix) => Path.Combine(LibvirtDir, set + "." + suffix);

    public static string ThisHost(string file) => Path.Combine(ThisHostDir, file);
}
