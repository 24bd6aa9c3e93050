namespace Interop.Ctl.Output;

/// <summary>Left-aligned columns separated by two blanks, for people. Scripts use --json.</summary>
internal static class Table
{
    public static void Write(TextWriter output, IReadOnlyList<string> headers, IReadOnlyList<string[]> rows)
    {
        var widths = new int[headers.Count];
        for (var i = 0; i < headers.Count; i++)
        {
            widths[i] = headers[i].Length;
        }

        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length && i < widths.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        WriteRow(output, headers, widths);
        foreach (var row in rows)
        {
            WriteRow(output, row, widths);
        }
    }

    private static void WriteRow(TextWriter output, IReadOnlyList<string> cells, int[] widths)
    {
        var line = new System.Text.StringBuilder();
        for (var i = 0; i < cells.Count; i++)
        {
            if (i == cells.Count - 1)
            {
                line.Append(cells[i]);
            }
            else
            {
                line.Append(cells[i].PadRight(widths[i] + 2));
            }
        }

        output.WriteLine(line.ToString().TrimEnd());
    }
}
