using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Interop.Core;
using Interop.Linux.Native;

namespace Interop.Linux.Cgroups;

/// <summary>
/// The only code that touches cgroupfs. Every path is a <see cref="Hierarchy.MountPoint"/> plus a
/// relative cgroup path whose components passed <see cref="Names.ValidateComponent"/>, so no path can
/// climb out of its hierarchy with "..", and no symlink below the mount point is followed (cgroupfs has
/// none; one found there means the path is not what it seems and is refused).
/// </summary>
/// <remarks>
/// Implementation notes: mkdir, rmdir and file I/O go through libc so the errno reaches the caller exactly
/// (.NET maps ENOENT/EACCES to other exception types and drops the errno). A control-file write is ONE
/// write() of the whole value: the kernel parses each write() on its own, so a split write would apply half
/// a value. Relative paths are given without a leading '/' ("machine/web.partition"); "" is the hierarchy root.
/// </remarks>
public static class CgroupFs
{
    public const string Procs = "cgroup.procs";
    public const string CloneChildren = "cgroup.clone_children";
    public const string CpusetCpus = "cpuset.cpus";
    public const string CpusetMems = "cpuset.mems";
    public const string Controllers = "cgroup.controllers";
    public const string SubtreeControl = "cgroup.subtree_control";
    public const string MemoryUseHierarchy = "memory.use_hierarchy";

    private const uint DirMode = 0x1ED; // 0755

    /// <summary>
    /// Validates <paramref name="relPath"/> ("" or "/" for the hierarchy root) and returns it without a
    /// leading '/'. Refuses '..', NUL, control characters, empty components and over-long names.
    /// </summary>
    public static string NormalizeRelative(string? relPath, string field = "cgroup path")
    {
        if (relPath is null)
        {
            throw new InvalidInputException(field, "must be given");
        }

        return relPath is "" or "/" ? string.Empty : Names.ValidateRelativePath(relPath, field);
    }

    /// <summary>Joins two relative paths ("" is the root).</summary>
    public static string Join(string parent, string child) =>
        parent.Length == 0 ? child : child.Length == 0 ? parent : parent + "/" + child;

    /// <summary>The parent of a relative path ("" for a first-level dir).</summary>
    public static string ParentOf(string relPath)
    {
        var i = relPath.LastIndexOf('/');
        return i < 0 ? string.Empty : relPath[..i];
    }

    /// <summary>Renders a relative path as the kernel prints cgroup paths ("/machine").</summary>
    public static string Display(string relPath) => "/" + relPath;

    /// <summary>The absolute directory of a validated relative path, refusing symlinks below the mount point.</summary>
    public static string DirOf(Hierarchy hierarchy, string relPath)
    {
        ArgumentNullException.ThrowIfNull(hierarchy);
        var rel = NormalizeRelative(relPath);
        var dir = hierarchy.DirOf(rel);
        RefuseSymlinks(hierarchy, rel);
        return dir;
    }

    public static bool Exists(Hierarchy hierarchy, string relPath) => Directory.Exists(DirOf(hierarchy, relPath));

    /// <summary>Creates one cgroup dir (its parent must exist). Returns false when it already existed.</summary>
    public static bool CreateDir(Hierarchy hierarchy, string relPath)
    {
        var rel = NormalizeRelative(relPath);
        if (rel.Length == 0)
        {
            return false;
        }

        var dir = DirOf(hierarchy, rel);
        if (Libc.Mkdir(dir, DirMode) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno == Libc.EEXIST && Directory.Exists(dir))
        {
            return false;
        }

        throw Error(dir, errno, "mkdir");
    }

    /// <summary>Removes one cgroup dir. Returns false when it did not exist; EBUSY (tasks, zombies or children) throws.</summary>
    public static bool RemoveDir(Hierarchy hierarchy, string relPath)
    {
        var rel = NormalizeRelative(relPath);
        if (rel.Length == 0)
        {
            throw new InvalidInputException("cgroup path", "the hierarchy root is never removed");
        }

        var dir = DirOf(hierarchy, rel);
        if (Libc.Rmdir(dir) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno == Libc.ENOENT)
        {
            return false;
        }

        throw Error(dir, errno, "rmdir");
    }

    /// <summary>Reads a control file. Throws <see cref="CgroupException"/> (ENOENT included) when the kernel refuses.</summary>
    public static string Read(Hierarchy hierarchy, string relPath, string file) =>
        ReadCore(FileOf(hierarchy, relPath, file), missingIsNull: false)!;

    /// <summary>Reads a control file, or null when the dir or file does not exist.</summary>
    public static string? TryRead(Hierarchy hierarchy, string relPath, string file) =>
        ReadCore(FileOf(hierarchy, relPath, file), missingIsNull: true);

    /// <summary>Writes <paramref name="value"/> to a control file in ONE write() call, exactly as given.</summary>
    public static void Write(Hierarchy hierarchy, string relPath, string file, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var path = FileOf(hierarchy, relPath, file);
        var bytes = Encoding.UTF8.GetBytes(value);
        var fd = Libc.Open(path, Libc.OWrOnly | Libc.OCloExec | Libc.ONoFollow);
        if (fd < 0)
        {
            throw Error(path, Marshal.GetLastPInvokeError(), "open for writing");
        }

        try
        {
            nint written;
            unsafe
            {
                fixed (byte* p = bytes)
                {
                    byte dummy = 0;
                    written = Libc.Write(fd, bytes.Length == 0 ? &dummy : p, (nuint)bytes.Length);
                }
            }

            if (written < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw Error(path, errno, $"write '{Printable.Of(value.TrimEnd('\n'))}' to");
            }

            if (written != bytes.Length)
            {
                throw new CgroupException(path, Libc.EIO, "write", $"short write ({written} of {bytes.Length} bytes): the kernel took part of the value");
            }
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }

    /// <summary>Moves a process into a cgroup (writes its pid to cgroup.procs).</summary>
    public static void AddProcess(Hierarchy hierarchy, string relPath, int pid) =>
        Write(hierarchy, relPath, Procs, pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>The pids in a cgroup's cgroup.procs (empty when the dir vanished).</summary>
    public static IReadOnlyList<int> ReadProcs(Hierarchy hierarchy, string relPath)
    {
        var text = TryRead(hierarchy, relPath, Procs);
        if (string.IsNullOrEmpty(text))
        {
            return [];
        }

        var pids = new List<int>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                pids.Add(pid);
            }
        }

        return pids;
    }

    /// <summary>
    /// True when the cgroup or any cgroup below it holds a process, or may: content the walk cannot see (a name
    /// Interop does not address, a depth past <see cref="CgroupTree"/>'s bounds) counts as holding one.
    /// </summary>
    public static bool HasTasks(Hierarchy hierarchy, string relPath)
    {
        var rel = NormalizeRelative(relPath);
        return CgroupTree.MayHoldTasks(DirOf(hierarchy, rel), Display(rel));
    }

    /// <summary>The names of the child cgroups of a dir, sorted; symlinks are skipped; empty when the dir is gone.</summary>
    public static IReadOnlyList<string> ListChildren(Hierarchy hierarchy, string relPath) => ListChildren(hierarchy, relPath, out _);

    /// <summary>
    /// As <see cref="ListChildren(Hierarchy, string)"/>; <paramref name="skipped"/> counts the children whose name
    /// Interop does not address (a control character, not UTF-8): they are left out, and reported once.
    /// </summary>
    public static IReadOnlyList<string> ListChildren(Hierarchy hierarchy, string relPath, out int skipped)
    {
        var rel = NormalizeRelative(relPath);
        var names = new List<string>();
        skipped = CgroupTree.Children(DirOf(hierarchy, rel), Display(rel), names);
        return names;
    }

    /// <summary>
    /// The pids in the cgroup and every cgroup below it that a bounded walk reaches (<see cref="CgroupTree.MaxDepth"/>
    /// levels), at most <paramref name="max"/>; content with names Interop does not address is read all the same.
    /// </summary>
    public static IReadOnlyList<uint> Tasks(Hierarchy hierarchy, string relPath, int max = CgroupTree.MaxTasks)
    {
        var rel = NormalizeRelative(relPath);
        return CgroupTree.Tasks(DirOf(hierarchy, rel), Display(rel), max);
    }

    /// <summary>Every dir strictly below <paramref name="relPath"/>, as relative paths, deepest first.</summary>
    public static IReadOnlyList<string> ListDescendantsDeepestFirst(Hierarchy hierarchy, string relPath)
    {
        var rel = NormalizeRelative(relPath);
        var found = new List<string>();
        Collect(hierarchy, rel, found, 1);
        return found
            .OrderByDescending(p => p.Count(c => c == '/'))
            .ThenBy(p => p, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>What an errno means for a cgroupfs operation, in words an admin can act on.</summary>
    public static string Meaning(int errno) => errno switch
    {
        Libc.ENOSPC => "ENOSPC: no space: the cgroup's cpuset.cpus or cpuset.mems is empty (initialize them from the parent or set cgroup.clone_children=1 on the parent before creating it), or a limit such as pids.max is reached",
        Libc.EBUSY => "EBUSY: busy: the cgroup still has tasks (a zombie counts until it is reaped) or children, or the value conflicts with a child or a task",
        Libc.EINVAL => "EINVAL: invalid argument: the kernel does not accept this value for this file",
        Libc.EEXIST => "EEXIST: already exists",
        Libc.ENOENT => "ENOENT: no such cgroup or control file (the dir is gone or the controller is not in this hierarchy)",
        Libc.EACCES => "EACCES: permission denied (run as root)",
        Libc.EPERM => "EPERM: operation not permitted (run as root)",
        Libc.EROFS => "EROFS: read-only file system: the cgroup hierarchy is mounted read-only",
        Libc.ESRCH => "ESRCH: no such process",
        Libc.ENOTDIR => "ENOTDIR: a component of the path is not a directory",
        Libc.ELOOP => "ELOOP: a symlink was found where a cgroup file was expected",
        Libc.EOPNOTSUPP => "EOPNOTSUPP: not supported: the controller is not enabled for this cgroup or a cgroup v2 rule forbids it",
        Libc.ENOTEMPTY => "ENOTEMPTY: the cgroup still has children",
        _ => Libc.ErrnoName(errno) + ": the kernel refused",
    };

    internal static CgroupException Error(string path, int errno, string operation) =>
        new(path, errno, operation, Meaning(errno));

    private static void Collect(Hierarchy hierarchy, string rel, List<string> found, int depth)
    {
        foreach (var child in ListChildren(hierarchy, rel))
        {
            var childRel = Join(rel, child);
            if (CgroupTree.WithinBounds(hierarchy.DirOf(childRel), depth, Display(childRel)))
            {
                found.Add(childRel);
                Collect(hierarchy, childRel, found, depth + 1);
            }
        }
    }

    private static string FileOf(Hierarchy hierarchy, string relPath, string file)
    {
        Names.ValidateComponent(file, "cgroup file");
        return DirOf(hierarchy, relPath).TrimEnd('/') + "/" + file;
    }

    /// <summary>Mount points known to be cgroupfs (see <see cref="RefuseSymlinks"/>).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> CgroupMounts = new(StringComparer.Ordinal);

    /// <summary>
    /// Refuses a path with a symlink below the mount point. cgroupfs (v1 and v2) has no symlink operation, so below a
    /// real cgroup mount there is nothing to walk: that is known from one statfs per mount point, and the per-component
    /// readlink walk (a syscall per component on every file operation: 16% of interopd's CPU during container starts)
    /// runs only where the "hierarchy" is some other filesystem.
    /// </summary>
    private static void RefuseSymlinks(Hierarchy hierarchy, string rel)
    {
        if (rel.Length == 0 || CgroupMounts.GetOrAdd(hierarchy.MountPoint, IsCgroupFs))
        {
            return;
        }

        var current = hierarchy.MountPoint.TrimEnd('/');
        foreach (var part in rel.Split('/'))
        {
            current += "/" + part;
            if (new FileInfo(current).LinkTarget is not null)
            {
                throw new InvalidInputException("cgroup path", $"'{Printable.Of(current)}' is a symlink; cgroup paths never follow links");
            }
        }
    }

    internal static unsafe bool IsCgroupFs(string mountPoint)
    {
        var buffer = stackalloc byte[256];
        return Libc.Statfs(mountPoint, buffer) == 0 && *(long*)buffer is Libc.CgroupSuperMagic or Libc.Cgroup2SuperMagic;
    }

    internal static string? ReadCore(string path, bool missingIsNull)
    {
        var fd = Libc.Open(path, Libc.ORdOnly | Libc.OCloExec | Libc.ONoFollow);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (missingIsNull && errno == Libc.ENOENT)
            {
                return null;
            }

            throw Error(path, errno, "open for reading");
        }

        try
        {
            if (SmallFile.Read(fd, fromStart: false, out var errno) is { } text)
            {
                return text;
            }

            if (missingIsNull && errno == Libc.ENODEV)
            {
                return null;
            }

            throw Error(path, errno, "read");
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }
}
