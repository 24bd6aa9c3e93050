using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Interop.Linux.Cgroups;
using Interop.Linux.Native;

namespace Interop.Linux.Tests.Support;

/// <summary>
/// A unique scratch cgroup <c>interop-test-&lt;random&gt;</c> in each given hierarchy of the real host, plus
/// the processes a test starts in it. Dispose kills those processes by pid, reaps them, and removes every
/// dir below the scratch root deepest first (retrying EBUSY briefly while the kernel lets go of a reaped
/// task), even when the test failed. In the cpuset hierarchy the scratch root gets the hierarchy root's
/// cpus/mems so it can stand in for the root (its clone_children stays 0, like a real root's).
/// </summary>
public sealed class ScratchCgroup : IDisposable
{
    private const int RmdirAttempts = 100;

    private readonly List<Hierarchy> _created = [];
    private readonly List<Process> _processes = [];
    private bool _disposed;

    public ScratchCgroup(params Hierarchy[] hierarchies)
    {
        Name = "interop-test-" + Guid.NewGuid().ToString("N")[..12];
        Hierarchies = hierarchies;
        try
        {
            foreach (var h in hierarchies)
            {
                if (Libc.Mkdir(h.DirOf(Name), 0x1ED) != 0)
                {
                    throw new InvalidOperationException($"mkdir {h.DirOf(Name)} failed with errno {Marshal.GetLastPInvokeError()}");
                }

                _created.Add(h);
                if (h.Has("cpuset"))
                {
                    CgroupFs.Write(h, Name, CgroupFs.CpusetCpus, CgroupFs.Read(h, string.Empty, CgroupFs.CpusetCpus).Trim());
                    CgroupFs.Write(h, Name, CgroupFs.CpusetMems, CgroupFs.Read(h, string.Empty, CgroupFs.CpusetMems).Trim());
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The scratch root's name, also its path relative to each hierarchy root.</summary>
    public string Name { get; }

    public IReadOnlyList<Hierarchy> Hierarchies { get; }

    public Hierarchy this[string key] => Hierarchies.Single(h => h.Key == key);

    /// <summary>A path below the scratch root, relative to the hierarchy root ("" = the scratch root).</summary>
    public string Rel(string sub = "") => sub.Length == 0 ? Name : Name + "/" + sub;

    /// <summary>Starts <c>sleep 60</c>; Dispose kills and reaps it.</summary>
    public Process StartSleep()
    {
        var process = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })
            ?? throw new InvalidOperationException("could not start sleep");
        _processes.Add(process);
        return process;
    }

    /// <summary>Every dir below the scratch root in <paramref name="h"/>, relative to the scratch root, sorted.</summary>
    public IReadOnlyList<string> Listing(Hierarchy h)
    {
        var root = h.DirOf(Name);
        if (!Directory.Exists(root))
        {
            return [];
        }

        return Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories)
            .Select(d => Path.GetRelativePath(root, d))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }

                process.WaitForExit();
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
            finally
            {
                process.Dispose();
            }
        }

        var failures = new List<string>();
        foreach (var h in _created)
        {
            var root = h.DirOf(Name);
            if (!Directory.Exists(root))
            {
                continue;
            }

            var dirs = Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories)
                .OrderByDescending(d => d.Count(c => c == '/'))
                .Append(root);
            foreach (var dir in dirs)
            {
                if (!RemoveWithRetry(dir, out var errno))
                {
                    failures.Add($"{dir} (errno {errno.ToString(CultureInfo.InvariantCulture)})");
                }
            }
        }

        if (failures.Count > 0)
        {
            TestContext.Error.WriteLine("ScratchCgroup could not remove: " + string.Join(", ", failures));
        }
    }

    private static bool RemoveWithRetry(string dir, out int errno)
    {
        errno = 0;
        for (var attempt = 0; attempt < RmdirAttempts; attempt++)
        {
            if (Libc.Rmdir(dir) == 0)
            {
                return true;
            }

            errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.ENOENT)
            {
                return true;
            }

            if (errno != Libc.EBUSY)
            {
                return false;
            }

            Thread.Sleep(20); // the kernel releases a reaped task's cgroup asynchronously
        }

        return false;
    }
}
