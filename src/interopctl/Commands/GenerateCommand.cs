using System.CommandLine;
using Interop.Ctl.Docs;

namespace Interop.Ctl.Commands;

/// <summary>
/// <c>interopctl __generate man|bash-completion</c> (hidden): writes interopctl(1) or the bash completion
/// script from the command tree that --help prints, so neither can drift from it. 'make install' and the
/// Debian package run it at build time.
/// </summary>
internal static class GenerateCommand
{
    public const string Name = "__generate";

    public static Command Create(CliContext context)
    {
        var what = new Argument<string>("WHAT") { Description = "man (interopctl(1) in roff) or bash-completion." };
        what.AcceptOnlyFromAmong("man", "bash-completion");
        var command = new Command(Name, "Write interopctl(1) or the bash completion script from the command tree.")
        {
            what,
        };
        command.Hidden = true;
        command.SetAction(parseResult =>
        {
            var root = (RootCommand)parseResult.RootCommandResult.Command;
            context.Out.Write(parseResult.GetValue(what) == "man" ? ManPage.Write(root) : BashCompletion.Write(root));
            return ExitCodes.Ok;
        });
        return command;
    }
}
