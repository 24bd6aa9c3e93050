using System.Reflection;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace Interop.DBus;

/// <summary>
/// The interface XML (org.interop.Interop1.xml, embedded) split into one fragment per interface, ready for
/// <c>MethodContext.ReplyIntrospectXml</c>. The file is the single source of truth for Introspect.
/// </summary>
internal static class InterfaceXml
{
    private static readonly Lazy<IReadOnlyDictionary<string, ReadOnlyMemory<byte>>> Fragments = new(Load);

    public static ReadOnlyMemory<byte> Manager => Fragments.Value[ObjectPaths.ManagerInterface];

    public static ReadOnlyMemory<byte> Container => Fragments.Value[ObjectPaths.ContainerInterface];

    /// <summary>The whole embedded document as text.</summary>
    public static string Document()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("org.interop.Interop1.xml")
            ?? throw new InvalidOperationException("the embedded resource org.interop.Interop1.xml is missing from Interop.DBus");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static IReadOnlyDictionary<string, ReadOnlyMemory<byte>> Load()
    {
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };
        using var text = new StringReader(Document());
        using var xml = XmlReader.Create(text, settings);
        var doc = XDocument.Load(xml);
        var result = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        foreach (var iface in doc.Root!.Elements("interface"))
        {
            var name = (string?)iface.Attribute("name") ?? throw new InvalidOperationException("an <interface> in org.interop.Interop1.xml has no name");
            result[name] = Encoding.UTF8.GetBytes(iface.ToString(SaveOptions.None) + "\n");
        }

        return result;
    }
}
