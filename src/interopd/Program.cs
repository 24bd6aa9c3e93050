namespace Interop.Daemon;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("interopd: not wired yet");
        return args.Length == 0 ? 1 : 1;
    }
}
