namespace Interop.Core;

/// <summary>
/// Base of every error Interop reports to a caller. <see cref="ErrorName"/> is the D-Bus error name;
/// the message is one line that says what is wrong and what to do.
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
        : base($"invalid {field}: {reason}")
    {
        Field = field;
    }

    public string Field { get; }

    public override string ErrorName => Prefix + "InvalidArgument";
}

public sealed class NoSuchContainerException : InteropException
{
    public NoSuchContainerException(string what)
        : base($"no such container: {what}")
    {
    }

    public override string ErrorName => Prefix + "NoSuchContainer";
}

/// <summary>A live container or a populated dir stands in the way.</summary>
public sealed class ConflictException : InteropException
{
    public ConflictException(string message)
        : base(message)
    {
    }

    public override string ErrorName => Prefix + "Conflict";
}

/// <summary>The container lives outside the shared root and policy is strict.</summary>
public sealed class NotInSharedRootException : InteropException
{
    public NotInSharedRootException(string message)
        : base(message)
    {
    }

    public override string ErrorName => Prefix + "NotInSharedRoot";
}

/// <summary>The kernel refused a cgroupfs operation: names the file and the errno.</summary>
public sealed class CgroupException : InteropException
{
    public CgroupException(string path, int errno, string operation, string detail, Exception? inner = null)
        : base($"{operation} {path}: {detail} (errno {errno})", inner)
    {
        Path = path;
        Errno = errno;
    }

    public string Path { get; }

    public int Errno { get; }

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
