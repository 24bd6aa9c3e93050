using System.Net;
using Prometheus;

namespace Interop.Service.Metrics;

/// <summary>
/// Serves a registry at http://ADDRESS:PORT/metrics with prometheus-net's <see cref="MetricServer"/>, which runs on
/// System.Net.HttpListener: part of the base framework, so interopd needs no ASP.NET.
/// </summary>
public sealed class MetricsServer : IAsyncDisposable
{
    private readonly MetricServer _server;

    private MetricsServer(MetricServer server, string url)
    {
        _server = server;
        Url = url;
    }

    /// <summary>The URL served, e.g. http://127.0.0.1:9925/metrics.</summary>
    public string Url { get; }

    /// <summary>Binds <paramref name="listen"/> ("127.0.0.1:9925", "[::1]:9925") now.</summary>
    /// <exception cref="IOException">the address is not valid, not local, or the port is in use: one line that says which.</exception>
    public static MetricsServer Start(string listen, CollectorRegistry registry)
    {
        if (!IPEndPoint.TryParse(listen, out var endPoint) || endPoint.Port == 0)
        {
            throw new IOException($"metrics_listen '{listen}' is not an IP address and port such as 127.0.0.1:9925");
        }

        // HttpListener matches a request's Host against the prefix: the wildcard for "any address", else the literal.
        var host = endPoint.Address.Equals(IPAddress.Any) || endPoint.Address.Equals(IPAddress.IPv6Any) ? "+"
            : endPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]"
            : endPoint.Address.ToString();
        var url = $"http://{listen}/metrics";
        var server = new MetricServer(host, endPoint.Port, "metrics/", registry);
        try
        {
            server.Start();
        }
        catch (HttpListenerException e)
        {
            server.Dispose();
            var why = e.ErrorCode is 98 or 48 || e.Message.Contains("in use", StringComparison.OrdinalIgnoreCase)
                ? $"port {endPoint.Port} is already in use (another exporter? choose another port in metrics_listen)"
                : e.Message.TrimEnd('.');
            throw new IOException($"cannot serve metrics on {url}: {why}", e);
        }

        return new MetricsServer(server, url);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync().ConfigureAwait(false);
        _server.Dispose();
    }
}
