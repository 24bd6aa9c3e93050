namespace Interop.Core.Adapters.Lxc;

/// <summary>
/// Which process is LXC's monitor, the process that runs the hooks and whose cgroup LXC takes as its base with
/// lxc.cgroup.relative = 1 (DESIGN.md section 14).
/// </summary>
/// <remarks>
/// A daemonized start forks the monitor and renames it: setproctitle("[lxc monitor] %s %s", config_path, name)
/// (lxc src/lxc/lxccontainer.c, do_lxcapi_start), so its /proc/PID/cmdline is one word "[lxc monitor] PATH NAME"
/// (or that text split on blanks, depending on how the title was set). A foreground start (<c>lxc-start -F</c>,
/// as lxc@.service runs it) keeps lxc-start's own argv. Hooks run as <c>/bin/sh -c "exec CMD ..."</c>, so the
/// hook's parent is normally the monitor itself; a shell in between (a hook line with more than one command) is
/// walked past.
/// </remarks>
public static class LxcMonitor
{
    private const string TitlePrefix = "[lxc monitor] ";
    private static readonly string[] Shells = ["sh", "dash", "bash", "busybox", "ash", "zsh"];
    private static readonly string[] Starters = ["lxc-start", "lxc-execute"];

    /// <summary>True when the process with <paramref name="argv"/> (from /proc/PID/cmdline) is the monitor of <paramref name="name"/>.</summary>
    public static bool IsMonitor(IReadOnlyList<string> argv, string name)
    {
        if (argv.Count == 0)
        {
            return false;
        }

        var title = string.Join(' ', argv).TrimEnd('\0', ' ');
        if (title.StartsWith(TitlePrefix, StringComparison.Ordinal))
        {
            return title.EndsWith(" " + name, StringComparison.Ordinal);
        }

        return Starters.Contains(Path.GetFileName(argv[0]), StringComparer.Ordinal) && NamedIn(argv, name);
    }

    /// <summary>True when the process is a shell the hook line may have run through (walk past it).</summary>
    public static bool IsShell(IReadOnlyList<string> argv) =>
        argv.Count > 0 && Shells.Contains(Path.GetFileName(argv[0]), StringComparer.Ordinal);

    /// <summary>
    /// Walks up from <paramref name="start"/> (the hook's parent) to the monitor of <paramref name="name"/>.
    /// </summary>
    /// <param name="start">The hook process's parent pid.</param>
    /// <param name="name">The container's name.</param>
    /// <param name="argvOf">The argv of a pid, or null when it is gone.</param>
    /// <param name="parentOf">The parent pid of a pid, or 0.</param>
    /// <returns>The monitor's pid, or 0 when no ancestor up to the first one that is neither a shell nor the monitor is it.</returns>
    public static int Find(int start, string name, Func<int, IReadOnlyList<string>?> argvOf, Func<int, int> parentOf)
    {
        for (int pid = start, hops = 0; pid > 1 && hops < 8; pid = parentOf(pid), hops++)
        {
            var argv = argvOf(pid);
            if (argv is null)
            {
                return 0;
            }

            if (IsMonitor(argv, name))
            {
                return pid;
            }

            if (!IsShell(argv))
            {
                return 0;
            }
        }

        return 0;
    }

    private static bool NamedIn(IReadOnlyList<string> argv, string name)
    {
        for (var i = 1; i < argv.Count; i++)
        {
            var a = argv[i];
            if ((a is "-n" or "--name") && i + 1 < argv.Count && argv[i + 1] == name)
            {
                return true;
            }

            if (a == "--name=" + name || a == "-n" + name)
            {
                return true;
            }
        }

        return false;
    }
}
