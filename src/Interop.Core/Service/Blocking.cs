namespace Interop.Core.Service;

/// <summary>
/// Where work that may block runs in interopd. Its bus connections are handled on the threads that read them (BusStream)
/// and the hooks' socket's completions inline, on the thread that polls it (interopd's Program.Main): work that blocks
/// there (cgroupfs, a synchronous wait for systemd's answer, NSS that may ask the network) holds up those sockets, and a
/// wait there for another message waits for the thread that is to read it. Such work runs where it is asked for when
/// that is a pool thread, and is handed to the pool otherwise.
/// </summary>
public static class Blocking
{
    public static async Task<T> RunAsync<T>(Func<T> work) =>
        Thread.CurrentThread.IsThreadPoolThread ? work() : await Task.Run(work).ConfigureAwait(false);
}
