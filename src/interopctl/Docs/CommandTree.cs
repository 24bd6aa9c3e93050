using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Help;

namespace Interop.Ctl.Docs;

/// <summary>
/// The visible command tree as the man page and the bash completion see it: the same commands, options,
/// arguments and descriptions that --help prints, so neither can drift from it.
/// </summary>
internal static class CommandTree
{
    /// <summary>Every visible command below the root, depth first, with its words after "interopctl".</summary>
    public static IEnumerable<(string Path, Command Command)> Commands(Command root)
    {
        foreach (var sub in root.Subcommands.Where(c => !c.Hidden))
        {
            yield return (sub.Name, sub);
            foreach (var (path, command) in Commands(sub))
            {
                yield return ($"{sub.Name} {path}", command);
            }
        }
    }

    /// <summary>The visible options of a command itself (not the ones it inherits).</summary>
    public static IEnumerable<Option> OwnOptions(Command command) =>
        command.Options.Where(o => !o.Hidden && !(command is not RootCommand && o is HelpOption));

    /// <summary>Every visible option a command accepts: its own and the recursive ones of its parents.</summary>
    public static IEnumerable<Option> AllOptions(Command command, IReadOnlyList<Command> parents)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var option in command.Options.Concat(parents.SelectMany(p => p.Options.Where(o => o.Recursive))))
        {
            if (!option.Hidden && seen.Add(option.Name))
            {
                yield return option;
            }
        }
    }

    /// <summary>
    /// The option's name and aliases, e.g. "-?, -h, --help" (short ones first, as --help prints them; not the
    /// "/?" and "/h" spellings, which --help does not show either).
    /// </summary>
    public static IEnumerable<string> Names(Option option) =>
        new[] { option.Name }.Concat(option.Aliases).Distinct(StringComparer.Ordinal)
            .Where(n => n.StartsWith('-'))
            .OrderBy(n => n.StartsWith("--", StringComparison.Ordinal) ? 1 : 0)
            .ThenBy(n => n, StringComparer.Ordinal);

    /// <summary>True when the option takes no value (a switch such as --json or --dry-run).</summary>
    public static bool IsFlag(Option option) =>
        option.Arity.MaximumNumberOfValues == 0 || option.ValueType == typeof(bool);

    /// <summary>The value's name in help, e.g. ADDRESS or lxc|libvirt; empty for a switch.</summary>
    public static string ValueName(Option option) =>
        IsFlag(option) ? string.Empty : option.HelpName ?? option.Name.TrimStart('-').ToUpperInvariant();

    /// <summary>The fixed values an option accepts (e.g. --manager lxc|libvirt); empty when any value goes.</summary>
    public static IReadOnlyList<string> FixedValues(Option option) =>
        IsFlag(option) ? [] : option.GetCompletions(CompletionContext.Empty).Select(c => c.Label).ToList();

    /// <summary>The command's words as a synopsis: "show NAME [--manager lxc|libvirt]".</summary>
    public static string Synopsis(string path, Command command)
    {
        var parts = new List<string> { path };
        foreach (var argument in command.Arguments.Where(a => !a.Hidden))
        {
            parts.Add(argument.Arity.MaximumNumberOfValues > 1 ? $"[{argument.Name}...]" : argument.Name);
        }

        if (command.Subcommands.Any(c => !c.Hidden))
        {
            parts.Add("COMMAND");
        }

        parts.AddRange(OwnOptions(command).Where(o => o is not HelpOption).Select(o =>
            IsFlag(o) ? $"[{o.Name}]" : $"[{o.Name} {ValueName(o)}]"));
        return string.Join(' ', parts);
    }
}
