using System.Globalization;
using System.Text;
using System.Xml;
using Interop.Core.Model;

namespace Interop.Core.Adapters.Libvirt;

/// <summary>
/// Parses one call of libvirt's LXC hook (src/util/virhook.c virHookCall: argv "NAME OP SUBOP EXTRA", '-' for
/// empty, the domain XML on stdin, the environment scrubbed so nothing is read from it).
/// Implementation notes: the XML is hostile input. It is read with a streaming XmlReader that prohibits DTDs,
/// has no resolver and refuses documents over <see cref="MaxXmlBytes"/>; only the root's type and id, name,
/// uuid and resource/partition are looked at, but the whole document must be well formed.
/// </summary>
public static class LibvirtHook
{
    /// <summary>Largest domain XML accepted on stdin.</summary>
    public const int MaxXmlBytes = 1024 * 1024;

    private const string XmlField = "xml";

    private static readonly XmlReaderSettings Settings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersInDocument = MaxXmlBytes,

        // 0 would mean "no limit" in .NET; with DTDs prohibited no entity can be declared anyway.
        MaxCharactersFromEntities = 1024,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        IgnoreWhitespace = true,
        CloseInput = true,
    };

    /// <summary>virhook.c virHookLxcOp: start, stopped, prepare, release, started, reconnect.</summary>
    public static LifecycleEvent EventOf(string op) => op switch
    {
        "prepare" => LifecycleEvent.Prepare,
        "start" => LifecycleEvent.Start,
        "started" => LifecycleEvent.Started,
        "stopped" => LifecycleEvent.Stopped,
        "release" => LifecycleEvent.Released,
        "reconnect" => LifecycleEvent.Reconnect,
        _ => LifecycleEvent.Ignored,
    };

    /// <summary>Parses argv (after "interopctl hook libvirt") and the domain XML read from stdin as bytes.</summary>
    public static HookCall Parse(IReadOnlyList<string> args, ReadOnlySpan<byte> stdinXml)
    {
        var argv = ParseArgs(args);
        if (stdinXml.Length > MaxXmlBytes)
        {
            throw TooLarge(stdinXml.Length);
        }

        using var reader = XmlReader.Create(new MemoryStream(stdinXml.ToArray(), writable: false), Settings);
        return Build(argv, ReadDomain(reader, stdinXml.IsEmpty));
    }

    /// <summary>Parses argv (after "interopctl hook libvirt") and the domain XML read from stdin as text.</summary>
    public static HookCall Parse(IReadOnlyList<string> args, string stdinXml)
    {
        ArgumentNullException.ThrowIfNull(stdinXml);
        var argv = ParseArgs(args);
        if (stdinXml.Length > MaxXmlBytes || Encoding.UTF8.GetByteCount(stdinXml) > MaxXmlBytes)
        {
            throw TooLarge(stdinXml.Length > MaxXmlBytes ? stdinXml.Length : Encoding.UTF8.GetByteCount(stdinXml));
        }

        using var reader = XmlReader.Create(new StringReader(stdinXml), Settings);
        return Build(argv, ReadDomain(reader, stdinXml.Length == 0));
    }

    private static Args ParseArgs(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Count < 3)
        {
            throw new InvalidInputException("argv", $"expected NAME OP SUBOP EXTRA as libvirt passes them, got {args.Count} argument(s)");
        }

        var name = Names.ValidateComponent(args[0], "name");
        var op = Names.ValidateComponent(args[1], "op");
        Names.ValidateComponent(args[2], "subop");
        string? reason = null;
        var @event = EventOf(op);

        // virhook.c: the extra argument is '-' when empty. 10.5+ passes "release end <reason>"; the reason may
        // contain a space, and a caller that split it gets it back joined with ' '.
        if (@event == LifecycleEvent.Released && args.Count > 3)
        {
            var extra = string.Join(' ', args.Skip(3));
            if (extra != "-" && extra.Length > 0)
            {
                if (extra.Any(char.IsControl) || Encoding.UTF8.GetByteCount(extra) > Names.MaxComponentBytes)
                {
                    throw new InvalidInputException(FactKeys.Reason, $"'{Printable.Of(extra)}' is not a shutoff reason (control characters or over {Names.MaxComponentBytes} bytes)");
                }

                reason = extra;
            }
        }

        return new Args(name, op, @event, reason);
    }

    private static Domain ReadDomain(XmlReader reader, bool empty)
    {
        if (empty)
        {
            throw new InvalidInputException(XmlField, "stdin is empty: libvirt passes the domain XML on stdin");
        }

        try
        {
            if (reader.MoveToContent() != XmlNodeType.Element || reader.LocalName != "domain" || reader.NamespaceURI.Length != 0)
            {
                throw new InvalidInputException(XmlField, $"the root element is <{Printable.Of(reader.Name)}>, expected <domain type='lxc'>");
            }

            var type = reader.GetAttribute("type");
            if (type != "lxc")
            {
                throw new InvalidInputException(XmlField, $"the domain type is '{Printable.Of(type)}', expected 'lxc' (this hook is libvirt's LXC driver hook)");
            }

            var id = reader.GetAttribute("id");
            string? name = null;
            string? uuid = null;
            string? partition = null;

            if (!reader.IsEmptyElement)
            {
                reader.Read();
                while (reader.NodeType != XmlNodeType.EndElement && !reader.EOF)
                {
                    if (reader.NodeType != XmlNodeType.Element)
                    {
                        reader.Read();
                        continue;
                    }

                    switch (reader.LocalName)
                    {
                        case "name":
                            name = Once(name, reader.ReadElementContentAsString(), "<name>");
                            break;
                        case "uuid":
                            uuid = Once(uuid, reader.ReadElementContentAsString(), "<uuid>");
                            break;
                        case "resource":
                            partition = Once(partition, ReadPartition(reader), "<resource>");
                            break;
                        default:
                            reader.Skip();
                            break;
                    }
                }
            }

            // Read to the end: a document with trailing garbage or a second root is refused as a whole.
            while (reader.Read())
            {
            }

            return new Domain(name, uuid, id, partition);
        }
        catch (XmlException ex)
        {
            // Line and column from the exception itself: under NativeAOT (UseSystemResourceKeys) its Message
            // is only a resource key, which would tell the admin nothing.
            throw new InvalidInputException(XmlField, $"the domain XML is malformed or not allowed (DTDs and entities are refused) at line {ex.LineNumber}, column {ex.LinePosition}");
        }
    }

    private static string? ReadPartition(XmlReader reader)
    {
        string? partition = null;
        if (reader.IsEmptyElement)
        {
            reader.Read();
            return null;
        }

        var depth = reader.Depth;
        reader.Read();
        while (!(reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth) && !reader.EOF)
        {
            if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "partition")
            {
                partition = Once(partition, reader.ReadElementContentAsString(), "<partition>");
            }
            else if (reader.NodeType == XmlNodeType.Element)
            {
                reader.Skip();
            }
            else
            {
                reader.Read();
            }
        }

        reader.Read();
        return partition;
    }

    private static string? Once(string? previous, string? value, string what) =>
        previous is null ? value : throw new InvalidInputException(XmlField, $"{what} appears more than once");

    private static HookCall Build(Args argv, Domain domain)
    {
        if (domain.Name is null)
        {
            throw new InvalidInputException(XmlField, "the domain XML has no <name>");
        }

        if (domain.Name != argv.Name)
        {
            throw new InvalidInputException("name", $"the domain XML names '{Printable.Of(domain.Name)}' but the hook was called for '{Printable.Of(argv.Name)}'");
        }

        if (domain.Uuid is null || !Guid.TryParseExact(domain.Uuid, "D", out _))
        {
            throw new InvalidInputException(FactKeys.Uuid, $"'{Printable.Of(domain.Uuid)}' is not a domain uuid");
        }

        // Partition default and check: src/lxc/lxc_process.c virLXCProcessStart fills in "/machine" when the XML has
        // none; vircgroup.c virCgroupNewPartition refuses one that does not start with '/'.
        var partition = domain.Partition ?? LibvirtNames.DefaultPartition;
        LibvirtNames.PartitionDir(partition, []);

        // The root's id attribute is the libvirt_lxc controller pid (src/lxc/lxc_process.c sets vm->def->id to it).
        int? leader = domain.Id is null ? null : Names.ParsePid(domain.Id, "id");
        if (leader is null && argv.Event is LifecycleEvent.Started or LifecycleEvent.Reconnect)
        {
            throw new InvalidInputException("id", $"the domain XML of '{argv.Op}' has no id attribute (the libvirt_lxc controller pid)");
        }

        var facts = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [FactKeys.Uuid] = domain.Uuid.ToLowerInvariant(),
            [FactKeys.Partition] = partition,
            [FactKeys.Hook] = argv.Op,
        };
        if (argv.Reason is not null)
        {
            facts[FactKeys.Reason] = argv.Reason;
        }

        return new HookCall(Manager.Libvirt, argv.Name, argv.Event, argv.Op, leader, facts);
    }

    private static InvalidInputException TooLarge(long size) =>
        new(XmlField, $"the domain XML is {size.ToString(CultureInfo.InvariantCulture)} bytes, more than the {MaxXmlBytes} bytes (1 MiB) accepted");

    private sealed record Args(string Name, string Op, LifecycleEvent Event, string? Reason);

    private sealed record Domain(string? Name, string? Uuid, string? Id, string? Partition);
}
