using System.Globalization;
using Interop.Core.Config;

namespace Interop.Service;

/// <summary>
/// Who may call mutating methods: the uids of allowed_users and the members of allowed_groups (by
/// /etc/group membership or primary group in /etc/passwd). root (uid 0) always may. The uid itself comes
/// from the bus (GetConnectionUnixUser on the sender), never from an argument.
/// </summary>
public sealed class Authorizer
{
    private readonly HashSet<uint> _uids = [0];
    private readonly HashSet<uint> _gids = [];
    private readonly HashSet<string> _groupMembers = new(StringComparer.Ordinal);
    private readonly Dictionary<uint, (string Name, uint Gid)> _users = [];

    public Authorizer(InteropConfig config, string passwdPath = "/etc/passwd", string groupPath = "/etc/group")
    {
        var byName = new Dictionary<string, uint>(StringComparer.Ordinal);
        foreach (var (name, uid, gid) in ReadPasswd(passwdPath))
        {
            byName.TryAdd(name, uid);
            _users.TryAdd(uid, (name, gid));
        }

        foreach (var user in config.AllowedUsers)
        {
            if (uint.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out var uid) || byName.TryGetValue(user, out uid))
            {
                _uids.Add(uid);
            }
        }

        var wanted = config.AllowedGroups.ToHashSet(StringComparer.Ordinal);
        foreach (var (name, gid, members) in ReadGroup(groupPath))
        {
            if (wanted.Contains(name) || wanted.Contains(gid.ToString(CultureInfo.InvariantCulture)))
            {
                _gids.Add(gid);
                _groupMembers.UnionWith(members);
            }
        }

        foreach (var g in wanted)
        {
            if (uint.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
            {
                _gids.Add(gid);
            }
        }
    }

    public bool IsAllowed(uint uid)
    {
        if (_uids.Contains(uid))
        {
            return true;
        }

        return _users.TryGetValue(uid, out var user) && (_gids.Contains(user.Gid) || _groupMembers.Contains(user.Name));
    }

    private static IEnumerable<(string Name, uint Uid, uint Gid)> ReadPasswd(string path)
    {
        foreach (var f in Lines(path))
        {
            if (f.Length >= 4 && uint.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
                && uint.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
            {
                yield return (f[0], uid, gid);
            }
        }
    }

    private static IEnumerable<(string Name, uint Gid, string[] Members)> ReadGroup(string path)
    {
        foreach (var f in Lines(path))
        {
            if (f.Length >= 4 && uint.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
            {
                yield return (f[0], gid, f[3].Split(',', StringSplitOptions.RemoveEmptyEntries));
            }
        }
    }

    private static IEnumerable<string[]> Lines(string path)
    {
        if (!File.Exists(path))
        {
            yield break;
        }

        foreach (var line in File.ReadLines(path))
        {
            if (line.Length > 0 && line[0] != '#')
            {
                yield return line.Split(':');
            }
        }
    }
}
