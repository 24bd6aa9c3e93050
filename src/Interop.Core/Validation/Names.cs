using System.Text;
using System.Text.RegularExpressions;

namespace Interop.Core;

/// <summary>
/// Validation of everything that becomes part of a cgroup path or a cgroup file name
/// (DESIGN.md section 11). Every path Interop builds is made of components that passed here.
/// </summary>
public static partial class Names
{
    /// <summary>Longest name the kernel accepts for one directory entry, in UTF-8 bytes.</summary>
    public const int MaxComponentBytes = 255;

    private static readonly HashSet<string> DeniedKeys = new(StringComparer.Ordinal)
    {
        "tasks",
        "cgroup.procs",
        "cgroup.threads",
        "release_agent",
        "notify_on_release",
        "cgroup.subtree_control",
        "cgroup.clone_children",
    };

    /// <summary>
    /// Checks one path component (a container name, a dir name): not empty, not "." or "..",
    /// no '/', no NUL or control character, at most 255 UTF-8 bytes.
    /// </summary>
    /// <exception cref="InvalidInputException">naming <paramref name="field"/>.</exception>
    public static string ValidateComponent(string? value, string field)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new InvalidInputException(field, "must not be empty");
        }

        if (value is "." or "..")
        {
            throw new InvalidInputException(field, $"'{value}' is not allowed");
        }

        foreach (var c in value)
        {
            if (c == '/')
            {
                throw new InvalidInputException(field, $"'{Printable.Of(value)}' contains '/'");
            }

            if (c == '\0')
            {
                throw new InvalidInputException(field, $"'{Printable.Of(value)}' contains NUL");
            }

            if (char.IsControl(c))
            {
                throw new InvalidInputException(field, $"'{Printable.Of(value)}' contains a control character");
            }
        }

        if (char.IsSurrogate(value[^1]) || HasLoneSurrogate(value))
        {
            throw new InvalidInputException(field, $"'{Printable.Of(value)}' is not valid UTF-16 text");
        }

        if (Encoding.UTF8.GetByteCount(value) > MaxComponentBytes)
        {
            throw new InvalidInputException(field, $"is longer than {MaxComponentBytes} bytes");
        }

        return value;
    }

    /// <summary>
    /// Checks a relative cgroup path such as "machine" or "machine/web.partition": one or more
    /// '/'-separated components, each valid as in <see cref="ValidateComponent"/>. A leading '/' is
    /// accepted and removed; empty components ("a//b") are refused. Returns the path without a leading '/'.
    /// </summary>
    public static string ValidateRelativePath(string? value, string field)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new InvalidInputException(field, "must not be empty");
        }

        var trimmed = value.StartsWith('/') ? value[1..] : value;
        if (trimmed.Length == 0)
        {
            throw new InvalidInputException(field, "must not be the hierarchy root '/'");
        }

        foreach (var part in trimmed.Split('/'))
        {
            if (part.Length == 0)
            {
                throw new InvalidInputException(field, $"'{Printable.Of(value)}' has an empty component");
            }

            ValidateComponent(part, field);
        }

        return trimmed;
    }

    /// <summary>
    /// Checks a cgroup control file name for GetValue/SetValue: matches ^[a-z0-9_]+\.[a-z0-9_.]+$ and is not
    /// in the deny list (tasks, cgroup.procs, cgroup.threads, release_agent, notify_on_release,
    /// cgroup.subtree_control, cgroup.clone_children).
    /// </summary>
    public static string ValidateKey(string? key)
    {
        if (string.IsNullOrEmpty(key) || !KeyPattern().IsMatch(key))
        {
            throw new InvalidInputException("key", $"'{Printable.Of(key)}' is not a cgroup key (expected controller.setting, e.g. memory.limit_in_bytes)");
        }

        if (DeniedKeys.Contains(key))
        {
            throw new InvalidInputException("key", $"'{key}' may not be read or written through Interop");
        }

        return key;
    }

    /// <summary>Checks a value to write into a cgroup file: one non-empty line, no NUL or control characters except a trailing newline, at most 4096 bytes.</summary>
    public static string ValidateValue(string? value)
    {
        if (value is null)
        {
            throw new InvalidInputException("value", "must be given");
        }

        var body = value.EndsWith('\n') ? value[..^1] : value;
        if (body.Length == 0)
        {
            // An empty write() is a silent no-op in cgroupfs: refuse it rather than report success.
            throw new InvalidInputException("value", "must not be empty");
        }

        foreach (var c in body)
        {
            if (char.IsControl(c))
            {
                throw new InvalidInputException("value", $"'{Printable.Of(value)}' contains a control character");
            }
        }

        if (Encoding.UTF8.GetByteCount(body) > 4096)
        {
            throw new InvalidInputException("value", "is longer than 4096 bytes");
        }

        return body;
    }

    /// <summary>Checks a pid from a hook, XML or D-Bus: a positive number other than 1 that fits a pid_t.</summary>
    public static int ValidatePid(long pid, string field = "pid")
    {
        if (pid <= 1 || pid > int.MaxValue)
        {
            throw new InvalidInputException(field, $"{pid} is not a usable pid (must be greater than 1)");
        }

        return (int)pid;
    }

    /// <summary>Parses a pid given as text (hook argv or environment).</summary>
    public static int ParsePid(string? text, string field = "pid")
    {
        if (string.IsNullOrEmpty(text) || text.Length > 10 || !text.All(char.IsAsciiDigit))
        {
            throw new InvalidInputException(field, $"'{Printable.Of(text)}' is not a pid");
        }

        return ValidatePid(long.Parse(text, System.Globalization.CultureInfo.InvariantCulture), field);
    }

    private static bool HasLoneSurrogate(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]))
            {
                if (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1]))
                {
                    return true;
                }

                i++;
            }
            else if (char.IsLowSurrogate(value[i]))
            {
                return true;
            }
        }

        return false;
    }

    [GeneratedRegex("^[a-z0-9_]+\\.[a-z0-9_.]+$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();
}
