using Interop.Core.Config;
using Interop.Core.Model;

namespace Interop.Service.Tests;

public sealed class AuthorizerTests
{
    /// <summary>An account database that can change between two calls, as LDAP's can.</summary>
    private sealed class Accounts : IAccounts
    {
        public Dictionary<string, (uint Uid, uint Gid)> Users { get; } = new(StringComparer.Ordinal)
        {
            ["root"] = (0, 0), ["nobody"] = (65534, 65534), ["alice"] = (1000, 1000), ["bob"] = (1001, 1001), ["carol"] = (1002, 500),
        };

        public Dictionary<string, uint> Groups { get; } = new(StringComparer.Ordinal) { ["root"] = 0, ["lxd"] = 120, ["ops"] = 500 };

        public Dictionary<string, List<uint>> Supplementary { get; } = new(StringComparer.Ordinal) { ["bob"] = [120] };

        public uint? UidOf(string user) => Users.TryGetValue(user, out var u) ? u.Uid : null;

        public uint? GidOf(string group) => Groups.TryGetValue(group, out var g) ? g : null;

        public (string Name, uint Uid, uint Gid)? UserOf(uint uid) =>
            Users.Where(u => u.Value.Uid == uid).Select(u => ((string, uint, uint)?)(u.Key, u.Value.Uid, u.Value.Gid)).FirstOrDefault();

        public IReadOnlyList<uint> GroupsOf(string user, uint gid) => [gid, .. Supplementary.GetValueOrDefault(user) ?? []];
    }

    [TestCase(0u, true)]
    [TestCase(1000u, false)]
    [TestCase(65534u, false)]
    public void Default_is_root_only(uint uid, bool allowed)
    {
        Assert.That(new Authorizer(new InteropConfig(), new Accounts()).IsAllowed(uid), Is.EqualTo(allowed));
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

        Assert.That(new Authorizer(config, new Accounts()).IsAllowed(uid), Is.EqualTo(allowed));
    }

    [Test]
    public void A_membership_change_applies_at_the_next_call_without_a_restart()
    {
        var accounts = new Accounts();
        var authorizer = new Authorizer(new InteropConfig { AllowedGroups = ["lxd"] }, accounts);
        var before = authorizer.IsAllowed(1000);
        accounts.Supplementary["alice"] = [120];
        var added = authorizer.IsAllowed(1000);
        accounts.Supplementary["bob"] = [];
        Assert.Multiple(() =>
        {
            Assert.That(before, Is.False);
            Assert.That(added, Is.True);
            Assert.That(authorizer.IsAllowed(1001), Is.False, "removed from the group: refused at once");
        });
    }

    [Test]
    public void Real_NSS_resolves_this_hosts_root_and_nobody()
    {
        var nss = new NssAccounts();
        Assert.Multiple(() =>
        {
            Assert.That(nss.UidOf("root"), Is.EqualTo(0u));
            Assert.That(nss.UserOf(0)?.Name, Is.EqualTo("root"));
            Assert.That(nss.GidOf("root"), Is.EqualTo(0u));
            Assert.That(nss.GroupsOf("root", 0), Does.Contain(0u));
            Assert.That(nss.UidOf("no-such-user-interop"), Is.Null);
            Assert.That(new Authorizer(new InteropConfig { AllowedUsers = ["nobody"] }).IsAllowed(nss.UidOf("nobody")!.Value), Is.True);
        });
    }

    [Test]
    public void A_non_root_caller_may_change_only_containers_it_runs_or_owns_the_cgroup_of()
    {
        var mine = Mapping(leader: 500, "/sys/fs/cgroup/cpu/machine/lxc.payload.mine");
        var delegated = Mapping(leader: 600, "/sys/fs/cgroup/cpu/machine/lxc.payload.delegated");
        var roots = Mapping(leader: 700, "/sys/fs/cgroup/cpu/machine/lxc.payload.roots");
        var authorizer = new Authorizer(new InteropConfig { AllowedUsers = ["alice"] }, new Accounts(),
            pid => pid switch { 500 => 1000u, 600 => 0u, _ => 0u },
            dir => dir.EndsWith("delegated", StringComparison.Ordinal) ? 1000u : 0u);
        Assert.Multiple(() =>
        {
            Assert.That(authorizer.MayChange(1000, mine), Is.True, "its leader runs as the caller");
            Assert.That(authorizer.MayChange(1000, delegated), Is.True, "its cgroup is delegated to the caller");
            Assert.That(authorizer.MayChange(1000, roots), Is.False);
            Assert.That(authorizer.MayChange(0, roots), Is.True);
        });
    }

    private static Mapping Mapping(int leader, string dir) =>
        new(Manager.Lxc, "c" + leader, "", ContainerState.Running, leader, "/machine/x", new Dictionary<string, string> { ["cpu"] = dir }, 0, Interop.Core.Model.CgroupNamespaceKind.Host, Interop.Core.Model.MappingSource.Hook);
}
