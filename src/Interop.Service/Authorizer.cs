using System.Globalization;
using Interop.Core.Config;
using Interop.Core.Model;
using Interop.Linux.Native;

namespace Interop.Service;

/// <summary>Users and groups as the system knows them (<see cref="NssAccounts"/>: the C library's NSS).</summary>
public interface IAccounts
{
    uint? UidOf(string user);

    uint? GidOf(string group);

    (string Name, uint Uid, uint Gid)? UserOf(uint uid);

    IReadOnlyList<uint> GroupsOf(string user, uint gid);
}

/// <summary>NSS (getpwnam_r, getpwuid_r, getgrnam_r, getgrouplist): LDAP and sssd users too, asked at every call.</summary>
public sealed class NssAccounts : IAccounts
{
    public uint? UidOf(string user) => Nss.UidOf(user);

    public uint? GidOf(string group) => Nss.GidOf(group);

    public (string Name, uint Uid, uint Gid)? UserOf(uint uid) => Nss.UserOf(uid);

    public IReadOnlyList<uint> GroupsOf(string user, uint gid) => Nss.GroupsOf(user, gid);
}

/// <summary>
/// Who may call mutating methods: root (uid 0) always; the users of allowed_users (by name or uid); the members of
/// allowed_groups (by name or gid: a primary group or a supplementary one). Names are resolved through NSS at every
/// call, never cached, so LDAP/sssd users work and a membership change applies without a restart. The uid itself
/// comes from the bus (GetConnectionUnixUser on the sender), never from an argument.
/// </summary>
/// <remarks>
/// Which containers a non-root allowed caller may change (SetValue, StopContainer, ReleaseContainer of a registered
/// container): only those it runs or that the kernel delegates to it: the container's leader runs as the caller's
/// uid, or one of the container's cgroup dirs is owned by it (cgroup delegation). Every other container, and every
/// container whose leader runs as root, only root may change (docs/configuration.md).
/// </remarks>
public sealed class Authorizer
{
    private readonly InteropConfig _config;
    private readonly IAccounts _accounts;
    private readonly Func<int, uint?> _uidOfProcess;
    private readonly Func<string, uint?> _ownerOf;

    public Authorizer(InteropConfig config, IAccounts? accounts = null, Func<int, uint?>? uidOfProcess = null, Func<string, uint?>? ownerOf = null)
    {
        _config = config;
        _accounts = accounts ?? new NssAccounts();
        _uidOfProcess = uidOfProcess ?? (pid => Ownership.RealUidOf(pid));
        _ownerOf = ownerOf ?? Ownership.OwnerOf;
    }

    public bool IsAllowed(uint uid)
    {
        if (uid == 0)
        {
            return true;
        }

        foreach (var user in _config.AllowedUsers)
        {
            var listed = uint.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : _accounts.UidOf(user);
            if (listed == uid)
            {
                return true;
            }
        }

        if (_config.AllowedGroups.Count == 0 || _accounts.UserOf(uid) is not { } account)
        {
            return false;
        }

        var member = _accounts.GroupsOf(account.Name, account.Gid).ToHashSet();
        member.Add(account.Gid);
        foreach (var group in _config.AllowedGroups)
        {
            var gid = uint.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out var g) ? g : _accounts.GidOf(group);
            if (gid is { } id && member.Contains(id))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when <paramref name="uid"/> may change <paramref name="container"/> (see the remarks); root always may.</summary>
    public bool MayChange(uint uid, Mapping container)
    {
        if (uid == 0)
        {
            return true;
        }

        if (container.Leader > 1 && _uidOfProcess(container.Leader) == uid)
        {
            return true;
        }

        return container.Paths.Values.Any(dir => _ownerOf(dir) == uid);
    }
}
