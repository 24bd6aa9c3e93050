using System.Diagnostics;
using System.Text;

namespace Interop.TestSupport;

/// <summary>Collects a process stream line by line and lets a test wait, with a deadline, for what it expects.</summary>
public sealed class OutputWatcher
{
    private readonly StringBuilder _text = new();
    private readonly object _sync = new();
    private bool _closed;

    public string Text
    {
        get
        {
            lock (_sync)
            {
                return _text.ToString();
            }
        }
    }

    public void Attach(Process process, bool stderr)
    {
        DataReceivedEventHandler handler = (_, e) => Add(e.Data);
        if (stderr)
        {
            process.ErrorDataReceived += handler;
            process.BeginErrorReadLine();
        }
        else
        {
            process.OutputDataReceived += handler;
            process.BeginOutputReadLine();
        }
    }

    /// <summary>Waits until the text collected so far satisfies <paramref name="predicate"/>; false on timeout or end of stream.</summary>
    public bool WaitFor(Func<string, bool> predicate, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        lock (_sync)
        {
            while (!predicate(_text.ToString()))
            {
                var left = timeout - deadline.Elapsed;
                if (_closed || left <= TimeSpan.Zero)
                {
                    return predicate(_text.ToString());
                }

                Monitor.Wait(_sync, left);
            }

            return true;
        }
    }

    private void Add(string? line)
    {
        lock (_sync)
        {
            if (line is null)
            {
                _closed = true;
            }
            else
            {
                _text.Append(line).Append('\n');
            }

            Monitor.PulseAll(_sync);
        }
    }
}
