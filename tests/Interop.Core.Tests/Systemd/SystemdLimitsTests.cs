using Interop.Core.Systemd;

namespace Interop.Core.Tests.Systemd;

public class SystemdLimitsTests
{
    [TestCase("memory.max", "512M", "MemoryMax", 536870912UL)]
    [TestCase("memory.max", "1073741824", "MemoryMax", 1073741824UL)]
    [TestCase("memory.max", "max", "MemoryMax", ulong.MaxValue)]
    [TestCase("memory.high", "infinity", "MemoryHigh", ulong.MaxValue)]
    [TestCase("memory.low", "2g", "MemoryLow", 2147483648UL)]
    [TestCase("memory.limit_in_bytes", "-1", "MemoryLimit", ulong.MaxValue)]
    [TestCase("memory.limit_in_bytes", "64K", "MemoryLimit", 65536UL)]
    [TestCase("pids.max", "100", "TasksMax", 100UL)]
    [TestCase("pids.max", "max", "TasksMax", ulong.MaxValue)]
    [TestCase("cpu.weight", "200", "CPUWeight", 200UL)]
    [TestCase("io.weight", "10000", "IOWeight", 10000UL)]
    [TestCase("cpu.shares", "512", "CPUShares", 512UL)]
    [TestCase("blkio.weight", "500", "BlockIOWeight", 500UL)]
    public void A_key_becomes_its_unit_property_with_systemds_value(string key, string value, string property, ulong expected)
    {
        var set = SystemdLimits.Map(key, value, "lxc-web.scope");
        Assert.That(set, Has.Count.EqualTo(1));
        Assert.Multiple(() =>
        {
            Assert.That(set[0].Name, Is.EqualTo(property));
            Assert.That(set[0].Number, Is.EqualTo(expected));
            Assert.That(set[0].Signature, Is.EqualTo("t"));
        });
    }

    [TestCase("50000 100000", 500_000UL, 100_000UL)]
    [TestCase("200000", 2_000_000UL, 100_000UL)]
    [TestCase("max 50000", ulong.MaxValue, 50_000UL)]
    [TestCase("25000 50000", 500_000UL, 50_000UL)]
    public void Cpu_max_becomes_a_quota_per_second_and_its_period(string value, ulong perSec, ulong period)
    {
        var set = SystemdLimits.Map("cpu.max", value, "lxc-web.scope");
        Assert.That(set.Select(p => (p.Name, p.Number)), Is.EqualTo(new[] { ("CPUQuotaPerSecUSec", perSec), ("CPUQuotaPeriodUSec", period) }));
    }

    [TestCase("cpuset.cpus", "0-3,8", "AllowedCPUs", new byte[] { 0x0f, 0x01 })]
    [TestCase("cpuset.cpus", "1", "AllowedCPUs", new byte[] { 0x02 })]
    [TestCase("cpuset.mems", "0", "AllowedMemoryNodes", new byte[] { 0x01 })]
    public void A_cpu_or_node_list_becomes_systemds_bit_mask(string key, string value, string property, byte[] mask)
    {
        var p = SystemdLimits.Map(key, value, "x.scope").Single();
        Assert.Multiple(() =>
        {
            Assert.That(p.Name, Is.EqualTo(property));
            Assert.That(p.Mask, Is.EqualTo(mask));
            Assert.That(p.Signature, Is.EqualTo("ay"));
        });
    }

    [TestCase("cpuset.cpu_exclusive")]
    [TestCase("freezer.state")]
    [TestCase("memory.swappiness")]
    [TestCase("net_cls.classid")]
    public void A_key_without_a_systemd_property_is_refused_naming_the_unit(string key)
    {
        var e = Assert.Throws<InvalidInputException>(() => SystemdLimits.Map(key, "1", "lxc-web.scope"));
        Assert.That(e!.Message, Does.StartWith($"invalid key: {key} has no systemd property; lxc-web.scope's limits go through systemd"));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }

    [TestCase("memory.max", "12Q")]
    [TestCase("memory.max", "-5")]
    [TestCase("memory.max", "")]
    [TestCase("memory.max", "99999999999E")]
    [TestCase("pids.max", "0")]
    [TestCase("cpu.weight", "0")]
    [TestCase("cpu.weight", "10001")]
    [TestCase("cpu.weight", "max")]
    [TestCase("cpu.max", "10 100000")]
    [TestCase("cpu.max", "50000 10")]
    [TestCase("cpu.max", "a b c")]
    [TestCase("cpuset.cpus", "3-1")]
    [TestCase("cpuset.cpus", "x")]
    [TestCase("blkio.weight", "5")]
    public void A_value_systemd_would_not_parse_is_refused(string key, string value)
    {
        var e = Assert.Throws<InvalidInputException>(() => SystemdLimits.Map(key, value, "lxc-web.scope"));
        Assert.That(e!.Field, Is.EqualTo("value"));
    }
}
