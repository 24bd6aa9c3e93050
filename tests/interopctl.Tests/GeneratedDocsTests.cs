using System.Diagnostics;
using System.Text.RegularExpressions;
using Interop.Core.Model;
using Interop.Ctl.Docs;
using NSubstitute;

namespace Interop.Ctl.Tests;

/// <summary>
/// interopctl(1) and the bash completion are written from the command tree: these tests read --help the way
/// an admin does and fail when the man page or the completion says something else.
/// </summary>
public partial class GeneratedDocsTests
{
    /// <summary>The root and every visible command, from the tree itself: a new command is covered without a test edit.</summary>
    private static readonly string[] CommandPaths = [string.Empty, .. CommandTree.Commands(Cli.Build(IdleContext())).Select(c => c.Path)];

    private static readonly Mapping Web = new(
        Manager.Lxc, "web-1", string.Empty, ContainerState.Running, 4242, "/machine/lxc.payload.web-1",
        new Dictionary<string, string>(), 1, CgroupNamespaceKind.Private, MappingSource.Hook);

    private static readonly Mapping Db = Web with { Manager = Manager.Libvirt, Name = "db.two", Leader = 16923 };

    [Test]
    public async Task The_man_page_names_every_command_that_help_lists()
    {
        var man = await ManTextAsync();
        var rootHelp = await new CliHarness().RunAsync("--help");

        var commands = HelpEntries(rootHelp.Out, "Commands:").Select(e => e.Names[0]).ToList();

        Assert.That(commands, Has.Count.GreaterThanOrEqualTo(11), rootHelp.Out);
        Assert.That(commands, Does.Not.Contain(GeneratorName()), "the generator stays hidden from --help");
        foreach (var command in commands)
        {
            Assert.That(SectionStart(man, command), Is.GreaterThanOrEqualTo(0), $"interopctl(1) has no section for '{command}'");
        }
    }

    [TestCaseSource(nameof(CommandPaths))]
    public async Task The_man_page_says_what_help_says(string path)
    {
        var man = await ManTextAsync();
        var help = await new CliHarness().RunAsync([.. Words(path), "--help"]);
        Assert.That(help.Code, Is.EqualTo(0), help.ToString());

        var description = Section(help.Out, "Description:").Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        Assert.That(description, Is.Not.Empty, help.Out);
        foreach (var line in description)
        {
            Assert.That(man, Does.Contain(Normalize(line)), $"'{path}': the man page lacks the description line '{line}'");
        }

        var entries = HelpEntries(help.Out, "Arguments:").Concat(HelpEntries(help.Out, "Options:")).ToList();
        Assert.That(entries, Is.Not.Empty, help.Out);
        foreach (var entry in entries)
        {
            foreach (var name in entry.Names)
            {
                Assert.That(man, Does.Contain(name), $"'{path}': the man page lacks '{name}'");
            }

            Assert.That(man, Does.Contain(Normalize(entry.Description)), $"'{path}': the man page describes {entry.Names[0]} otherwise than --help: '{entry.Description}'");
        }

        // And the other way round: every option the man page gives this command is one --help knows.
        var helpOptions = entries.SelectMany(e => e.Names).ToHashSet(StringComparer.Ordinal);
        var manOptions = OptionPattern().Matches(ManSection(man, path)).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
        Assert.That(manOptions, Is.SubsetOf(helpOptions), $"'{path}': the man page gives options --help does not list");
    }

    [Test]
    public async Task The_man_page_lists_the_exit_codes_of_the_help_epilog()
    {
        var man = await ManTextAsync();

        Assert.That(man, Does.Contain("EXIT STATUS").And.Contain(Normalize(ExitCodes.Epilog.Split('\n')[0])));
    }

    [Test]
    public void Roff_escaping_keeps_minus_signs_and_guards_a_leading_dot()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ManPage.Escape("--bus a\\b"), Is.EqualTo("\\-\\-bus a\\eb"));
            Assert.That(ManPage.Escape(".include"), Is.EqualTo("\\&.include"));
            Assert.That(ManPage.Escape("'quoted'"), Is.EqualTo("\\&'quoted'"));
        });
    }

    [Test]
    public async Task Completion_offers_the_commands_that_help_lists()
    {
        var rootHelp = await new CliHarness().RunAsync("--help");
        var commands = HelpEntries(rootHelp.Out, "Commands:").Select(e => e.Names[0]).Order(StringComparer.Ordinal).ToList();

        var offered = await CompleteAsync(["interopctl", ""]);

        Assert.That(offered.Order(StringComparer.Ordinal), Is.EqualTo(commands));
        Assert.That(await CompleteAsync(["interopctl", "st"]), Is.EquivalentTo(new[] { "status" }));
        Assert.That(await CompleteAsync(["interopctl", "hook", ""]), Is.EquivalentTo(new[] { "lxc", "libvirt" }));
    }

    [Test]
    public async Task Completion_offers_the_options_that_help_lists()
    {
        var help = await new CliHarness().RunAsync("prune", "--help");
        var options = HelpEntries(help.Out, "Options:").SelectMany(e => e.Names).Where(n => n.StartsWith("--", StringComparison.Ordinal));

        var offered = await CompleteAsync(["interopctl", "prune", "--"]);

        Assert.That(offered, Is.EquivalentTo(options));
        Assert.That(await CompleteAsync(["interopctl", "show", "web", "--manager", ""]), Is.EquivalentTo(new[] { "lxc", "libvirt" }));
        Assert.That(await CompleteAsync(["interopctl", "--bus", "s"]), Is.EquivalentTo(new[] { "system", "session" }));
    }

    [Test]
    public async Task Completion_offers_the_names_the_daemon_lists_where_a_name_goes()
    {
        Assert.That(await CompleteAsync(["interopctl", "show", ""]), Is.EquivalentTo(new[] { "web-1", "db.two" }));
        Assert.That(await CompleteAsync(["interopctl", "--json", "get", "w"]), Is.EquivalentTo(new[] { "web-1" }));
        Assert.That(await CompleteAsync(["interopctl", "set", "--manager", "lxc", "d"]), Is.EquivalentTo(new[] { "db.two" }));

        // After the name comes a key: no names there.
        Assert.That(await CompleteAsync(["interopctl", "get", "web-1", ""]), Is.Empty);
    }

    [Test]
    public async Task Completion_passes_the_bus_given_on_the_line_to_the_daemon_query()
    {
        var offered = await CompleteAsync(["interopctl", "--bus", "session", "show", ""], expectBus: "session");

        Assert.That(offered, Is.EquivalentTo(new[] { "web-1", "db.two" }));
    }

    [Test]
    public async Task Completion_offers_no_names_when_the_daemon_does_not_answer()
    {
        var offered = await CompleteAsync(["interopctl", "show", ""], daemonAnswers: false);

        Assert.That(offered, Is.Empty);
    }

    private static string GeneratorName() => Commands.GenerateCommand.Name;

    [Test]
    public void The_tree_the_tests_walk_has_the_documented_commands()
    {
        Assert.That(CommandPaths, Is.SupersetOf(new[] { "", "list", "show", "whois", "tree", "status", "setup", "prune", "get", "set", "lxc-config", "hook", "hook lxc", "hook libvirt" }));
        Assert.That(CommandPaths, Does.Not.Contain(GeneratorName()));
    }

    /// <summary>A context that only lets the command tree be built (nothing is run through it).</summary>
    private static CliContext IdleContext() => new()
    {
        Out = TextWriter.Null,
        Error = TextWriter.Null,
        Connect = (_, _) => throw new InvalidOperationException("not connected"),
        GetVariable = _ => null,
        GetLxcEnvironment = () => new Dictionary<string, string>(),
        ReadStdin = _ => [],
        ReadFile = _ => null,
        ProbeLocal = root => new LocalHealth("hybrid", root, [], [], null),
    };

    /// <summary>
    /// Runs the generated script in bash the way readline does (COMP_WORDS, COMP_CWORD), with an 'interopctl'
    /// on PATH that prints what the real one prints for '--json list' (exit 3 when the daemon "does not answer").
    /// </summary>
    private static async Task<string[]> CompleteAsync(string[] words, bool daemonAnswers = true, string? expectBus = null)
    {
        var script = (await new CliHarness().RunAsync(GeneratorName(), "bash-completion")).Out;
        var h = new CliHarness();
        h.Containers(Web, Db);
        var json = (await h.RunAsync("--json", "list")).Out;

        var dir = Directory.CreateTempSubdirectory("interopctl-completion-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "completion"), script);
            File.WriteAllText(Path.Combine(dir.FullName, "list.json"), json);
            var busCheck = expectBus is null ? string.Empty : $"[ \"$1 $2\" = '--bus {expectBus}' ] || exit 9\n";
            File.WriteAllText(
                Path.Combine(dir.FullName, "interopctl"),
                daemonAnswers ? $"#!/bin/sh\n{busCheck}cat '{dir.FullName}/list.json'\n" : "#!/bin/sh\necho 'interopctl: cannot reach interopd' >&2\nexit 3\n");

            var line = string.Join(' ', words);
            var quoted = string.Join(' ', words.Select(w => $"'{w}'"));
            var driver =
                $"chmod 0755 '{dir.FullName}/interopctl' && PATH='{dir.FullName}':$PATH\n" +
                $". '{dir.FullName}/completion'\n" +
                "complete -p interopctl >/dev/null || exit 8\n" +
                $"COMP_WORDS=({quoted}); COMP_CWORD={words.Length - 1}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}\n" +
                "_interopctl\n" +
                "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
            var info = new ProcessStartInfo("bash", ["--norc", "--noprofile", "-c", driver])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var bash = Process.Start(info)!;
            var stdout = bash.StandardOutput.ReadToEndAsync();
            var stderr = bash.StandardError.ReadToEndAsync();
            Assert.That(bash.WaitForExit(TimeSpan.FromSeconds(30)), Is.True, "bash did not finish");
            Assert.That(bash.ExitCode, Is.EqualTo(0), await stderr);
            Assert.That(await stderr, Is.Empty);
            return (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static string[] Words(string path) => path.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>interopctl(1) with the roff escapes and font changes taken out and whitespace folded.</summary>
    private static async Task<string> ManTextAsync()
    {
        var result = await new CliHarness().RunAsync(GeneratorName(), "man");
        Assert.That(result.Code, Is.EqualTo(0), result.ToString());
        Assert.That(result.Out, Does.StartWith(".\\\"").And.Contain(".TH INTEROPCTL 1"));
        var text = Regex.Replace(result.Out, @"\\f[BIR]", string.Empty)
            .Replace("\\-", "-", StringComparison.Ordinal)
            .Replace("\\&", string.Empty, StringComparison.Ordinal)
            .Replace("\\e", "\\", StringComparison.Ordinal);
        return Normalize(text);
    }

    /// <summary>The part of the folded man text about one command: from its .SS heading to the next one.</summary>
    private static string ManSection(string man, string path)
    {
        if (path.Length == 0)
        {
            var options = man.IndexOf(".SH OPTIONS", StringComparison.Ordinal);
            return man[options..man.IndexOf(".SH COMMANDS", StringComparison.Ordinal)];
        }

        var start = SectionStart(man, path);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), $"no .SS section for '{path}'");
        var end = man.IndexOf(".S", start + 4, StringComparison.Ordinal);
        return man[start..end];
    }

    private static int SectionStart(string man, string path)
    {
        var match = Regex.Match(man, $"\\.SS \"{Regex.Escape(path)}[ \"]");
        return match.Success ? match.Index : -1;
    }

    /// <summary>The lines of one help section ("Options:"), up to the next blank line.</summary>
    private static IEnumerable<string> Section(string help, string title) =>
        help.Split('\n').SkipWhile(l => l.TrimEnd() != title).Skip(1).TakeWhile(l => l.Trim().Length > 0);

    /// <summary>"  -?, -h, --help   Show help" entries of a section, continuation lines joined.</summary>
    private static List<HelpEntry> HelpEntries(string help, string title)
    {
        var entries = new List<HelpEntry>();
        foreach (var line in Section(help, title))
        {
            var match = EntryPattern().Match(line);
            if (match.Success)
            {
                // "--bus <ADDRESS>" is --bus; an argument "<NAME>" (or "<NAME OP SUBOP EXTRA>...") is its name.
                var names = match.Groups["names"].Value.Split(", ")
                    .Select(n => n.Trim())
                    .Select(n => n.StartsWith('<') ? n.TrimEnd('.').Trim('<', '>') : n.Split(' ')[0])
                    .ToArray();
                entries.Add(new HelpEntry(names, match.Groups["text"].Value.Trim()));
            }
            else if (entries.Count > 0)
            {
                entries[^1] = entries[^1] with { Description = $"{entries[^1].Description} {line.Trim()}" };
            }
        }

        return entries;
    }

    private static string Normalize(string text) => WhitespacePattern().Replace(text, " ").Trim();

    [GeneratedRegex(@"^  (?<names>\S.*?)(?: {2,}(?<text>\S.*))?$")]
    private static partial Regex EntryPattern();

    [GeneratedRegex(@"(?<![\w-])--[a-z][a-z-]*(?![\w.])")]
    private static partial Regex OptionPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhitespacePattern();

    private sealed record HelpEntry(string[] Names, string Description);
}
