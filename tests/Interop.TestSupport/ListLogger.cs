using Microsoft.Extensions.Logging;

namespace Interop.TestSupport;

/// <summary>An ILogger that keeps what it is told (message and exception), for the tests to look at.</summary>
public sealed class ListLogger : ILogger
{
    private readonly List<(string Message, Exception? Error)> _entries = [];

    /// <summary>What was logged so far (a copy).</summary>
    public IReadOnlyList<(string Message, Exception? Error)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        lock (_entries)
        {
            _entries.Add((formatter(state, exception), exception));
        }
    }
}
