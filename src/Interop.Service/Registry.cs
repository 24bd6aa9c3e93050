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
    public Mapping? FindByPath(string cgroupPath)
    {
        for (var path = CgroupPath.Of(cgroupPath); !path.IsRoot; path = path.Parent)
        {
            if (_byPath.TryGetValue(path.Value, out var id))
            {
                return _byId[id];
            }
        }

        return null;
    }
}
