using System.Collections.Concurrent;
using Interop.Core;
using Interop.Core.Service;
using Tmds.DBus.Protocol;

namespace Interop.DBus;

/// <summary>
/// Decides whether the sender of a method call may mutate: asks the bus for the sender's uid
/// (org.freedesktop.DBus.GetConnectionUnixUser) and checks it with the injected policy. Never trusts an argument.
/// </summary>
/// <remarks>
/// Lookups are cached per unique name: the bus never reuses a unique name, so a cached uid is never stale.
/// The cache is bounded (cleared when full) so that many short-lived callers cannot grow it without limit.
/// The policy itself is not cached: it is asked on every call.
/// </remarks>
internal sealed class CallerAuthorizer
{
    internal const int MaxCachedSenders = 1024;

    private readonly DBusConnection _connection;
    private readonly Func<uint, bool> _isAllowed;
    private readonly ConcurrentDictionary<string, uint> _uids = new(StringComparer.Ordinal);

    public CallerAuthorizer(DBusConnection connection, Func<uint, bool> isAllowed)
    {
        _connection = connection;
        _isAllowed = isAllowed;
    }

    /// <summary>How many senders are cached (for tests).</summary>
    public int CachedSenders => _uids.Count;

    /// <summary>The caller's uid, once it is known to be allowed.</summary>
    /// <exception cref="AccessDeniedException">when the caller is unknown or not allowed.</exception>
    public async Task<uint> DemandAsync(string? sender, string member)
    {
        if (string.IsNullOrEmpty(sender))
        {
            throw new AccessDeniedException($"{member} needs a caller identity from the bus, and this call has no sender");
        }

        var uid = await GetUidAsync(sender).ConfigureAwait(false);

        // The policy resolves names through NSS, which may ask the network (LDAP, sssd); root's check is a comparison.
        var allowed = uid == 0 ? _isAllowed(uid) : await Blocking.RunAsync(() => _isAllowed(uid)).ConfigureAwait(false);
        if (!allowed)
        {
            throw new AccessDeniedException($"uid {uid} may not call {member} (allowed: see allowed_users in /etc/interop/interop.yaml)");
        }

        return uid;
    }

    private async Task<uint> GetUidAsync(string sender)
    {
        if (_uids.TryGetValue(sender, out var cached))
        {
            return cached;
        }

        uint uid;
        try
        {
            uid = await _connection.CallMethodAsync(CreateLookup(sender), static (Message m, object? _) => m.GetBodyReader().ReadUInt32()).ConfigureAwait(false);
        }
        catch (DBusErrorReplyException ex)
        {
            throw new AccessDeniedException($"cannot identify the caller {sender}: {ex.ErrorMessage}");
        }

        if (_uids.Count >= MaxCachedSenders)
        {
            _uids.Clear();
        }

        _uids[sender] = uid;
        return uid;
    }

    private MessageBuffer CreateLookup(string sender)
    {
        using var writer = _connection.GetMessageWriter();
        writer.WriteMethodCallHeader(
            destination: "org.freedesktop.DBus",
            path: "/org/freedesktop/DBus",
            @interface: "org.freedesktop.DBus",
            member: "GetConnectionUnixUser",
            signature: "s",
            flags: MessageFlags.None);
        writer.WriteString(sender);
        return writer.CreateMessage();
    }
}
