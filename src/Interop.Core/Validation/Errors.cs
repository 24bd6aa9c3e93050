namespace Interop.Core;

/// <summary>
/// Base of every error Interop reports to a caller. <see cref="ErrorName"/> is the D-Bus error name;
/// the message is one line that says what is wrong and what to do. The typed properties of each subclass are
/// what crosses the bus after the message (docs/dbus-api.md, "Errors"); a client rebuilds the exception from
/// the name and those fields and keeps the daemon's message as it was sent.
/// </summary>
public abstract class InteropException : Exception
{
    public const string Prefix = "org.interop.Interop1.Error.";

    protected InteropException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    public abstract string ErrorName { get; }
}

/// <summary>Hostile or malformed input: a name, key, path, pid or document that is refused before anything changes.</summary>
public sealed class InvalidInputException : InteropException
{
    public InvalidInputException(string field, string reason)
        : this($"invalid {field}: {reason}", field, reason)
    {
    }

    /// <summary>An error as a client received it: the daemon's message and its fields.</summary>
    public InvalidInputException(string message, string field, string reason)
        : base(message)
    {
        Field = field;
        Reason = reason;
    }

    /// <summary>What was refused ("name", "pid", "key", ...).</summary>
    public string Field { get; }

    /// <summary>Why, in words.</summary>
    public string Reason { get; }

    public override string ErrorName => Prefix + "InvalidArgument";
}

public sealed class NoSuchContainerException : InteropException
{
    public NoSuchContainerException(string what)
        : this($"no such container: {what}", what)
    {
    }

    /// <summary>An error as a client received it: the daemon's message and its field.</summary>
    public NoSuchContainerException(string message, string what)
        : base(message)
    {
        What = what;
    }

    /// <summary>The container as the caller asked for it ("lxc/web", "pid 4242", a cgroup path).</summary>
    public string What { get; }

    public override string ErrorName => Prefix + "NoSuchContainer";
}

/// <summary>A live container or a populated dir stands in the way.</summary>
public sealed class ConflictException : InteropException
{
    /// <param name="container">The container the refused call was about ("lxc/web"); empty when none.</param>
    public ConflictException(string message, string container = "")
        : base(message)
    {
        Container = container;
    }

    /// <summary>The container the refused call was about ("lxc/web"); empty when none.</summary>
    public string Container { get; }

    public override string ErrorName => Prefix + "Conflict";
}

/// <summary>The container lives outside the shared root and policy is strict.</summary>
public sealed class NotInSharedRootException : InteropException
{
    /// <param name="container">The container that lives outside ("lxc/web"); empty when the call named none.</param>
    public NotInSharedRootException(string message, string container = "")
        : base(message)
    {
        Container = container;
    }

    /// <summary>The container that lives outside ("lxc/web"); empty when the call named none.</summary>
    public string Container { get; }

    public override string ErrorName => Prefix + "NotInSharedRoot";
}

/// <summary>The kernel refused a cgroupfs operation: names the file and the errno.</summary>
public sealed class CgroupException : InteropException
{
    public CgroupException(string path, int errno, string operation, string detail, Exception? inner = null)
        : this($"{operation} {path}: {detail} (errno {errno})", path, errno, operation, detail, inner)
    {
    }

    /// <summary>An error as a client received it: the daemon's message and its fields.</summary>
    public CgroupException(string message, string path, int errno, string operation, string detail, Exception? inner = null)
        : base(message, inner)
    {
        Path = path;
        Errno = errno;
        Operation = operation;
        Detail = detail;
    }

    /// <summary>The file or dir the kernel refused.</summary>
    public string Path { get; }

    public int Errno { get; }

    /// <summary>What was tried ("write", "mkdir", "rmdir", "read", ...).</summary>
    public string Operation { get; }

    /// <summary>The kernel's refusal in words ("EBUSY: ...").</summary>
    public string Detail { get; }

    public override string ErrorName => Prefix + "Cgroup";
}

/// <summary>The caller may not do this (checked with the bus, never from an argument).</summary>
public sealed class AccessDeniedException : InteropException
{
    public AccessDeniedException(string message)
        : base(message)
    {
    }

    public override string ErrorName => "org.freedesktop.DBus.Error.AccessDenied";
}
