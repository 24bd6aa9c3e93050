using Interop.Core.Model;

namespace Interop.Core.Adapters.Lxc;

/// <summary>
/// Parses what LXC passes to an <c>lxc.hook.*</c> command into a <see cref="HookCall"/>.
/// </summary>
/// <remarks>
/// Implementation notes (LXC 5.0.2 sources):
/// <list type="bullet">
/// <item>conf.c run_script_argv: version 0 runs <c>/bin/sh -c "exec SCRIPT NAME SECTION TYPE [argv...]"</c>,
/// version 1 runs <c>exec SCRIPT [argv...]</c> and sets LXC_HOOK_TYPE and LXC_HOOK_SECTION. The name is not
/// quoted, so under version 0 a name with blanks or shell metacharacters does not arrive intact: it then no
/// longer matches LXC_NAME and is refused (use lxc.hook.version = 1 for such names).</item>
/// <item>start.c lxc_init: LXC_NAME, LXC_CONFIG_FILE, LXC_ROOTFS_MOUNT, LXC_ROOTFS_PATH, LXC_CGNS_AWARE,
/// LXC_LOG_LEVEL and LXC_HOOK_VERSION ("0" or "1") are set before pre-start; LXC_PID only later
/// (lxc_spawn, before start-host). The hook also inherits the caller's whole environment, so a variable
/// LXC has not set yet for this hook (LXC_PID in pre-start, LXC_TARGET before stop, LXC_HOOK_TYPE under
/// version 0) may be a stale copy from an outer container and is ignored.</item>
/// <item>start.c lxc_end: LXC_TARGET=stop|reboot before stop; version 0 stop gets namespace args
/// <c>KIND:/proc/MONITOR/fd/N</c> (start.c setup_nsfd / lxc_try_preserve_namespace); version 1 gets
/// LXC_{KIND}_NS (namespace.c ns_info) for stop and post-stop. LXC's own run_lxc_hooks passes the
/// section "lxc" only.</item>
/// </list>
/// </remarks>
public static class LxcHook
{
    /// <summary>The only section lxc.hook.* commands run in (conf.c run_lxc_hooks passes "lxc").</summary>
    public const string Section = "lxc";

    /// <summary>Every hook type LXC 5 knows, in the order of conf.c lxchook_names.</summary>
    public static readonly IReadOnlyList<string> HookTypes =
    [
        "pre-start", "pre-mount", "mount", "autodev", "start", "stop", "post-stop", "clone", "destroy", "start-host",
    ];

    /// <summary>Namespace kinds as LXC names them in hook args and LXC_{KIND}_NS (namespace.c ns_info).</summary>
    public static readonly IReadOnlyList<string> NamespaceKinds = ["user", "mnt", "pid", "uts", "ipc", "net", "cgroup", "time"];

    /// <summary>
    /// Parses one hook call. <paramref name="args"/> are the words after <c>interopctl hook lxc</c>;
    /// <paramref name="env"/> is the process environment (only LXC_* are read).
    /// </summary>
    /// <exception cref="InvalidInputException">bad or inconsistent input; <see cref="InvalidInputException.Field"/>
    /// is "name", "section", "hook", "LXC_HOOK_VERSION", "LXC_PID", "LXC_TARGET" or the env var whose value is bad.</exception>
    public static HookCall Parse(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> env)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(env);

        var version = ParseVersion(env.GetValueOrDefault("LXC_HOOK_VERSION"));
        env.TryGetValue("LXC_NAME", out var envName);

        string name;
        string type;
        IReadOnlyList<string> nsArgs;
        if (version == 0)
        {
            if (args.Count < 3)
            {
                throw new InvalidInputException(
                    "hook",
                    $"expected 'NAME lxc TYPE' (lxc.hook.version 0), got {args.Count} argument(s); is this run by an lxc.hook.* line?");
            }

            // The name first: a name the shell split shows up here, and that is the error worth reporting.
            name = args[0];
            if (envName is not null && envName != name)
            {
                throw new InvalidInputException(
                    "name",
                    $"argument '{Printable.Of(name)}' does not match LXC_NAME '{Printable.Of(envName)}' (names with blanks need lxc.hook.version = 1)");
            }

            if (args[1] != Section)
            {
                throw new InvalidInputException("section", $"'{Printable.Of(args[1])}' is not the lxc section (only lxc.hook.* lines may run 'interopctl hook lxc')");
            }

            type = args[2];
            nsArgs = args.Count > 3 ? args.Skip(3).ToArray() : [];
        }
        else
        {
            name = envName ?? throw new InvalidInputException("name", "LXC_NAME is not set (lxc.hook.version 1 passes the name only there)");
            var section = env.GetValueOrDefault("LXC_HOOK_SECTION");
            if (section != Section)
            {
                throw new InvalidInputException("section", $"LXC_HOOK_SECTION is '{Printable.Of(section)}', expected 'lxc'");
            }

            type = env.GetValueOrDefault("LXC_HOOK_TYPE") ?? throw new InvalidInputException("hook", "LXC_HOOK_TYPE is not set");
            nsArgs = [];
        }

        Names.ValidateComponent(name, "name");
        if (!HookTypes.Contains(type))
        {
            throw new InvalidInputException("hook", $"'{Printable.Of(type)}' is not an LXC hook type (expected one of {string.Join(", ", HookTypes)})");
        }

        var ev = EventOf(type);
        var facts = new Dictionary<string, string>(StringComparer.Ordinal) { [FactKeys.Hook] = type };
        AddPathFact(facts, env, "LXC_CONFIG_FILE", FactKeys.ConfigFile);
        AddPathFact(facts, env, "LXC_ROOTFS_PATH", FactKeys.RootfsPath);
        if (env.GetValueOrDefault("LXC_CGNS_AWARE") == "1")
        {
            facts[FactKeys.CgnsAware] = "1";
        }

        int? leader = null;
        var endOfLife = ev.IsEndOfLife();
        if (type == "start-host")
        {
            // start.c lxc_spawn sets LXC_PID before running start-host: without it the call is not LXC's.
            leader = Names.ParsePid(env.GetValueOrDefault("LXC_PID"), "LXC_PID");
        }
        else if (endOfLife && env.TryGetValue("LXC_PID", out var pidText))
        {
            leader = Names.ParsePid(pidText, "LXC_PID");
        }

        if (endOfLife)
        {
            if (env.TryGetValue("LXC_TARGET", out var target))
            {
                if (target is not ("stop" or "reboot"))
                {
                    throw new InvalidInputException("LXC_TARGET", $"'{Printable.Of(target)}' is neither 'stop' nor 'reboot'");
                }

                facts[FactKeys.Target] = target;
            }

            // Version 0 stop passes them as args; the 5.0.2 captures show LXC_*_NS in the environment of
            // both versions from stop on, so the union is taken, in ns_info order.
            var found = NamespacesFromArgs(nsArgs);
            found.UnionWith(NamespacesFromEnv(env));
            var kinds = NamespaceKinds.Where(found.Contains).ToList();
            if (kinds.Count > 0)
            {
                facts[FactKeys.Namespaces] = string.Join(',', kinds);
            }
        }

        return new HookCall(Manager.Lxc, name, ev, type, leader, facts);
    }

    /// <summary>DESIGN.md section 7: pre-start, start-host, stop and post-stop matter; every other type is accepted and ignored.</summary>
    public static LifecycleEvent EventOf(string hookType) => hookType switch
    {
        "pre-start" => LifecycleEvent.Prepare,
        "start-host" => LifecycleEvent.Started,
        "stop" => LifecycleEvent.Stopped,
        "post-stop" => LifecycleEvent.Released,
        _ when HookTypes.Contains(hookType) => LifecycleEvent.Ignored,
        _ => throw new InvalidInputException("hook", $"'{Printable.Of(hookType)}' is not an LXC hook type"),
    };

    /// <summary>
    /// The event a call claims to be, read without validating anything else: when <see cref="Parse"/> refused the
    /// call, this decides whether failing is allowed (an end-of-life call never fails). <see cref="LifecycleEvent.Ignored"/>
    /// when no known hook type can be read.
    /// </summary>
    public static LifecycleEvent ClaimedEvent(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> env)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(env);
        var type = env.GetValueOrDefault("LXC_HOOK_VERSION") == "1" ? env.GetValueOrDefault("LXC_HOOK_TYPE") : args.Count >= 3 ? args[2] : null;
        return type is not null && HookTypes.Contains(type) ? EventOf(type) : LifecycleEvent.Ignored;
    }

    private static int ParseVersion(string? text) => text switch
    {
        // start.c lxc_init always sets it; absent means an older LXC or a manual run: version 0 (the default of lxc.hook.version).
        null or "0" => 0,
        "1" => 1,
        _ => throw new InvalidInputException("LXC_HOOK_VERSION", $"'{Printable.Of(text)}' is not 0 or 1"),
    };

    private static void AddPathFact(Dictionary<string, string> facts, IReadOnlyDictionary<string, string> env, string variable, string key)
    {
        if (!env.TryGetValue(variable, out var value) || value.Length == 0)
        {
            return;
        }

        if (value.Any(char.IsControl))
        {
            throw new InvalidInputException(variable, $"'{Printable.Of(value)}' contains a control character");
        }

        facts[key] = value;
    }

    // Version 0 stop args look like "mnt:/proc/9061/fd/39" (start.c: "%s:/proc/%d/fd/%d"). Unknown words are
    // skipped rather than refused: stop must not fail over an argument a newer LXC adds.
    private static HashSet<string> NamespacesFromArgs(IReadOnlyList<string> args)
    {
        var kinds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var arg in args)
        {
            var colon = arg.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == arg.Length - 1)
            {
                continue;
            }

            var kind = arg[..colon];
            if (NamespaceKinds.Contains(kind))
            {
                kinds.Add(kind);
            }
        }

        return kinds;
    }

    private static HashSet<string> NamespacesFromEnv(IReadOnlyDictionary<string, string> env)
    {
        var kinds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var kind in NamespaceKinds)
        {
            if (env.TryGetValue($"LXC_{kind.ToUpperInvariant()}_NS", out var path) && path.Length > 0)
            {
                kinds.Add(kind);
            }
        }

        return kinds;
    }
}
