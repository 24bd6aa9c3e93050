using Interop.Core;
using Interop.Linux.Cgroups;

namespace Interop.Linux.Tests.Cgroups;

public class CpuListTests
{
    [TestCase("0-3,5", "0-3,5")]
    [TestCase("0-1\n", "0-1")]
    [TestCase("\n", "")]
    [TestCase("", "")]
    [TestCase("3,1,2,7", "1-3,7")]
    [TestCase("0,0-1", "0-1")]
    public void Parse_then_format_is_the_kernel_form(string text, string expected)
    {
        Assert.That(CpuList.Format(CpuList.Parse(text)), Is.EqualTo(expected));
    }

    [TestCase("0-3", "1", "0,2-3")]
    [TestCase("0-1", "", "0-1")]
    [TestCase("0-1", "0-1", "")]
    [TestCase("0-7", "2-3,6", "0-1,4-5,7")]
    public void Subtract_removes_isolated_and_offline_cpus(string list, string remove, string expected)
    {
        Assert.That(CpuList.Subtract(list, CpuList.Parse(remove)), Is.EqualTo(expected));
    }

    [TestCase("a")]
    [TestCase("3-1")]
    [TestCase("1,,2")]
    [TestCase("-1")]
    public void Garbage_is_refused(string text)
    {
        Assert.That(() => CpuList.Parse(text), Throws.TypeOf<InvalidInputException>());
    }
}
