namespace Interop.Core.Service;

/// <summary>
/// Interop's metrics in the Prometheus text exposition format, as interopd's /metrics serves them (D-Bus GetMetrics).
/// The bus client implements it; `interopctl metrics` writes what it returns.
/// </summary>
public interface IMetricsSource
{
    Task<string> GetMetricsAsync(CancellationToken cancellationToken = default);
}
