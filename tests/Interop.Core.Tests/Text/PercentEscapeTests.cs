using System.Text;
using Interop.Core.Text;

namespace Interop.Core.Tests.Text;

public sealed class PercentEscapeTests
{
    [TestCase("plain", "plain")]
    [TestCase("50%", "50%25")]
    [TestCase("a\tb\nc", "a%09b%0Ac")]
    [TestCase("\u0085", "%C2%85")]
    [TestCase("😀 𝄞", "😀 𝄞")]
    public void Escape_writes_percent_and_control_characters_as_their_UTF8_bytes(string value, string expected)
        => Assert.That(PercentEscape.Escape(value, Rune.IsControl), Is.EqualTo(expected));

    [Test]
    public void A_selected_character_outside_the_BMP_is_escaped_as_its_four_bytes()
        => Assert.That(PercentEscape.Escape("x😀", r => r.Value > 0xFFFF), Is.EqualTo("x%F0%9F%98%80"));

    [TestCase("/tmp/a%2cb%20c", "/tmp/a,b c")]
    [TestCase("😀%2f𝄞", "😀/𝄞")]
    [TestCase("%F0%9F%98%80", "😀")]
    [TestCase("", "")]
    public void Unescape_gives_back_the_bytes(string value, string expected)
        => Assert.That(PercentEscape.UnescapeToBytes(value), Is.EqualTo(Encoding.UTF8.GetBytes(expected)));

    [TestCase("%")]
    [TestCase("a%2")]
    [TestCase("%zz")]
    public void A_broken_escape_is_null(string value) => Assert.That(PercentEscape.UnescapeToBytes(value), Is.Null);

    [TestCase("50% 😀 \t 𝄞 \u2028 %41")]
    public void Escape_and_unescape_round_trip(string value)
        => Assert.That(Encoding.UTF8.GetString(PercentEscape.UnescapeToBytes(PercentEscape.Escape(value, Rune.IsControl))!), Is.EqualTo(value));
}
