using Interop.Core.Model;

namespace Interop.Service;

/// <summary>
/// The in-memory registry: mappings by (manager, name), and an index from cgroup path to container so a
/// pid or path resolves in O(depth of the path). Not thread-safe: <see cref="InteropService"/> serializes
/// writers and publishes snapshots to readers.
/// </summary>
public sealed class Registry
{
    private readonly Dictionary<ContainerId, Mapping> _byId = [];
    private readonly Dictionary<string, ContainerId> _byPath = new(StringComparer.Ordinal);

    public int Count => _byId.Count;

    public IEnumerable<Mapping> All => _byId.Values;

    public bool TryGet(ContainerId id, out Mapping mapping) => _byId.TryGetValue(id, out mapping!);

    public void Put(Mapping mapping)
    {
        Remove(mapping.Id);
        _byId[mapping.Id] = mapping;
        if (mapping.CgroupPath.Length > 0)
        {
            _byPath[mapping.CgroupPath] = mapping.Id;
        }
    }

    public bool Remove(ContainerId id)
    {
        if (!_byId.Remove(id, out var old))
        {
            return false;
        }

        if (old.CgroupPath.Length > 0 && _byPath.TryGetValue(old.CgroupPath, out var owner) && owner == id)
        {
            _byPath.Remove(old.CgroupPath);
        }

        return true;
    }

    /// <summary>The container whose cgroup is <paramref name="cgroupPath"/> or its nearest registered ancestor.</summary>
    public Mapping? FindByPath(string cgroupPath) => FindByPath(CgroupPath.Of(cgroupPath).Value.AsSpan());

    /// <summary>
    /// <see cref="FindByPath(string)"/> for a path in normal form (as /proc/PID/cgroup prints it), given as a span: each
    /// ancestor is looked up as a slice of it, no string for any (a lookup by pid tries every line of the pid's file).
    /// </summary>
    public Mapping? FindByPath(ReadOnlySpan<char> normalPath)
    {
        var byPath = _byPath.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var path = normalPath; path.Length > 1;)
        {
            if (byPath.TryGetValue(path, out var id))
            {
                return _byId[id];
            }

            var cut = path.LastIndexOf('/');
            if (cut < 0)
            {
                break;
            }

            path = path[..cut];
        }

        return null;
    }
}
