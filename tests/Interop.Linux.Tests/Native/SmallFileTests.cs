using System.Text;
using Interop.Linux.Native;

namespace Interop.Linux.Tests.Native;

public class SmallFileTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("interop-smallfile-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Reads_a_file_whole_past_its_kept_buffer_and_a_small_one_after_it()
    {
        // 200 KB: the buffer grows from 4 KB past the 64 KB it keeps; the next read starts from the kept one.
        var big = string.Concat(Enumerable.Range(0, 20_000).Select(i => $"{i,9}\n"));
        var small = "0::/machine/é\n";
        File.WriteAllText(Path.Combine(_dir, "big"), big);
        File.WriteAllText(Path.Combine(_dir, "small"), small);

        Assert.Multiple(() =>
        {
            Assert.That(SmallFile.TryRead(Path.Combine(_dir, "big"), 0, out var e1), Is.EqualTo(big));
            Assert.That(e1, Is.Zero);
            Assert.That(SmallFile.TryRead(Path.Combine(_dir, "small"), 0, out _), Is.EqualTo(small), "UTF-8, nothing left over from the big read");
            Assert.That(SmallFile.TryRead("/proc/self/cgroup", 0, out _), Is.EqualTo(File.ReadAllText("/proc/self/cgroup")));
        });
    }

    [TestCase(1)]
    [TestCase(4095)]
    [TestCase(4096)]
    [TestCase(4097)]
    [TestCase(8192)]
    [TestCase(200_000)]
    public void A_single_show_read_stops_at_a_short_read_and_still_reads_the_whole_file(int size)
    {
        // The buffer starts at 4 KB and doubles: a read that fills it is not the end, one that does not is.
        var text = new string('x', size - 1) + "\n";
        var path = Path.Combine(_dir, "sized");
        File.WriteAllText(path, text);
        var fd = Libc.Open(path, Libc.ORdOnly | Libc.OCloExec);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        try
        {
            Assert.Multiple(() =>
            {
                Assert.That(SmallFile.TryRead(path, 0, out var errno, singleShow: true), Is.EqualTo(text));
                Assert.That(errno, Is.Zero);
                Assert.That(SmallFile.Read(fd, fromStart: true, out _, singleShow: true), Is.EqualTo(text), "pread from 0");
                Assert.That(SmallFile.TryRead("/proc/self/cgroup", 0, out _, singleShow: true), Is.EqualTo(File.ReadAllText("/proc/self/cgroup")));
            });
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }

    [Test]
    public void A_kept_descriptor_is_read_from_its_start_each_time()
    {
        var path = Path.Combine(_dir, "value");
        File.WriteAllText(path, "12345\n");
        var fd = Libc.Open(path, Libc.ORdOnly | Libc.OCloExec);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        try
        {
            var first = SmallFile.Read(fd, fromStart: true, out _);
            File.WriteAllBytes(path, Encoding.ASCII.GetBytes("678\n"));
            var second = SmallFile.Read(fd, fromStart: true, out _);

            Assert.Multiple(() =>
            {
                Assert.That(first, Is.EqualTo("12345\n"));
                Assert.That(second, Is.EqualTo("678\n"), "the file as it is now, from offset 0");
            });
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }

    [Test]
    public void A_missing_file_or_a_dir_is_null_with_its_errno()
    {
        Assert.Multiple(() =>
        {
            Assert.That(SmallFile.TryRead(Path.Combine(_dir, "absent"), 0, out var missing), Is.Null);
            Assert.That(missing, Is.EqualTo(Libc.ENOENT));
            Assert.That(SmallFile.TryRead(_dir, 0, out var dir), Is.Null);
            Assert.That(dir, Is.EqualTo(Libc.EISDIR));
        });
    }
}
