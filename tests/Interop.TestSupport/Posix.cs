using System.Globalization;
using System.Runtime.InteropServices;

namespace Interop.TestSupport;

/// <summary>
/// The libc calls the test runners need: signals by pid, rmdir with its errno, and directory fds (so a tree
/// deeper than PATH_MAX is reached by short paths). The product's own P/Invoke class (Interop.Linux.Native.Libc)
/// is internal to the product; this one serves the tests only.
/// </summary>
public static partial class Posix
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int ENOENT = 2;
    public const int EBUSY = 16;

    /// <summary>O_RDONLY | O_DIRECTORY | O_CLOEXEC.</summary>
    private const int OpenDirectory = 0x10000 | 0x80000;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "rmdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Rmdir(string path);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    /// <summary>Mode 0755 on <paramref name="dir"/>: a caller running as another uid (setpriv) reaches the sockets in it.</summary>
    public static void MakeReachableByAll(string dir)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the test rigs run on Linux");
        }

        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    /// <summary>True while /proc/PID exists and the task is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..];
            return !state.StartsWith('Z') && !state.StartsWith('X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> with a short path to the directory <paramref name="dir"/> (/proc/self/fd/N
    /// of an fd open on it), however long its real path is. False when the directory cannot be opened.
    /// </summary>
    public static bool WithDirFd(string dir, Action<string> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var fd = Open(dir, OpenDirectory);
        if (fd < 0)
        {
            return false;
        }

        try
        {
            action("/proc/self/fd/" + fd.ToString(CultureInfo.InvariantCulture));
        }
        finally
        {
            Close(fd);
        }

        return true;
    }
}
