namespace Interop.Service.Metrics;

/// <summary>
/// What <see cref="InteropService"/> counts as it works: hook calls, state write failures, reaper removals, the
/// start-up reconcile. Each call is a few interlocked adds (no I/O, no lock the hooks wait on).
/// </summary>
public interface IServiceMetrics
{
    /// <summary>One lifecycle call: <paramref name="lifecycleEvent"/> is prepare, started, stopped or released;
    /// <paramref name="result"/> ok, refused (the service said no) or error (anything unexpected).</summary>
    void HookCall(string lifecycleEvent, string result, TimeSpan elapsed);

    void StateWriteFailed();

    void ReaperRemoved(int dirs);

    void Reconciled(TimeSpan elapsed);
}

/// <summary>Counts nothing (tests and tools that do not export metrics).</summary>
public sealed class NoMetrics : IServiceMetrics
{
    public static readonly NoMetrics Instance = new();

    public void HookCall(string lifecycleEvent, string result, TimeSpan elapsed)
    {
    }

    public void StateWriteFailed()
    {
    }

    public void ReaperRemoved(int dirs)
    {
    }

    public void Reconciled(TimeSpan elapsed)
    {
    }
}
