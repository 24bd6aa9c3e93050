using System.Buffers.Binary;
using System.Text;

namespace Interop.DBus.Direct;

/// <summary>
/// Writes one D-Bus message (little-endian, protocol version 1) with the few body types the lifecycle calls
/// use: s, u and a{ss}. Alignment is counted from the start of the body, which the header pads to 8.
/// </summary>
internal sealed class MessageWriter
{
    private byte[] _buffer = new byte[512];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    /// <summary>A method call: header fields path, interface, member, destination and (if any) signature, then the body.</summary>
    public static byte[] MethodCall(uint serial, string destination, string path, string iface, string member, string signature, MessageWriter? body) =>
        Compose(WireConstants.MethodCall, 0, serial, signature, body, header =>
        {
            header.Field(WireConstants.FieldPath, "o", path);
            header.Field(WireConstants.FieldInterface, "s", iface);
            header.Field(WireConstants.FieldMember, "s", member);
            header.Field(WireConstants.FieldDestination, "s", destination);
        });

    /// <summary>A method return (<paramref name="errorName"/> null) or an error answering <paramref name="replySerial"/>.</summary>
    public static byte[] Reply(uint serial, uint replySerial, string? errorName, string signature, MessageWriter? body) =>
        Compose(errorName is null ? WireConstants.MethodReturn : WireConstants.Error, 1 /* NO_REPLY_EXPECTED */, serial, signature, body, header =>
        {
            header.Pad(8);
            header.Byte(WireConstants.FieldReplySerial);
            header.Signature("u");
            header.UInt32(replySerial);
            if (errorName is not null)
            {
                header.Field(WireConstants.FieldErrorName, "s", errorName);
            }
        });

    private static byte[] Compose(byte type, byte flags, uint serial, string signature, MessageWriter? body, Action<MessageWriter> fields)
    {
        var bodyBytes = body is null ? [] : body.Written;
        var header = new MessageWriter();
        header.Byte((byte)'l');
        header.Byte(type);
        header.Byte(flags);
        header.Byte(1);
        header.UInt32((uint)bodyBytes.Length);
        header.UInt32(serial);
        var array = header.BeginArray(8);
        fields(header);
        if (signature.Length > 0)
        {
            header.Pad(8);
            header.Byte(WireConstants.FieldSignature);
            header.Signature("g");
            header.Signature(signature);
        }

        header.EndArray(array);
        header.Pad(8);
        var message = new byte[header.Length + bodyBytes.Length];
        header.Written.CopyTo(message);
        bodyBytes.CopyTo(message.AsSpan(header.Length));
        return message;
    }

    public void Byte(byte value)
    {
        Ensure(1);
        _buffer[Length++] = value;
    }

    public void UInt32(uint value)
    {
        Pad(4);
        Ensure(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(Length), value);
        Length += 4;
    }

    /// <exception cref="ArgumentException">the text holds a NUL, which no D-Bus string may.</exception>
    public void String(string value)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("a D-Bus string cannot hold a NUL character", nameof(value));
        }

        var count = Encoding.UTF8.GetByteCount(value);
        UInt32((uint)count);
        Ensure(count + 1);
        Length += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(Length));
        _buffer[Length++] = 0;
    }

    public void Signature(string value)
    {
        Ensure(value.Length + 2);
        _buffer[Length++] = (byte)value.Length;
        Length += Encoding.ASCII.GetBytes(value, _buffer.AsSpan(Length));
        _buffer[Length++] = 0;
    }

    /// <summary>An a{ss}: the length, padding to the entries' 8-byte alignment, then key and value per entry.</summary>
    public void StringDictionary(IReadOnlyDictionary<string, string> values)
    {
        var array = BeginArray(8);
        foreach (var (key, value) in values)
        {
            Pad(8);
            String(key);
            String(value);
        }

        EndArray(array);
    }

    private (int LengthAt, int Start) BeginArray(int elementAlignment)
    {
        UInt32(0);
        var lengthAt = Length - 4;
        Pad(elementAlignment);
        return (lengthAt, Length);
    }

    // The array length counts the elements only, not the padding before the first one.
    private void EndArray((int LengthAt, int Start) array)
        => BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(array.LengthAt), (uint)(Length - array.Start));

    private void Field(byte code, string signature, string value)
    {
        Pad(8);
        Byte(code);
        Signature(signature);
        String(value);
    }

    private void Pad(int alignment)
    {
        while (Length % alignment != 0)
        {
            Byte(0);
        }
    }

    private void Ensure(int more)
    {
        if (Length + more > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + more));
        }
    }
}

/// <summary>
/// What a reply says: its type, what it answers, the error name and the body's first value; for an error, also its
/// leading s, o, g, u, i and b arguments (strings as string, numbers as long), which carry its typed fields.
/// </summary>
internal sealed record ReplyMessage(byte Type, uint ReplySerial, string? ErrorName, string Signature, string? FirstString, uint? FirstUInt32)
{
    public IReadOnlyList<object> ErrorArgs { get; init; } = [];
}

/// <summary>
/// Reads the messages the bus sends back: either byte order, every header field the specification defines
/// (unknown codes are skipped by their signature), and of the body only a leading s, o, b or u (an error: its
/// leading basic-typed arguments).
/// </summary>
internal static class MessageReader
{
    /// <summary>The specification's limit on a whole message (2^27 bytes).</summary>
    public const int MaxMessageLength = 134217728;

    /// <summary>The length of the message at the start of <paramref name="data"/>, or 0 when not even the fixed header is there.</summary>
    /// <exception cref="InvalidDataException">not a D-Bus message, or one longer than the specification allows.</exception>
    public static int MessageLength(ReadOnlySpan<byte> data)
    {
        if (data.Length < 16)
        {
            return 0;
        }

        var big = Endianness(data[0]);
        if (data[3] != 1)
        {
            throw new InvalidDataException($"the bus speaks protocol version {data[3]}, not 1");
        }

        long fields = ReadUInt32(data[12..], big);
        long body = ReadUInt32(data[4..], big);
        var total = Align(16 + fields, 8) + body;
        return total > MaxMessageLength ? throw new InvalidDataException($"the bus sent a message of {total} bytes, more than D-Bus allows") : (int)total;
    }

    /// <exception cref="InvalidDataException">a malformed message.</exception>
    public static ReplyMessage Parse(ReadOnlySpan<byte> message)
    {
        // Every index below is checked: a hostile or truncated message is an InvalidDataException, never another exception.
        Need(message, 0, 16);
        var big = Endianness(message[0]);
        var type = message[1];
        var bodyLength = (int)ReadUInt32(message[4..], big);
        var fieldsLength = ReadUInt32(message[12..], big);
        if (fieldsLength > (uint)(message.Length - 16) || bodyLength < 0)
        {
            throw new InvalidDataException("the header fields run past the end of the message");
        }

        var fieldsEnd = 16 + (int)fieldsLength;
        var pos = 16;
        uint replySerial = 0;
        string? errorName = null;
        var signature = string.Empty;
        while (pos < fieldsEnd)
        {
            pos = Align(pos, 8);
            Need(message, pos, 1);
            var code = message[pos++];
            var fieldSignature = ReadSignature(message, ref pos);
            switch (fieldSignature)
            {
                case "u":
                    var number = ReadUInt32At(message, ref pos, big);
                    replySerial = code == WireConstants.FieldReplySerial ? number : replySerial;
                    break;
                case "s" or "o":
                    var text = ReadString(message, ref pos, big);
                    errorName = code == WireConstants.FieldErrorName ? text : errorName;
                    break;
                case "g":
                    var sig = ReadSignature(message, ref pos);
                    signature = code == WireConstants.FieldSignature ? sig : signature;
                    break;
                default:
                    throw new InvalidDataException($"header field {code} has type '{fieldSignature}', which no D-Bus header field has");
            }
        }

        var bodyStart = Align(fieldsEnd, 8);
        if ((long)bodyStart + bodyLength > message.Length)
        {
            throw new InvalidDataException("the message is shorter than its header says");
        }

        var body = message.Slice(bodyStart, bodyLength);
        string? firstString = null;
        uint? firstUInt32 = null;
        var at = 0;
        if (signature.Length > 0)
        {
            switch (signature[0])
            {
                case 's' or 'o':
                    firstString = ReadString(body, ref at, big);
                    break;
                case 'u' or 'b':
                    firstUInt32 = ReadUInt32At(body, ref at, big);
                    break;
            }
        }

        var errorArgs = type == WireConstants.Error ? ReadBasicArgs(body, signature, big) : [];
        return new ReplyMessage(type, replySerial, errorName, signature, firstString, firstUInt32) { ErrorArgs = errorArgs };
    }

    /// <summary>The leading basic-typed arguments of a body, up to the first type that is not s, o, g, u, i or b.</summary>
    private static List<object> ReadBasicArgs(ReadOnlySpan<byte> body, string signature, bool big)
    {
        var args = new List<object>(signature.Length);
        var at = 0;
        foreach (var type in signature)
        {
            switch (type)
            {
                case 's' or 'o':
                    args.Add(ReadString(body, ref at, big));
                    break;
                case 'g':
                    args.Add(ReadSignature(body, ref at));
                    break;
                case 'u' or 'b':
                    args.Add((long)ReadUInt32At(body, ref at, big));
                    break;
                case 'i':
                    args.Add((long)(int)ReadUInt32At(body, ref at, big));
                    break;
                default:
                    return args;
            }
        }

        return args;
    }

    internal static bool Endianness(byte marker) => marker switch
    {
        (byte)'l' => false,
        (byte)'B' => true,
        _ => throw new InvalidDataException($"0x{marker:x2} is not a D-Bus byte-order mark"),
    };

    internal static int Align(int position, int alignment) => (position + alignment - 1) / alignment * alignment;

    private static long Align(long position, int alignment) => (position + alignment - 1) / alignment * alignment;

    internal static uint ReadUInt32(ReadOnlySpan<byte> data, bool big)
        => big ? BinaryPrimitives.ReadUInt32BigEndian(data) : BinaryPrimitives.ReadUInt32LittleEndian(data);

    internal static uint ReadUInt32At(ReadOnlySpan<byte> data, ref int pos, bool big)
    {
        pos = Align(pos, 4);
        Need(data, pos, 4);
        var value = ReadUInt32(data[pos..], big);
        pos += 4;
        return value;
    }

    internal static string ReadString(ReadOnlySpan<byte> data, ref int pos, bool big)
    {
        var length = ReadUInt32At(data, ref pos, big);
        Need(data, pos, (long)length + 1);
        var value = Encoding.UTF8.GetString(data.Slice(pos, (int)length));
        pos += (int)length + 1;
        return value;
    }

    internal static string ReadSignature(ReadOnlySpan<byte> data, ref int pos)
    {
        Need(data, pos, 1);
        var length = data[pos++];
        Need(data, pos, length + 1);
        var value = Encoding.ASCII.GetString(data.Slice(pos, length));
        pos += length + 1;
        return value;
    }

    internal static void Need(ReadOnlySpan<byte> data, int pos, long count)
    {
        if (pos < 0 || pos + count > data.Length)
        {
            throw new InvalidDataException("a value runs past the end of the message");
        }
    }
}

/// <summary>The D-Bus message types and header field codes, for both hand-written writers (DirectClient's and RawHeader).</summary>
internal static class WireConstants
{
    public const byte MethodCall = 1;
    public const byte MethodReturn = 2;
    public const byte Error = 3;
    public const byte Signal = 4;
    public const byte FieldPath = 1;
    public const byte FieldInterface = 2;
    public const byte FieldMember = 3;
    public const byte FieldErrorName = 4;
    public const byte FieldReplySerial = 5;
    public const byte FieldDestination = 6;
    public const byte FieldSignature = 8;
    public const byte FieldUnixFds = 9;
}
