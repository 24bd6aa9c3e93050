namespace Interop.Ctl;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("interopctl: not wired yet");
        return args.Length == 0 ? 2 : 2;
    }
}
