// Implementation notes
// - An Interop error reply is the error name plus a body whose first argument is the human message (the D-Bus
//   convention: busctl, gdbus and dbus-send print it) and whose later arguments are the error's typed fields
//   (docs/dbus-api.md, "Errors"). A client rebuilds the exception from the name and the fields, never from the
//   message's wording, and keeps the message as the daemon sent it.
// - Tmds.DBus.Protocol 0.95 writes an error reply with a message only (MessageWriter.WriteError) and turns a received
//   one into DBusErrorReplyException(name, message), dropping every later argument. So the daemon writes its error
//   headers itself and InteropClient reads its replies itself (RawHeader below), with MessageWriter's public
//   primitives, in the layout the library's own WriteHeaderStart uses: the UNIX_FDS field first, whose value and the
//   body length CreateMessage fills in. The round-trip tests over a real bus (InteropBusServiceTests) hold it.
using Interop.Core;
using Interop.Core.Systemd;
using WireConstants = Interop.DBus.Direct.WireConstants;
using Tmds.DBus.Protocol;

namespace Interop.DBus;

/// <summary>An error reply as read off the wire: its name, its body's signature and the values of its leading basic-typed arguments.</summary>
/// <param name="Args">Strings (s, o, g) as <see cref="string"/>, numbers (y, b, n, q, i, u, x, t) as <see cref="long"/>; reading stops at the first other type.</param>
public sealed record ErrorReply(string Name, string Signature, IReadOnlyList<object> Args)
{
    /// <summary>The first argument when it is a string (the D-Bus convention), else empty.</summary>
    public string Message => Args.Count > 0 && Args[0] is string s ? s : string.Empty;
}

/// <summary>The one codec between <see cref="InteropException"/>s and error replies (both directions).</summary>
public static class ErrorCodec
{
    private const string Cgroup = InteropException.Prefix + "Cgroup";
    private const string InvalidArgument = InteropException.Prefix + "InvalidArgument";
    private const string NoSuchContainer = InteropException.Prefix + "NoSuchContainer";
    private const string Conflict = InteropException.Prefix + "Conflict";
    private const string NotInSharedRoot = InteropException.Prefix + "NotInSharedRoot";
    private const string Systemd = InteropException.Prefix + "Systemd";
    private const string AccessDenied = "org.freedesktop.DBus.Error.AccessDenied";

    /// <summary>
    /// The body of <paramref name="error"/>'s reply, in order: the message, then its typed fields (strings, and the
    /// errno as an int32). The one list both writers (the bus object's and the private socket's) write.
    /// </summary>
    public static IReadOnlyList<object> Values(InteropException error) => error switch
    {
        InvalidInputException invalid => [error.Message, invalid.Field, invalid.Reason],
        NoSuchContainerException missing => [error.Message, missing.What],
        ConflictException conflict => [error.Message, conflict.Container],
        NotInSharedRootException outside => [error.Message, outside.Container],
        CgroupException cgroup => [error.Message, cgroup.Operation, cgroup.Path, cgroup.Errno, cgroup.Detail],
        SystemdException systemd => [error.Message, systemd.Subject, systemd.DBusError, systemd.SystemdMessage],
        _ => [error.Message],
    };

    /// <summary>The body signature of <paramref name="error"/>'s reply: the message, then its fields.</summary>
    public static string Signature(InteropException error) =>
        string.Concat(Values(error).Select(v => v is int ? 'i' : 's'));

    /// <summary>Writes <paramref name="error"/>'s body as <see cref="Signature"/> says.</summary>
    public static void WriteBody(ref MessageWriter writer, InteropException error)
    {
        foreach (var value in Values(error))
        {
            if (value is int number)
            {
                writer.WriteInt32(number);
            }
            else
            {
                writer.WriteString((string)value);
            }
        }
    }

    /// <summary>
    /// The exception an error reply stands for: Interop's own by name and typed fields, the bus's "nobody owns the name"
    /// as <see cref="DaemonUnreachableException"/>, anything else as <see cref="DaemonErrorException"/>. A reply whose
    /// signature is not the one its name has (an older interopd: message only) keeps its type with empty fields.
    /// </summary>
    public static Exception ToException(string bus, ErrorReply reply, Exception? inner = null)
    {
        var message = reply.Message;
        var full = reply.Signature switch
        {
            "sss" when reply.Name == InvalidArgument => true,
            "ss" when reply.Name is NoSuchContainer or Conflict or NotInSharedRoot => true,
            "sssis" when reply.Name == Cgroup => true,
            "ssss" when reply.Name == Systemd => true,
            _ => false,
        };
        string Text(int i) => full ? (string)reply.Args[i] : string.Empty;
        switch (reply.Name)
        {
            case "org.freedesktop.DBus.Error.ServiceUnknown":
            case "org.freedesktop.DBus.Error.NameHasNoOwner":
                return new DaemonUnreachableException(bus, $"nobody owns {ObjectPaths.BusName}", inner);
            case AccessDenied:
                return new AccessDeniedException(message);
            case NoSuchContainer:
                return new NoSuchContainerException(message, Text(1));
            case InvalidArgument:
                return new InvalidInputException(message, Text(1), Text(2));
            case Conflict:
                return new ConflictException(message, Text(1));
            case NotInSharedRoot:
                return new NotInSharedRootException(message, Text(1));
            case Cgroup:
                return new CgroupException(message, Text(2), full ? (int)(long)reply.Args[3] : 0, Text(1), Text(4), inner);
            case Systemd:
                return new SystemdException(message, Text(1), Text(2), Text(3), inner);
            default:
                return new DaemonErrorException(reply.Name, message, inner);
        }
    }

    /// <summary>Reads an error message's name and leading basic-typed arguments.</summary>
    internal static ErrorReply Read(Message message)
    {
        var signature = message.SignatureAsString ?? string.Empty;
        var args = new List<object>(signature.Length);
        var reader = message.GetBodyReader();
        try
        {
            foreach (var type in signature)
            {
                object? value = type switch
                {
                    's' => reader.ReadString(),
                    'o' => reader.ReadObjectPathAsString(),
                    'g' => reader.ReadSignatureAsString(),
                    'y' => (long)reader.ReadByte(),
                    'b' => reader.ReadBool() ? 1L : 0L,
                    'n' => (long)reader.ReadInt16(),
                    'q' => (long)reader.ReadUInt16(),
                    'i' => (long)reader.ReadInt32(),
                    'u' => (long)reader.ReadUInt32(),
                    'x' => reader.ReadInt64(),
                    't' => (long)reader.ReadUInt64(),
                    _ => null,
                };
                if (value is null)
                {
                    break;
                }

                args.Add(value);
            }
        }
        catch (Exception)
        {
            // A malformed body: keep what was read (a message with a wrong signature then keeps no fields).
            signature = string.Empty;
        }

        return new ErrorReply(message.ErrorNameAsString ?? "org.freedesktop.DBus.Error.Failed", signature, args);
    }
}

/// <summary>Writes message headers Tmds.DBus.Protocol has no writer for (see the implementation notes above).</summary>
internal static class RawHeader
{
    /// <summary>An error reply's header; the body (<paramref name="signature"/>) follows.</summary>
    public static void WriteError(ref MessageWriter writer, uint serial, uint replySerial, string? destination, string errorName, string signature)
    {
        var fields = Start(ref writer, WireConstants.Error, serial);
        writer.WriteStructureStart();
        writer.WriteByte(WireConstants.FieldReplySerial);
        writer.WriteVariantUInt32(replySerial);
        if (destination is not null)
        {
            WriteStringField(ref writer, WireConstants.FieldDestination, destination);
        }

        WriteStringField(ref writer, WireConstants.FieldErrorName, errorName);
        WriteSignatureField(ref writer, signature);
        writer.WriteArrayEnd(fields);
        writer.WriteStructureStart(); // the body starts 8-aligned
    }

    /// <summary>A method call's header with a serial the caller chose; the body (<paramref name="signature"/>) follows.</summary>
    public static void WriteMethodCall(ref MessageWriter writer, uint serial, string destination, string path, string iface, string member, string? signature)
    {
        var fields = Start(ref writer, WireConstants.MethodCall, serial);
        writer.WriteStructureStart();
        writer.WriteByte(WireConstants.FieldPath);
        writer.WriteVariantObjectPath(path);
        WriteStringField(ref writer, WireConstants.FieldInterface, iface);
        WriteStringField(ref writer, WireConstants.FieldMember, member);
        WriteStringField(ref writer, WireConstants.FieldDestination, destination);
        WriteSignatureField(ref writer, signature);
        writer.WriteArrayEnd(fields);
        writer.WriteStructureStart(); // the body starts 8-aligned
    }

    private static ArrayStart Start(scoped ref MessageWriter writer, byte type, uint serial)
    {
        writer.WriteByte(BitConverter.IsLittleEndian ? (byte)'l' : (byte)'B');
        writer.WriteByte(type);
        writer.WriteByte(0); // flags
        writer.WriteByte(1); // protocol version
        writer.WriteUInt32(0); // body length: CreateMessage writes it
        writer.WriteUInt32(serial);
        var fields = writer.WriteArrayStart(DBusType.Struct);
        writer.WriteStructureStart();
        writer.WriteByte(WireConstants.FieldUnixFds);
        writer.WriteVariantUInt32(0); // CreateMessage writes the count at this fixed offset (20)
        return fields;
    }

    private static void WriteStringField(ref MessageWriter writer, byte code, string value)
    {
        writer.WriteStructureStart();
        writer.WriteByte(code);
        writer.WriteVariantString(value);
    }

    private static void WriteSignatureField(ref MessageWriter writer, string? signature)
    {
        if (!string.IsNullOrEmpty(signature))
        {
            writer.WriteStructureStart();
            writer.WriteByte(WireConstants.FieldSignature);
            writer.WriteVariantSignature(signature);
        }
    }
}
