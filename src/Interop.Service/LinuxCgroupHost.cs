using Interop.Core;
using Interop.Core.Model;
using Interop.Linux.Cgroups;
using Interop.Linux.Discovery;
using Interop.Linux.Proc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Interop.Service;

/// <summary>
/// The real host: the hierarchies discovered from mountinfo at start, cgroupfs through <see cref="CgroupFs"/>,
/// <see cref="SharedRoot"/> and <see cref="Pruner"/>, /proc through <see cref="ProcCgroup"/> and <see cref="ProcFs"/>, and
/// managers' pid files through <see cref="PidFiles"/>.
/// </summary>
public sealed class LinuxCgroupHost : ICgroupHost, IDisposable
{
    private readonly ILogger _log;

    private readonly IReadOnlyList<Hierarchy> _hierarchies;
    private readonly IReadOnlyList<Hierarchy> _writable;
    private readonly Dictionary<string, Hierarchy> _byKey;
    private readonly SharedRootOptions _options;
    private readonly string _procRoot;
    private readonly string _sharedRoot;
    private readonly Lazy<CheckedDirs?> _checked = new(CheckedDirs.Create);
    private readonly Lazy<ChildDirs?> _children;

    /// <param name="hierarchies">The mounted hierarchies.</param>
    /// <param name="sharedRoot">The shared root every per-container operation is confined to ("/machine").</param>
    /// <param name="boundary">The highest cgroup that may be written ("/" = the hierarchy root).</param>
    /// <param name="procRoot">Where /proc is.</param>
    /// <param name="writable">
    /// Which hierarchies (by key) Interop may create, initialize and remove dirs in; all when null. On a systemd host
    /// these are the ones systemd does not manage: there the units' cgroups are systemd's (DESIGN.md section 14).
    /// </param>
    /// <param name="log">Where it logs (nothing when null).</param>
    public LinuxCgroupHost(IReadOnlyList<Hierarchy> hierarchies, string sharedRoot, string boundary = "/", string procRoot = "/proc", Func<string, bool>? writable = null, ILogger<LinuxCgroupHost>? log = null)
    {
        _log = log ?? NullLogger<LinuxCgroupHost>.Instance;
        _hierarchies = hierarchies;
        _writable = writable is null ? hierarchies : [.. hierarchies.Where(h => writable(h.Key))];
        _sharedRoot = CgroupFs.NormalizeRelative(sharedRoot, "shared root");
        _byKey = hierarchies.ToDictionary(h => h.Key, StringComparer.Ordinal);
        _options = new SharedRootOptions { Boundary = CgroupPath.Of(boundary).Relative };
        _procRoot = procRoot;
        _children = new(() => ChildDirs.Create(hierarchies));

        // What containers make inside their cgroups is skipped, never fatal: one warning per dir names it.
        if (CgroupTree.Logger == Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance)
        {
            CgroupTree.Logger = _log;
        }
        Mode = HierarchyDiscovery.Classify(hierarchies).ToWire();
        Hierarchies = [.. hierarchies.Select(h => (h.Key, h.MountPoint))];
    }

    public string Mode { get; }

    public IReadOnlyList<(string Key, string MountPoint)> Hierarchies { get; }

    public static LinuxCgroupHost FromHost(string sharedRoot, string boundary = "/", ILogger<LinuxCgroupHost>? log = null) => new(HierarchyDiscovery.FromHost(), sharedRoot, boundary, log: log);

    public IReadOnlyList<string> Setup(string sharedRootDir) => SharedRoot.Setup(_writable, sharedRootDir, _options);

    public IReadOnlyList<string> EnsureReady(string dir)
    {
        var target = CgroupFs.NormalizeRelative(dir);
        var done = new List<string>();
        var actions = Checked(_sharedRoot, _options.Boundary, hs => SharedRoot.Setup(hs, _sharedRoot, _options), done);
        if (target != _sharedRoot)
        {
            actions.AddRange(Checked(target, _sharedRoot, hs => SharedRoot.EnsureDir(hs, _sharedRoot, target, _options), done));
        }

        LastChecked = [.. done.Distinct()];
        _children.Value?.Keep(target); // a container's parent: every prepare and release lists it
        return actions;
    }

    /// <summary>Hierarchies checked by the last <see cref="EnsureReady"/> (for tests: the others were skipped).</summary>
    internal IReadOnlyList<string> LastChecked { get; private set; } = [];

    public void Dispose()
    {
        if (_checked.IsValueCreated)
        {
            _checked.Value?.Dispose();
        }

        if (_children.IsValueCreated)
        {
            _children.Value?.Dispose();
        }
    }

    /// <summary>
    /// Runs <paramref name="ensure"/> on the writable hierarchies where <paramref name="target"/> is not known to be in
    /// order (<see cref="CheckedDirs"/>): the dirs from <paramref name="top"/> down to it are watched first, and recorded
    /// once the check passed. A v1 cpuset is re-read every time: a CPU going offline empties it without a write. On v1
    /// a write into <paramref name="top"/>'s own files does not count: the check reads only the cpuset there, and a
    /// usable cpuset below implies one above (the kernel keeps a child's within its parent's). LXC writes the cpuset
    /// files of the first level below the hierarchy root at every start.
    /// </summary>
    private List<string> Checked(string target, string top, Func<IReadOnlyList<Hierarchy>, IReadOnlyList<string>> ensure, List<string> done)
    {
        var record = _checked.Value;
        var known = record?.CheckedKeys(target);
        var todo = _writable.Where(h => known is null || !known.Contains(h.Key) || !CpusetUsable(h, target)).ToList();
        done.AddRange(todo.Select(h => h.Key));
        if (todo.Count == 0)
        {
            return [];
        }

        var tokens = todo.Select(h => record?.Watch(h.Key, [CgroupFs.DirOf(h, top), .. SharedRoot.LevelsBelow(top, target).Select(l => CgroupFs.DirOf(h, l))], topFiles: h.IsUnified) ?? -1).ToList();
        var actions = ensure(todo);
        for (var i = 0; i < todo.Count; i++)
        {
            record?.MarkChecked(todo[i].Key, target, tokens[i]);
        }

        return [.. actions];
    }

    private static bool CpusetUsable(Hierarchy h, string dir) =>
        h.IsUnified || !h.Has("cpuset")
        || (!string.IsNullOrWhiteSpace(CgroupFs.TryRead(h, dir, CgroupFs.CpusetCpus)) && !string.IsNullOrWhiteSpace(CgroupFs.TryRead(h, dir, CgroupFs.CpusetMems)));

    public IReadOnlySet<string> ListChildren(string dir)
    {
        if (_children.IsValueCreated && _children.Value?.Of(CgroupFs.NormalizeRelative(dir)) is { } kept)
        {
            return kept;
        }

        return ListEveryHierarchy(dir);
    }

    public IReadOnlyList<string> ListChildren(string dir, Func<string, bool> where)
    {
        ArgumentNullException.ThrowIfNull(where);
        if (_children.IsValueCreated && _children.Value?.Of(CgroupFs.NormalizeRelative(dir), where) is { } kept)
        {
            return kept;
        }

        return [.. ListEveryHierarchy(dir).Where(where)];
    }

    private HashSet<string> ListEveryHierarchy(string dir)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var h in _hierarchies)
        {
            names.UnionWith(CgroupFs.ListChildren(h, dir));
        }

        return names;
    }

    public bool HasTasks(string dir) => _hierarchies.Any(h => CgroupFs.Exists(h, dir) && CgroupFs.HasTasks(h, dir));

    public IReadOnlyList<string> RemoveIfEmpty(string dir) =>
        [.. Pruner.RemoveIfEmpty(_writable, _sharedRoot, dir).Select(r => r.ToString())];

    public IReadOnlyList<string> Prune(string sharedRootDir, bool dryRun, Func<string, bool> isOwned) =>
        [.. Pruner.Prune(_writable, sharedRootDir, dryRun, isOwned).Select(r => r.ToString())];

    public IReadOnlyDictionary<string, string>? ReadProcCgroup(int pid)
    {
        var path = ProcFs.PidPath(_procRoot, pid, "cgroup");
        return ProcFs.TryReadPidFile(path) is { } text ? ProcCgroup.PathsByKey(_hierarchies, text, path) : null;
    }

    public bool? AnyCgroupPath(int pid, CgroupPathTest test)
    {
        var path = ProcFs.PidPath(_procRoot, pid, "cgroup");
        return ProcFs.TryReadPidFile(path) is { } text ? ProcCgroup.Any(text, _hierarchies, test, path) : null;
    }

    /// <summary>
    /// True when the pid lives at <paramref name="dir"/> or below it in some hierarchy, false when it is gone: what
    /// <see cref="ReadProcCgroup"/> tells, without building its map. Start-up reconcile asks it once per mapping
    /// (10,000 times on a big host), and only a line at or below the dir needs its hierarchy matched.
    /// </summary>
    public bool IsAtOrBelow(int pid, CgroupPath dir)
    {
        var path = ProcFs.PidPath(_procRoot, pid, "cgroup");
        return ProcFs.TryReadPidFile(path) is { } text && ProcCgroup.AnyAtOrBelow(text, dir, _hierarchies, path);
    }

    public bool IsAlive(int pid) => ProcFs.IsAlive(pid, _procRoot);

    public bool HasPrivateCgroupNamespace(int pid) => ProcFs.HasPrivateCgroupNamespace(pid, _procRoot) == true;

    public IReadOnlyList<uint> Tasks(string key, string dir) => CgroupFs.Tasks(Hierarchy(key), dir);

    public int ParentOf(int pid) => ProcFs.TryReadStat(pid, _procRoot)?.ParentPid ?? 0;

    public string? HierarchyOf(string controller) => _hierarchies.FindByController(controller)?.Key;

    public string ReadValue(string key, string dir, string file) => CgroupFs.Read(Hierarchy(key), dir, Names.ValidateKey(file));

    public void WriteValue(string key, string dir, string file, string value) => CgroupFs.Write(Hierarchy(key), dir, Names.ValidateKey(file), value);

    public string AbsoluteDir(string key, string dir) => CgroupFs.DirOf(Hierarchy(key), dir);

    public IReadOnlyList<string> EnsureDirIn(string key, string dir)
    {
        var h = Hierarchy(key);
        if (_writable.Contains(h))
        {
            return SharedRoot.EnsureDir([h], _sharedRoot, dir, _options);
        }

        // A hierarchy Interop does not prepare (systemd's, where systemd did not realize the unit): the missing
        // levels only, top-down, and nothing written into an existing one.
        var rel = CgroupFs.NormalizeRelative(dir);
        if (!CgroupPath.Of(rel).IsBelow(CgroupPath.Of(_sharedRoot)))
        {
            throw new InvalidInputException("cgroup path", $"'{Printable.Of(CgroupFs.Display(rel))}' is not below the shared root {CgroupFs.Display(_sharedRoot)}");
        }

        var actions = new List<string>();
        var path = "";
        foreach (var part in rel.Split('/'))
        {
            path = path.Length == 0 ? part : CgroupFs.Join(path, part);
            if (CgroupFs.CreateDir(h, path))
            {
                actions.Add($"{key}: created {CgroupFs.Display(path)}");
            }
        }

        return actions;
    }

    public void MoveProcess(string key, string dir, int pid) => CgroupFs.AddProcess(Hierarchy(key), CgroupFs.NormalizeRelative(dir), pid);

    public IReadOnlyList<string> RemoveIfEmptyIn(string key, string dir) =>
        [.. Pruner.RemoveIfEmpty([Hierarchy(key)], _sharedRoot, dir).Select(r => r.ToString())];

    public IReadOnlyList<string>? ReadCmdline(int pid) => ProcFs.TryReadCmdline(pid, _procRoot);

    public IReadOnlyList<string> PidFileNames(string runDir, int pid) =>
        PidFiles.NamesHolding(runDir, pid, (file, e) => _log.LogDebug("skipping pid file {0}: {1}", file, e.Message));

    private Hierarchy Hierarchy(string key) =>
        _byKey.TryGetValue(key, out var h) ? h : throw new InvalidInputException("hierarchy", $"'{Printable.Of(key)}' is not a mounted hierarchy");
}
