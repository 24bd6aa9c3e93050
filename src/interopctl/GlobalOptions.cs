using System.CommandLine;

namespace Interop.Ctl;

/// <summary>Options every command accepts (--bus, --json); --help and --version come with the root command.</summary>
internal sealed class GlobalOptions
{
    public GlobalOptions()
    {
        // What the bash completion offers after --bus (an address is typed out).
        Bus.CompletionSources.Add("system", "session");
    }

    public Option<string> Bus { get; } = new("--bus")
    {
        Description = "The bus interopd is on: 'system', 'session' or a D-Bus address (unix:path=...). " +
            "Default: $INTEROP_BUS_ADDRESS, else 'bus' in /etc/interop/interop.yaml, else the system bus.",
        HelpName = "ADDRESS",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print JSON (snake_case field names) instead of tables, for scripts.",
        Recursive = true,
    };

    /// <summary>--manager for commands that take a container name.</summary>
    public static Option<string> ManagerOption()
    {
        var option = new Option<string>("--manager")
        {
            Description = "The container's manager; needed only when the name exists under both.",
            HelpName = "lxc|libvirt",
        };
        option.AcceptOnlyFromAmong("lxc", "libvirt");
        return option;
    }
}
