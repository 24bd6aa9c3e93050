namespace Interop.Linux.Discovery;

/// <summary>Whether systemd is PID 1 (sd_booted(3)): it is iff /run/systemd/system exists.</summary>
public static class SystemdBoot
{
    /// <param name="root">The file system root to look under ("/" on the host; a temp dir in tests).</param>
    public static bool IsBooted(string root = "/") => Directory.Exists(Path.Combine(root, "run/systemd/system"));
}
