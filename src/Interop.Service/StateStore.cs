using System.Buffers;
using System.Globalization;
using System.Text;
using Interop.Core;
using Interop.Core.Model;
using Interop.Linux.Native;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Interop.Service;

/// <summary>
/// The registry on disk: a snapshot (/var/lib/interop/state.yaml) and a journal of the changes made since it was
/// written (state.yaml.journal, <see cref="StateJournal"/>). Read back strictly: anything malformed (a snapshot
/// cut short: it ends with the entry count; a journal record that fails its checksum before the last one) is a
/// <see cref="StateFileException"/>, and the caller keeps the bad files aside and rebuilds from cgroupfs.
/// </summary>
/// <remarks>
/// Implementation notes. A change appends one record to the journal (<see cref="Apply"/>), so what a hook pays
/// does not grow with the registry; when the journal has grown past the snapshot (and past
/// <see cref="MinJournalBytes"/>), the change rewrites the snapshot instead and the journal starts over. So do
/// the first change after start-up and the first after a failed write, which never leaves a record half-written
/// in the middle of the journal. The snapshot is written to a temp file in the same directory and renamed over
/// the old one; then the journal is removed. A crash between the two replays changes the snapshot already holds,
/// which gives the same registry (each container ends as its last record says, which is what the snapshot holds).
/// Both are written before the call returns: the page cache outlives the process, so a kill -9 the next
/// instant loses nothing. Forcing them to the disk (fsync) only matters for a power loss, after which no
/// container is alive and reconcile rebuilds from cgroupfs anyway; an fsync costs ~7 ms on this kind of host
/// and would be paid by every hook, so it runs off the caller's path, coalesced (<see cref="FlushPending"/>),
/// and <see cref="Flush"/> forces it (interopd calls it on SIGTERM). A record cut short at the very end of the
/// journal (an append a power loss interrupted) is dropped and reported in <see cref="LoadWarning"/>.
/// One writer at a time: interopd calls <see cref="Apply"/> and <see cref="Save"/> under its gate.
/// </remarks>
public sealed class StateStore
{
    private const int FormatVersion = 1;
    private const string Header = "# interopd registry: this snapshot, then the changes in the .journal file next to it. Do not edit while interopd runs.";

    private readonly Lock _flushLock = new();
    private int _flushQueued;

    /// <summary>What was written since the last fsync (<see cref="Unsynced"/> bits): only those are forced.</summary>
    private int _unsynced;

    /// <summary>The journal may always grow to this size before a change rewrites the snapshot.</summary>
    internal const long MinJournalBytes = 64 * 1024;

    private long _journalBytes;
    private long _snapshotBytes;
    private bool _needsSnapshot = true;

    /// <summary>The snapshot's generation: one more at every rewrite; the journal's header names the one it follows.</summary>
    private long _generation;

    public StateStore(string path)
    {
        Path = path;
        JournalPath = path + ".journal";
    }

    public string Path { get; }

    public string JournalPath { get; }

    /// <summary>What <see cref="Load"/> passed over (a torn last journal record), or null.</summary>
    public string? LoadWarning { get; private set; }

    /// <summary>
    /// Records one change: a record appended to the journal, or, when the journal has outgrown the snapshot (or
    /// this is the first change since start-up or since a failed write), a new snapshot of <paramref name="registry"/>.
    /// </summary>
    /// <param name="registry">the whole registry after the change (asked for only when a snapshot is due).</param>
    public void Apply(StateChange change, Func<IReadOnlyCollection<Mapping>> registry)
    {
        var record = Encoding.UTF8.GetBytes(StateJournal.Encode(change));
        if (_needsSnapshot || _journalBytes + record.Length > Math.Max(MinJournalBytes, _snapshotBytes))
        {
            Save(registry());
            return;
        }

        try
        {
            // Opened for each record: interopd holds no file open for writing between changes (the state dir
            // can be remounted read-only under it, for one).
            using var journal = new FileStream(JournalPath, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);
            if (_journalBytes == 0)
            {
                // The journal's first line names the snapshot generation its changes follow (see Load).
                record = [.. Encoding.UTF8.GetBytes(StateJournal.EncodeHeader(_generation)), .. record];
            }

            journal.Write(record);

            // A new journal is also a new directory entry.
            MarkUnsynced(_journalBytes == 0 ? Unsynced.Journal | Unsynced.Directory : Unsynced.Journal);
            _journalBytes += record.Length;
        }
        catch
        {
            // A record may be half-written: nothing more is appended until a snapshot has replaced the journal.
            _needsSnapshot = true;
            throw;
        }

        QueueFlush();
    }

    /// <summary>True while a background fsync of the last save is queued.</summary>
    public bool FlushPending => Volatile.Read(ref _flushQueued) != 0;

    /// <summary>Replaces the snapshot with <paramref name="mappings"/> (temp file, rename), empties the journal, queues the fsync.</summary>
    public void Save(IEnumerable<Mapping> mappings)
    {
        _needsSnapshot = true;
        var dir = System.IO.Path.GetDirectoryName(Path) ?? "/";
        Directory.CreateDirectory(dir);
        var temp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(Path)}.{Environment.ProcessId}.tmp");
        long length;
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024))
        {
            using (var writer = new StreamWriter(stream, leaveOpen: true))
            {
                Write(writer, mappings, _generation + 1);
            }

            length = stream.Length;
        }

        File.Move(temp, Path, overwrite: true);
        _generation++;

        // A crash right here leaves the old journal next to the new snapshot: its header names the old generation,
        // so Load passes it over instead of replaying older changes over newer state.
        File.Delete(JournalPath);
        _journalBytes = 0;
        _snapshotBytes = length;
        _needsSnapshot = false;

        // The rename and the journal's removal are directory entries; the journal needs no fsync any more.
        MarkUnsynced(Unsynced.Snapshot | Unsynced.Directory);
        QueueFlush();
    }

    /// <summary>
    /// Forces what was written since the last flush to the disk: after a journal record the journal alone, after a
    /// new snapshot the snapshot and the directory (each fsync may cost the device a cache flush).
    /// </summary>
    public void Flush()
    {
        lock (_flushLock)
        {
            Volatile.Write(ref _flushQueued, 0);
            var unsynced = (Unsynced)Interlocked.Exchange(ref _unsynced, 0);
            if (unsynced.HasFlag(Unsynced.Snapshot))
            {
                Fsync(Path, directory: false);
            }

            if (unsynced.HasFlag(Unsynced.Journal))
            {
                Fsync(JournalPath, directory: false);
            }

            if (unsynced.HasFlag(Unsynced.Directory))
            {
                Fsync(System.IO.Path.GetDirectoryName(Path) ?? "/", directory: true);
            }
        }
    }

    /// <summary>False: nothing is forced until <see cref="Flush"/> is called (tests that look at <see cref="PendingSync"/>).</summary>
    internal bool FlushInBackground { get; init; } = true;

    /// <summary>What the next <see cref="Flush"/> forces to the disk.</summary>
    internal Unsynced PendingSync => (Unsynced)Volatile.Read(ref _unsynced);

    private void MarkUnsynced(Unsynced what) => Interlocked.Or(ref _unsynced, (int)what);

    /// <summary>Reads the snapshot and replays the journal; absent files are an empty registry.</summary>
    /// <exception cref="StateFileException">A file exists but is not valid.</exception>
    public IReadOnlyList<Mapping> Load()
    {
        LoadWarning = null;
        IReadOnlyList<Mapping> mappings;
        long snapshotBytes;
        try
        {
            mappings = ReadSnapshot(Path, out var generation, out snapshotBytes) ?? [];
            _generation = generation;
        }
        catch (Exception e) when (e is YamlException or InteropException or FormatException or OverflowException or InvalidOperationException)
        {
            throw new StateFileException($"{Path}: {e.Message}", e);
        }

        _snapshotBytes = snapshotBytes;
        var journal = ReadOrNull(JournalPath);
        if (string.IsNullOrEmpty(journal))
        {
            return mappings;
        }

        var registry = mappings.ToDictionary(m => m.Id);
        var lines = journal.Split('\n');
        var start = 0;
        if (StateJournal.TryDecodeHeader(lines[0], out var follows))
        {
            if (follows != _generation)
            {
                // Written before the snapshot that replaced it (a crash between the rename and the journal's
                // removal): the snapshot already holds all of it, and replaying it would undo later changes.
                LoadWarning = $"{JournalPath}: follows snapshot generation {follows}, the snapshot is generation {_generation}; passed over (the snapshot holds its changes)";
                _needsSnapshot = true;
                return mappings;
            }

            start = 1;
        }

        for (var i = start; i < lines.Length; i++)
        {
            // The text after the last newline is empty, unless the last append was cut short.
            var complete = i < lines.Length - 1;
            if (complete || lines[i].Length > 0)
            {
                try
                {
                    StateJournal.Decode(complete ? lines[i] : throw new FormatException("the last record has no end of line")).ApplyTo(registry);
                }
                catch (Exception e) when (e is FormatException or InteropException or OverflowException)
                {
                    if (i < lines.Length - 2 || (i == lines.Length - 2 && lines[^1].Length > 0))
                    {
                        throw new StateFileException($"{JournalPath}: record {i + 1 - start} of {lines.Length - 1 - start}: {e.Message}", e);
                    }

                    LoadWarning = $"{JournalPath}: dropped a torn last record ({e.Message}); the change it recorded was not written whole";
                }
            }
        }

        return [.. registry.Values];
    }

    /// <summary>
    /// The snapshot's mappings (its size in bytes in <paramref name="bytes"/>), or null when it does not exist: read in
    /// pieces by <see cref="ReadOwnFormat"/>, or read again whole and parsed by <see cref="Parse(string, out long)"/> where
    /// that declines.
    /// </summary>
    private static IReadOnlyList<Mapping>? ReadSnapshot(string path, out long generation, out long bytes)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            generation = bytes = 0;
            return null;
        }

        using (stream)
        {
            bytes = stream.Length;
            if (ReadOwnFormat(stream, out generation) is { } mappings)
            {
                return mappings;
            }

            // The same file (interopd replaces the snapshot by a rename, never in place), from its start.
            var data = new byte[bytes];
            stream.Position = 0;
            stream.ReadExactly(data);
            return Parse(Decode(data), out generation);
        }
    }

    /// <summary>
    /// The file as text, or null when it does not exist: the journal, which stays small. Read whole and decoded once:
    /// File.ReadAllText decodes through a StringBuilder and copies the result, twice the text's size again in garbage.
    /// </summary>
    private static string? ReadOrNull(string path)
    {
        try
        {
            return Decode(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>UTF-8 text, past a byte order mark an editor may have written.</summary>
    private static string Decode(ReadOnlySpan<byte> data) =>
        Encoding.UTF8.GetString(data.StartsWith(Encoding.UTF8.Preamble) ? data[Encoding.UTF8.Preamble.Length..] : data);

    /// <summary>
    /// Moves a bad snapshot and its journal aside (state.yaml.corrupt-TIME, state.yaml.journal.corrupt-TIME) and
    /// returns where the first of them went.
    /// </summary>
    public string KeepAside()
    {
        _needsSnapshot = true;
        var stamp = $".corrupt-{DateTime.UtcNow:yyyyMMddTHHmmssfffZ}";
        string? first = null;
        foreach (var path in new[] { Path, JournalPath })
        {
            if (File.Exists(path))
            {
                File.Move(path, path + stamp, overwrite: true);
                first ??= path + stamp;
            }
        }

        return first ?? Path + stamp;
    }

    /// <summary>
    /// Writes the registry through YamlDotNet's emitter, in the layout <see cref="ParseOwnFormat"/> reads: the
    /// fields (<see cref="MappingCodec"/>), then the paths sorted by key, each value plain when nothing in it means
    /// anything to a YAML reader, else single-quoted (see <see cref="StyleOf"/>; the emitter double-quotes what
    /// single quotes cannot carry, such as a control character).
    /// </summary>
    internal static void Write(TextWriter writer, IEnumerable<Mapping> mappings, long generation = 0)
    {
        writer.WriteLine(Header);
        var emitter = new Emitter(writer);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart());
        emitter.Emit(new MappingStart());
        Scalar(emitter, "version");
        Scalar(emitter, FormatVersion.ToString(CultureInfo.InvariantCulture));
        if (generation > 0)
        {
            Scalar(emitter, "generation");
            Scalar(emitter, generation.ToString(CultureInfo.InvariantCulture));
        }

        Scalar(emitter, "containers");
        emitter.Emit(new SequenceStart(null, null, false, SequenceStyle.Block));
        var count = 0;
        foreach (var m in mappings)
        {
            count++;
            emitter.Emit(new MappingStart());
            for (var i = 0; i < MappingCodec.CountOf(m); i++)
            {
                Pair(emitter, MappingCodec.Keys[i], MappingCodec.Value(m, i));
            }

            Scalar(emitter, "paths");
            emitter.Emit(new MappingStart());
            foreach (var (key, dir) in m.Paths.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                Pair(emitter, key, dir);
            }

            emitter.Emit(new MappingEnd());
            emitter.Emit(new MappingEnd());
        }

        emitter.Emit(new SequenceEnd());

        // Last, so that a file cut anywhere (even at a line boundary) is recognized as torn.
        Scalar(emitter, "count");
        Scalar(emitter, count.ToString(CultureInfo.InvariantCulture));
        emitter.Emit(new MappingEnd());
        emitter.Emit(new DocumentEnd(true));
        emitter.Emit(new StreamEnd());
    }

    internal static IReadOnlyList<Mapping> Parse(string text) => Parse(text, out _);

    internal static IReadOnlyList<Mapping> Parse(string text, out long generation)
    {
        // We always write a header and a version: an empty or NUL-filled file is a torn write, not "no containers".
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw new FormatException("the file contains NUL bytes");
        }

        return ParseOwnFormat(text, out generation) ?? ParseYaml(text, out generation);
    }

    /// <summary>The full YAML parser: for what <see cref="ParseOwnFormat"/> declines (hand edits, double-quoted escapes).</summary>
    internal static IReadOnlyList<Mapping> ParseYaml(string text) => ParseYaml(text, out _);

    internal static IReadOnlyList<Mapping> ParseYaml(string text, out long generation)
    {
        generation = 0;
        var parser = new Parser(new StringReader(text));
        parser.Consume<StreamStart>();
        if (parser.Accept<StreamEnd>(out _))
        {
            throw new FormatException("the file is empty");
        }

        parser.Consume<DocumentStart>();
        parser.Consume<MappingStart>();
        var result = new List<Mapping>();
        var version = -1;
        var count = -1;
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            var key = parser.Consume<Scalar>().Value;
            switch (key)
            {
                case "version":
                    version = int.Parse(parser.Consume<Scalar>().Value, CultureInfo.InvariantCulture);
                    if (version != FormatVersion)
                    {
                        throw new FormatException($"state format version {version} is not {FormatVersion}");
                    }

                    break;
                case "containers":
                    parser.Consume<SequenceStart>();
                    while (!parser.TryConsume<SequenceEnd>(out _))
                    {
                        result.Add(ReadMapping(parser));
                    }

                    break;
                case "count":
                    count = int.Parse(parser.Consume<Scalar>().Value, NumberStyles.None, CultureInfo.InvariantCulture);
                    break;
                case "generation":
                    generation = long.Parse(parser.Consume<Scalar>().Value, NumberStyles.None, CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new FormatException($"unknown key '{Printable.Of(key)}'");
            }
        }

        return Checked(version, count, result);
    }

    private static List<Mapping> Checked(int version, int count, List<Mapping> result)
    {
        if (version != FormatVersion)
        {
            throw new FormatException(version < 0 ? "no version" : $"state format version {version} is not {FormatVersion}");
        }

        if (count != result.Count)
        {
            throw new FormatException(count < 0
                ? "the file ends early (no trailing count: it was cut short)"
                : $"the file lists {result.Count} containers but says {count} (it was cut short)");
        }

        return result;
    }

    /// <summary>
    /// A reader for exactly the shape <see cref="Write"/> produces: header comments, then one "key: value" per line
    /// at fixed indentation, values plain or single-quoted. Several times faster than the YAML parser on a
    /// registry of 10,000 (start-up reconcile reads it). It returns null at the first line it does not
    /// recognize (a double-quoted or folded scalar, a comment after a value, a hand edit), and the caller
    /// reads the file with the full YAML parser instead, so both give the same registry or the same error.
    /// </summary>
    internal static List<Mapping>? ParseOwnFormat(string text) => ParseOwnFormat(text, out _);

    internal static List<Mapping>? ParseOwnFormat(string text, out long generation)
    {
        generation = 0;
        var reader = new OwnFormatReader();
        var body = text.EndsWith('\n') ? text.AsSpan(0, text.Length - 1) : text.AsSpan();
        foreach (var line in body.EnumerateLines())
        {
            if (!reader.Line(line))
            {
                return null;
            }
        }

        return reader.Finish(out generation);
    }

    /// <summary>
    /// <see cref="ParseOwnFormat(string, out long)"/> over a file read in pieces and decoded a line at a time, never
    /// whole: the snapshot of 10,000 containers is a 10 MB file, and its bytes and its text (20 MB) were fresh memory
    /// that start-up reconcile paid for page by page. Null where that reader would decline, and also for an empty
    /// file and for any line holding a NUL or a character <see cref="MemoryExtensions.EnumerateLines(ReadOnlySpan{char})"/>
    /// would split at (the caller then reads the file whole, so the answer or the error is the same).
    /// </summary>
    internal static List<Mapping>? ReadOwnFormat(Stream stream, out long generation)
    {
        generation = 0;
        var reader = new OwnFormatReader();
        var bytes = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var chars = ArrayPool<char>.Shared.Rent(4 * 1024);
        var lines = 0;
        try
        {
            int start = 0, end = 0;
            while (true)
            {
                var n = stream.Read(bytes, end, bytes.Length - end);
                if (n == 0)
                {
                    break;
                }

                end += n;
                int newline;
                while ((newline = bytes.AsSpan(start, end - start).IndexOf((byte)'\n')) >= 0)
                {
                    if (!Line(bytes.AsSpan(start, newline)))
                    {
                        return null;
                    }

                    start += newline + 1;
                }

                if (start == 0 && end == bytes.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(bytes.Length * 2);
                    bytes.AsSpan(0, end).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(bytes);
                    bytes = bigger;
                }
                else
                {
                    bytes.AsSpan(start, end - start).CopyTo(bytes);
                    end -= start;
                    start = 0;
                }
            }

            if (end > start && !Line(bytes.AsSpan(start, end - start)))
            {
                return null;
            }

            return lines == 0 ? null : reader.Finish(out generation);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            ArrayPool<char>.Shared.Return(chars);
        }

        bool Line(ReadOnlySpan<byte> utf8)
        {
            if (lines++ == 0 && utf8.StartsWith(Encoding.UTF8.Preamble))
            {
                utf8 = utf8[Encoding.UTF8.Preamble.Length..];
            }

            if (utf8.Length > chars.Length)
            {
                ArrayPool<char>.Shared.Return(chars);
                chars = ArrayPool<char>.Shared.Rent(utf8.Length);
            }

            var line = chars.AsSpan(0, Encoding.UTF8.GetChars(utf8, chars));
            return line.IndexOfAny(LineBreaksAndNul) < 0 && reader.Line(line);
        }
    }

    /// <summary>What EnumerateLines splits at, besides \n, and NUL (a torn write: <see cref="Parse(string, out long)"/> says so).</summary>
    private static readonly SearchValues<char> LineBreaksAndNul = SearchValues.Create("\r\f\u0085\u2028\u2029\0");

    /// <summary>The line-by-line state of <see cref="ParseOwnFormat(string, out long)"/>.</summary>
    private sealed class OwnFormatReader
    {
        private readonly List<Mapping> _result = [];
        private readonly Keys _keys = new();
        private int _version = -1;
        private int _count = -1;
        private int _gen = -1;
        private string?[]? _fields;
        private Dictionary<string, string>? _paths;
        private bool _header = true;
        private bool _inPaths;

        /// <summary>Takes one line; false where the format is not the one <see cref="Write"/> produces.</summary>
        public bool Line(ReadOnlySpan<char> line)
        {
            if (_header && line.StartsWith("#"))
            {
                return true;
            }

            _header = false;
            if (line.Length == 0 || line.Contains('\r') || line.Contains('\t'))
            {
                return false;
            }

            if (_fields is not null && line.StartsWith("    "))
            {
                if (!_inPaths || !TryKeyValue(line[4..], _keys, out var key, out var value) || value is null)
                {
                    return false;
                }

                _paths![key] = value;
                return true;
            }

            if (_fields is not null && line.SequenceEqual("  paths: {}"))
            {
                _inPaths = false;
                return true;
            }

            if (_fields is not null && line.StartsWith("  "))
            {
                if (!TryKeyValue(line[2..], _keys, out var key, out var value) || line[2] == ' ')
                {
                    return false;
                }

                _inPaths = key == "paths" && value is null;
                if (value is null && !_inPaths)
                {
                    return false;
                }

                if (!_inPaths && MappingCodec.IndexOf(key) is var index and >= 0)
                {
                    _fields[index] = value;
                }

                return true;
            }

            if (_fields is not null)
            {
                _result.Add(MappingCodec.Read(_fields, _paths!));
                _fields = null;
            }

            _inPaths = false;
            if (line.StartsWith("- "))
            {
                if (!TryKeyValue(line[2..], _keys, out var key, out var value) || value is null)
                {
                    return false;
                }

                _fields = MappingCodec.NewValues();
                if (MappingCodec.IndexOf(key) is var first and >= 0)
                {
                    _fields[first] = value;
                }

                _paths = new Dictionary<string, string>(StringComparer.Ordinal);
                return true;
            }

            switch (line)
            {
                case "containers:":
                case "containers: []":
                    return true;
            }

            if (!TryKeyValue(line, _keys, out var top, out var number) || number is null
                || !int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                return false;
            }

            switch (top)
            {
                case "version" when _version < 0:
                    _version = n;
                    break;
                case "count" when _count < 0:
                    _count = n;
                    break;
                case "generation" when _gen < 0:
                    _gen = n;
                    break;
                default:
                    return false;
            }

            return true;
        }

        public List<Mapping> Finish(out long generation)
        {
            if (_fields is not null)
            {
                _result.Add(MappingCodec.Read(_fields, _paths!));
            }

            generation = _gen < 0 ? 0 : _gen;
            return Checked(_version, _count, _result);
        }
    }

    /// <summary>"key: value" or "key:" (value null) with plain or single-quoted scalars; false for anything else.</summary>
    private static bool TryKeyValue(ReadOnlySpan<char> line, Keys keys, out string key, out string? value)
    {
        key = "";
        value = null;
        if (line.EndsWith(":"))
        {
            return TryScalar(line[..^1], keys, out key);
        }

        var colon = line.IndexOf(": ");
        if (colon <= 0 || !TryScalar(line[..colon], keys, out key))
        {
            return false;
        }

        if (!TryScalar(line[(colon + 2)..], null, out var v))
        {
            return false;
        }

        value = v;
        return true;
    }

    private static bool TryScalar(ReadOnlySpan<char> s, Keys? keys, out string value)
    {
        value = "";
        if (s.Length == 0)
        {
            return false;
        }

        if (s[0] == '\'')
        {
            if (s.Length < 2 || s[^1] != '\'')
            {
                return false;
            }

            var inner = s[1..^1];
            for (var i = 0; i < inner.Length; i++)
            {
                if (inner[i] == '\'' && (++i >= inner.Length || inner[i] != '\''))
                {
                    return false;
                }
            }

            value = inner.ToString().Replace("''", "'", StringComparison.Ordinal);
            return true;
        }

        // Plain: the emitter quotes anything a YAML reader would read differently; be as strict here.
        if ("\"!&*[]{}|>%@`#,?".Contains(s[0]) || (s[0] is '-' or ':' && (s.Length == 1 || s[1] == ' '))
            || s[^1] == ' ' || s[0] == ' ' || s.Contains(" #", StringComparison.Ordinal) || s.Contains(": ", StringComparison.Ordinal))
        {
            return false;
        }

        value = keys is null ? s.ToString() : keys.Of(s);
        return true;
    }

    /// <summary>
    /// The keys of one file, one string each: a registry of 10,000 repeats the same dozen field names and hierarchy
    /// keys in every entry, and each mapping keeps its hierarchy keys.
    /// </summary>
    private sealed class Keys
    {
        private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
        private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

        public Keys() => _bySpan = _seen.GetAlternateLookup<ReadOnlySpan<char>>();

        public string Of(ReadOnlySpan<char> key)
        {
            if (!_bySpan.TryGetValue(key, out var known))
            {
                known = key.ToString();
                _seen.Add(known);
            }

            return known;
        }
    }

    private static Mapping ReadMapping(IParser parser)
    {
        parser.Consume<MappingStart>();
        var fields = MappingCodec.NewValues();
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            var key = parser.Consume<Scalar>().Value;
            if (key == "paths")
            {
                parser.Consume<MappingStart>();
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    paths[parser.Consume<Scalar>().Value] = parser.Consume<Scalar>().Value;
                }
            }
            else
            {
                var value = parser.Consume<Scalar>().Value;
                if (MappingCodec.IndexOf(key) is var index and >= 0)
                {
                    fields[index] = value;
                }
            }
        }

        return MappingCodec.Read(fields, paths);
    }

    private static void Scalar(IEmitter emitter, string value) =>
        emitter.Emit(new YamlDotNet.Core.Events.Scalar(null, null, value, StyleOf(value), true, true));

    /// <summary>
    /// Plain when nothing in the value means anything to YAML, else single-quoted: stricter than the emitter's own
    /// choice, which leaves "yes", "no", "on" (booleans to a YAML 1.1 reader) and "cpu,cpuacct" plain.
    /// <see cref="ParseOwnFormat"/> reads both styles.
    /// </summary>
    private static ScalarStyle StyleOf(string value)
    {
        if (value.Length == 0 || !(char.IsAsciiLetterOrDigit(value[0]) || value[0] is '/' or '_' or '.'))
        {
            return ScalarStyle.SingleQuoted;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '/' or '_' or '.' or '-' or '@' or '+' or '=' or '\\'))
            {
                return ScalarStyle.SingleQuoted;
            }
        }

        return value.ToLowerInvariant() is "y" or "n" or "yes" or "no" or "on" or "off" or "true" or "false" or "null"
            ? ScalarStyle.SingleQuoted
            : ScalarStyle.Any;
    }

    private static void Pair(IEmitter emitter, string key, string value)
    {
        Scalar(emitter, key);
        Scalar(emitter, value);
    }

    private void QueueFlush()
    {
        if (Interlocked.Exchange(ref _flushQueued, 1) == 0 && FlushInBackground)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static store => store.FlushQueued(), this, preferLocal: false);
        }
    }

    private static void Fsync(string path, bool directory)
    {
        var fd = Libc.Open(path, Libc.ORdOnly | Libc.OCloExec | (directory ? Libc.ODirectory : 0));
        if (fd < 0)
        {
            return;
        }

        _ = Libc.Fsync(fd);
        _ = Libc.Close(fd);
    }

    private void FlushQueued()
    {
        try
        {
            Flush();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Durability is best effort here; the rename already made the content visible.
        }
    }
}

/// <summary>The files a <see cref="StateStore.Flush"/> forces to the disk.</summary>
[Flags]
internal enum Unsynced
{
    None = 0,
    Snapshot = 1,
    Journal = 2,
    Directory = 4,
}

public sealed class StateFileException : Exception
{
    public StateFileException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
