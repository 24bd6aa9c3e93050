using System.Diagnostics;

namespace Interop.TestSupport;

/// <summary>Waits for a condition by polling with a deadline (never a fixed sleep).</summary>
public static class Poll
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(15);

    public static bool Until(Func<bool> condition, TimeSpan? timeout = null, int intervalMs = 20)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? Default;
        while (true)
        {
            if (condition())
            {
                return true;
            }

            if (deadline.Elapsed > limit)
            {
                return false;
            }

            Thread.Sleep(intervalMs);
        }
    }
}
