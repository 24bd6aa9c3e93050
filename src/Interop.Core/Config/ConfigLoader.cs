using System.Globalization;
using Interop.Core.Model;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Interop.Core.Config;

/// <summary>
/// Reads interop.yaml with YamlDotNet's event parser (no reflection, so it works under NativeAOT).
/// Unknown keys, duplicate keys and bad values are errors that name the file, line and column and say
/// what was expected.
/// </summary>
public static class ConfigLoader
{
    private static readonly string[] Keys =
        ["shared_root", "boundary", "bus", "state_file", "policy", "reaper_interval", "allowed_users", "allowed_groups", "metrics_listen", "private_socket"];

    /// <summary>The /metrics port when metrics_listen is "on" (docs/metrics.md says why this number).</summary>
    public const int DefaultMetricsPort = 9925;

    public static InteropConfig Parse(string text, string fileName = InteropConfig.DefaultPath)
    {
        var config = new InteropConfig();
        var parser = new Parser(new StringReader(text));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var boundaryMark = Mark.Empty;
        try
        {
            parser.Consume<StreamStart>();
            if (parser.TryConsume<StreamEnd>(out _))
            {
                return config;
            }

            parser.Consume<DocumentStart>();
            if (parser.Accept<Scalar>(out var empty) && empty.Value.Length == 0)
            {
                return config;
            }

            if (!parser.TryConsume<MappingStart>(out _))
            {
                throw Error(fileName, parser.Current?.Start ?? Mark.Empty, "expected a mapping of settings (key: value)");
            }

            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var key = parser.Consume<Scalar>();
                if (key.Value == "boundary" && parser.Current is { } value)
                {
                    boundaryMark = value.Start;
                }

                if (!seen.Add(key.Value))
                {
                    throw Error(fileName, key.Start, $"'{key.Value}' is set twice");
                }

                config = key.Value switch
                {
                    "shared_root" => config with { SharedRoot = SharedRootValue(fileName, parser.Consume<Scalar>()), SharedRootSet = true },
                    "boundary" => config with { Boundary = BoundaryValue(fileName, parser.Consume<Scalar>()) },
                    "bus" => config with { Bus = BusValue(fileName, parser.Consume<Scalar>()) },
                    "state_file" => config with { StateFile = AbsolutePath(fileName, parser.Consume<Scalar>(), "state_file") },
                    "policy" => config with { Policy = PolicyValue(fileName, parser.Consume<Scalar>()) },
                    "reaper_interval" => config with { ReaperInterval = Seconds(fileName, parser.Consume<Scalar>()) },
                    "allowed_users" => config with { AllowedUsers = Principals(fileName, parser, "allowed_users") },
                    "allowed_groups" => config with { AllowedGroups = Principals(fileName, parser, "allowed_groups") },
                    "metrics_listen" => config with { MetricsListen = MetricsListenValue(fileName, parser.Consume<Scalar>()) },
                    "private_socket" => config with { PrivateSocket = PrivateSocketValue(fileName, parser.Consume<Scalar>()) },
                    _ => throw Error(fileName, key.Start, $"unknown key '{Printable.Of(key.Value)}' (expected one of: {string.Join(", ", Keys)})"),
                };
            }
        }
        catch (YamlException e)
        {
            throw Error(fileName, e.Start, e.Message.Contains("Expected", StringComparison.Ordinal) ? "expected a scalar value here" : e.Message);
        }

        if (!config.SharedRootPath.IsAtOrBelow(CgroupPath.Of(config.Boundary)))
        {
            throw Error(fileName, boundaryMark, $"boundary {config.Boundary} must be the shared root {config.SharedRoot} or one of its ancestors");
        }

        return config;
    }

    private static string BoundaryValue(string file, Scalar value) =>
        value.Value == "/" ? "/" : SharedRootValue(file, value);

    private static string SharedRootValue(string file, Scalar value)
    {
        if (!value.Value.StartsWith('/'))
        {
            throw Error(file, value.Start, $"shared_root '{Printable.Of(value.Value)}' must be absolute, e.g. /machine");
        }

        try
        {
            return "/" + Names.ValidateRelativePath(value.Value, "shared_root");
        }
        catch (InvalidInputException e)
        {
            throw Error(file, value.Start, e.Message);
        }
    }

    private static string BusValue(string file, Scalar value)
    {
        var v = value.Value;
        if (v is "system" or "session" || (v.Contains(':', StringComparison.Ordinal) && v.Contains('=', StringComparison.Ordinal)))
        {
            return v;
        }

        throw Error(file, value.Start, $"bus '{Printable.Of(v)}' must be 'system', 'session' or a D-Bus address such as unix:path=/run/interop/bus");
    }

    private static string AbsolutePath(string file, Scalar value, string key)
    {
        if (!value.Value.StartsWith('/') || value.Value.Contains('\0', StringComparison.Ordinal))
        {
            throw Error(file, value.Start, $"{key} '{Printable.Of(value.Value)}' must be an absolute path");
        }

        return value.Value;
    }

    /// <summary>"off" (null), "on" (127.0.0.1 and the default port), or an IP address and port: "0.0.0.0:9925", "[::1]:9925".</summary>
    private static string? PrivateSocketValue(string file, Scalar value) =>
        value.Value is "off" or "" ? null : AbsolutePath(file, value, "private_socket");

    private static string? MetricsListenValue(string file, Scalar value)
    {
        var v = value.Value;
        if (v is "off" or "")
        {
            return null;
        }

        if (v == "on")
        {
            return "127.0.0.1:" + DefaultMetricsPort.ToString(CultureInfo.InvariantCulture);
        }

        var colon = v.LastIndexOf(':');
        var host = colon > 0 ? v[..colon] : "";
        var bracketed = host.StartsWith('[') && host.EndsWith(']');
        if (colon <= 0
            || !int.TryParse(v.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535
            || !System.Net.IPAddress.TryParse(bracketed ? host[1..^1] : host, out var address)
            || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6) != bracketed)
        {
            throw Error(file, value.Start, $"metrics_listen '{Printable.Of(v)}' must be 'off', 'on' (127.0.0.1:{DefaultMetricsPort}) or an IP address and port such as 127.0.0.1:{DefaultMetricsPort} or [::1]:{DefaultMetricsPort}");
        }

        return v;
    }

    private static ContainerPolicy PolicyValue(string file, Scalar value) => value.Value switch
    {
        "strict" => ContainerPolicy.Strict,
        "permissive" => ContainerPolicy.Permissive,
        _ => throw Error(file, value.Start, $"policy '{Printable.Of(value.Value)}' must be 'strict' or 'permissive'"),
    };

    private static TimeSpan Seconds(string file, Scalar value)
    {
        if (!uint.TryParse(value.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > 86400 * 7)
        {
            throw Error(file, value.Start, $"reaper_interval '{Printable.Of(value.Value)}' must be a whole number of seconds from 0 (off) to 604800");
        }

        return TimeSpan.FromSeconds(seconds);
    }

    private static string[] Principals(string file, IParser parser, string key)
    {
        var start = parser.Current?.Start ?? Mark.Empty;
        if (!parser.TryConsume<SequenceStart>(out _))
        {
            throw Error(file, start, $"{key} must be a list, e.g. [root, 1000]");
        }

        var list = new List<string>();
        while (!parser.TryConsume<SequenceEnd>(out _))
        {
            var item = parser.Consume<Scalar>();
            if (item.Value.Length == 0 || item.Value.Length > 32 || !item.Value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                throw Error(file, item.Start, $"'{Printable.Of(item.Value)}' in {key} is not a user/group name or number");
            }

            list.Add(item.Value);
        }

        return [.. list];
    }

    private static ConfigException Error(string file, Mark mark, string message) =>
        new(file, (int)mark.Line, (int)mark.Column, message);
}

/// <summary>A configuration error: "FILE:LINE:COLUMN: message".</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string file, int line, int column, string message)
        : base($"{file}:{line}:{column}: {message}")
    {
        File = file;
        Line = line;
        Column = column;
    }

    public string File { get; }

    public int Line { get; }

    public int Column { get; }
}
