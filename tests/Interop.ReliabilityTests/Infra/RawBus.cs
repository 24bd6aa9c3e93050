using Tmds.DBus.Protocol;

namespace Interop.ReliabilityTests.Infra;

/// <summary>
/// A bare bus connection that sends any argument the wire allows (no client-side validation, unlike InteropClient,
/// which takes a Manager enum) and returns the error name, or null for a method return.
/// Arguments: string, uint, bool or IReadOnlyDictionary&lt;string, string&gt; (a{ss}).
/// </summary>
internal sealed class RawBus : IAsyncDisposable
{
    public const string Dest = "org.interop.Interop1";
    public const string ManagerPath = "/org/interop/Interop1";
    public const string ManagerIface = "org.interop.Interop1.Manager";
    public const string ContainerIface = "org.interop.Interop1.Container";
    public const string InvalidArgument = "org.interop.Interop1.Error.InvalidArgument";

    private readonly DBusConnection _connection;

    private RawBus(DBusConnection connection)
    {
        _connection = connection;
    }

    public static async Task<RawBus> ConnectAsync(string address)
    {
        var c = new DBusConnection(new DBusConnectionOptions(address) { AutoConnect = false });
        await c.ConnectAsync();
        await Task.Yield();
        return new RawBus(c);
    }

    public async Task<(string? Error, string Message)> CallAsync(string path, string iface, string member, params object[] args)
    {
        var signature = string.Concat(args.Select(a => a switch
        {
            string => "s",
            uint => "u",
            bool => "b",
            IReadOnlyDictionary<string, string> => "a{ss}",
            _ => throw new ArgumentException($"unsupported argument {a.GetType()}"),
        }));
        MessageBuffer message;
        var w = _connection.GetMessageWriter();
        try
        {
            w.WriteMethodCallHeader(Dest, path, iface, member, signature.Length == 0 ? null : signature, MessageFlags.None);
            foreach (var a in args)
            {
                switch (a)
                {
                    case string s:
                        w.WriteString(s);
                        break;
                    case uint u:
                        w.WriteUInt32(u);
                        break;
                    case bool b:
                        w.WriteBool(b);
                        break;
                    case IReadOnlyDictionary<string, string> d:
                        var dict = w.WriteDictionaryStart();
                        foreach (var (k, v) in d)
                        {
                            w.WriteDictionaryEntryStart();
                            w.WriteString(k);
                            w.WriteString(v);
                        }

                        w.WriteDictionaryEnd(dict);
                        break;
                }
            }

            message = w.CreateMessage();
        }
        finally
        {
            w.Dispose();
        }

        try
        {
            await _connection.CallMethodAsync(message).WaitAsync(TimeSpan.FromSeconds(20));
            return (null, "");
        }
        catch (DBusErrorReplyException ex)
        {
            return (ex.ErrorName, ex.ErrorMessage);
        }
        finally
        {
            // Off the connection's read loop before the caller blocks on anything.
            await Task.Yield();
        }
    }

    public ValueTask DisposeAsync()
    {
        _connection.Dispose();
        return ValueTask.CompletedTask;
    }
}
