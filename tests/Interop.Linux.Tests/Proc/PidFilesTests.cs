using Interop.Linux.Proc;

namespace Interop.Linux.Tests.Proc;

public sealed class PidFilesTests
{
    private string _dir = "";

    [SetUp]
    public void CreateDir() => _dir = Directory.CreateTempSubdirectory("interop-pidfiles-").FullName;

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Gives_the_names_of_the_pid_files_holding_the_pid()
    {
        // libvirt writes "PID\n" (virPidFileWritePath); a stray space is tolerated as before.
        File.WriteAllText(Path.Combine(_dir, "a_b.pid"), "4242\n");
        File.WriteAllText(Path.Combine(_dir, "other.pid"), "4000\n");
        File.WriteAllText(Path.Combine(_dir, "twin.pid"), " 4242 ");
        File.WriteAllText(Path.Combine(_dir, "web.xml"), "4242\n");
        File.WriteAllText(Path.Combine(_dir, "junk.pid"), "not a pid\n");

        Assert.Multiple(() =>
        {
            Assert.That(PidFiles.NamesHolding(_dir, 4242), Is.EquivalentTo(new[] { "a_b", "twin" }));
            Assert.That(PidFiles.NamesHolding(_dir, 4000), Is.EqualTo(new[] { "other" }));
            Assert.That(PidFiles.NamesHolding(_dir, 31337), Is.Empty);
        });
    }

    [Test]
    public void A_missing_dir_or_a_pid_not_above_1_gives_nothing()
    {
        File.WriteAllText(Path.Combine(_dir, "init.pid"), "1\n");

        Assert.Multiple(() =>
        {
            Assert.That(PidFiles.NamesHolding(Path.Combine(_dir, "absent"), 4242), Is.Empty);
            Assert.That(PidFiles.NamesHolding(_dir, 1), Is.Empty);
            Assert.That(PidFiles.NamesHolding(_dir, 0), Is.Empty);
        });
    }

    [Test]
    public void An_unreadable_file_is_skipped_and_reported()
    {
        // A dangling symlink is listed like a file but cannot be read (ENOENT): skipped, the rest still answers.
        File.CreateSymbolicLink(Path.Combine(_dir, "gone.pid"), Path.Combine(_dir, "nowhere"));
        File.WriteAllText(Path.Combine(_dir, "web.pid"), "4242\n");
        var skipped = new List<string>();

        var names = PidFiles.NamesHolding(_dir, 4242, (file, _) => skipped.Add(Path.GetFileName(file)));

        Assert.Multiple(() =>
        {
            Assert.That(names, Is.EqualTo(new[] { "web" }));
            Assert.That(skipped, Is.EqualTo(new[] { "gone.pid" }));
        });
    }
}
