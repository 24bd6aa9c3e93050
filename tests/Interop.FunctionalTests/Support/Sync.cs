namespace Interop.FunctionalTests.Support;

/// <summary>
/// Runs a client call to completion on the thread pool. The tests are synchronous on purpose: NUnit gives async
/// tests a single-threaded synchronization context, and InteropClient's sync members (which block on the bus
/// call, as the CLI wants) deadlock under it.
/// </summary>
public static class Sync
{
    public static T Run<T>(Task<T> task) => task.GetAwaiter().GetResult();

    public static void Run(Task task) => task.GetAwaiter().GetResult();
}
