namespace Interop.Ctl;

/// <summary>interopctl's exit codes (DESIGN.md section 9); the --help epilog lists them too.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>Refused or failed (a hook's refusal makes the manager abort the start).</summary>
    public const int Failed = 1;

    /// <summary>Bad command line or bad argument (admin commands only; hooks report bad input as 1).</summary>
    public const int Usage = 2;

    /// <summary>interopd cannot be reached on the bus.</summary>
    public const int Unreachable = 3;

    /// <summary>No such container.</summary>
    public const int NotFound = 4;

    public const string Epilog =
        "Exit codes: 0 ok, 1 refused or failed, 2 usage error, 3 interopd unreachable, 4 no such container.\n" +
        "Hooks: prepare/pre-start, started/start-host and reconnect exit 1 (refused, also for bad input) or 3\n" +
        "(daemon unreachable) so the manager aborts; stop, post-stop, stopped and release always exit 0 and\n" +
        "print a warning instead.\n" +
        "Bus: --bus, else $INTEROP_BUS_ADDRESS, else 'bus' in /etc/interop/interop.yaml ($INTEROP_CONFIG),\n" +
        "else the system bus. --json prints snake_case field names.";
}
