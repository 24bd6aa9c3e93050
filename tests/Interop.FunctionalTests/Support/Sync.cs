namespace Interop.FunctionalTests.Support;

/// <summary>
/// Runs a client call to completion. The tests are synchronous; InteropClient completes its calls off the bus
/// read loop (RunContinuationsAsynchronously), so blocking on one here cannot deadlock.
/// </summary>
public static class Sync
{
    public static T Run<T>(Task<T> task) => task.GetAwaiter().GetResult();

    public static void Run(Task task) => task.GetAwaiter().GetResult();
}
