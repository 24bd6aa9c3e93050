using Interop.Core.Config;

namespace Interop.Service.Tests;

public sealed class AuthorizerTests
{
    private string _dir = "";

    [SetUp]
    public void WriteFiles()
    {
        _dir = Directory.CreateTempSubdirectory("interop-auth-").FullName;
        File.WriteAllText(Passwd, """
            root:x:0:0:root:/root:/bin/bash
            nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
            alice:x:1000:1000::/home/alice:/bin/sh
            bob:x:1001:1001::/home/bob:/bin/sh
            carol:x:1002:500::/home/carol:/bin/sh
            """);
        File.WriteAllText(Group, """
            root:x:0:
            lxd:x:120:bob
            ops:x:500:
            """);
    }

    private string Passwd => Path.Combine(_dir, "passwd");

    private string Group => Path.Combine(_dir, "group");

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    [TestCase(0u, true)]
    [TestCase(1000u, false)]
    [TestCase(65534u, false)]
    public void Default_is_root_only(uint uid, bool allowed)
    {
        Assert.That(new Authorizer(new InteropConfig(), Passwd, Group).IsAllowed(uid), Is.EqualTo(allowed));
    }

    [TestCase(1000u, true)]
    [TestCase(1001u, true)]
    [TestCase(1002u, true)]
    [TestCase(65534u, false)]
    [TestCase(4242u, true)]
    [TestCase(0u, true)]
    public void Users_by_name_or_uid_and_groups_by_member_or_primary_gid(uint uid, bool allowed)
    {
        var config = new InteropConfig { AllowedUsers = ["alice", "4242"], AllowedGroups = ["lxd", "500"] };

        Assert.That(new Authorizer(config, Passwd, Group).IsAllowed(uid), Is.EqualTo(allowed));
    }
}
