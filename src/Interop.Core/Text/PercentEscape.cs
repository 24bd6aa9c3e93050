using System.Globalization;
using System.Text;

namespace Interop.Core.Text;

/// <summary>
/// %XX escaping of UTF-8 bytes: what D-Bus addresses use (the specification's "unix:path=/tmp/a%2cb") and what
/// interopd's state journal uses to keep a record on one line.
/// </summary>
public static class PercentEscape
{
    /// <summary>Every character <paramref name="mustEscape"/> selects, and '%', as %XX of its UTF-8 bytes.</summary>
    public static string Escape(string value, Func<Rune, bool> mustEscape)
    {
        ArgumentNullException.ThrowIfNull(value);
        var sb = new StringBuilder(value.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in value.EnumerateRunes())
        {
            if (rune.Value != '%' && !mustEscape(rune))
            {
                sb.Append(rune.ToString());
                continue;
            }

            var n = rune.EncodeToUtf8(utf8);
            foreach (var b in utf8[..n])
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    /// <summary>The UTF-8 bytes <paramref name="value"/> stands for; null when a '%' is not followed by two hex digits.</summary>
    public static byte[]? UnescapeToBytes(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var bytes = new List<byte>(value.Length);
        var run = 0;
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] != '%')
            {
                continue;
            }

            // The text since the last escape, whole, so that a surrogate pair is encoded as one character.
            bytes.AddRange(Encoding.UTF8.GetBytes(value[run..i]));
            if (i + 2 >= value.Length || !byte.TryParse(value.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                return null;
            }

            bytes.Add(b);
            i += 2;
            run = i + 1;
        }

        bytes.AddRange(Encoding.UTF8.GetBytes(value[run..]));
        return [.. bytes];
    }
}
