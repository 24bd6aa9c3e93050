using System.Text;

namespace Interop.Core;

/// <summary>Renders hostile text safely inside a one-line error message.</summary>
public static class Printable
{
    private const int MaxShown = 80;

    public static string Of(string? value)
    {
        if (value is null)
        {
            return "(null)";
        }

        var sb = new StringBuilder(Math.Min(value.Length, MaxShown) + 8);
        foreach (var c in value)
        {
            if (sb.Length >= MaxShown)
            {
                sb.Append('…');
                break;
            }

            if (char.IsControl(c))
            {
                sb.Append(c == '\0' ? "\\0" : $"\\x{(int)c:x2}");
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }
}
