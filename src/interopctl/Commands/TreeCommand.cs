using System.CommandLine;
using Interop.Core.Model;
using Interop.DBus;
using Interop.Ctl.Output;

namespace Interop.Ctl.Commands;

/// <summary>
/// <c>interopctl tree</c>: the shared root as a tree of partition dirs and containers, built from the cgroup
/// paths interopd reports (no cgroupfs walk).
/// </summary>
internal static class TreeCommand
{
    public static Command Create(CliContext context, GlobalOptions globals)
    {
        var command = new Command("tree", "Show the shared root as a tree: partition dirs and the containers of both managers below it.");
        command.SetAction((parseResult, ct) => ServiceCommand.RunAsync(context, globals, parseResult, (service, json) => RunAsync(context, service, json, ct), ct));
        return command;
    }

    internal static async Task<int> RunAsync(CliContext context, IInteropClient service, bool json, CancellationToken cancellationToken)
    {
        var properties = await service.GetPropertiesAsync(cancellationToken).ConfigureAwait(false);
        var rootPath = CgroupPath.Of(properties.SharedRoot);
        var root = rootPath.Value;
        var top = new Node(root, root);
        var notStarted = new List<ListedContainer>();
        var outside = new List<ListedContainer>();
        foreach (var m in (await ServiceCommand.ListAsync(service, cancellationToken).ConfigureAwait(false)).OrderBy(m => m.Manager).ThenBy(m => m.Name, StringComparer.Ordinal))
        {
            if (m.CgroupPath.Length == 0)
            {
                notStarted.Add(m);
                continue;
            }

            var path = CgroupPath.Of(m.CgroupPath);
            if (!path.IsBelow(rootPath))
            {
                outside.Add(m);
                continue;
            }

            var node = top;
            foreach (var part in path.RelativeTo(rootPath).Split('/'))
            {
                if (!node.Children.TryGetValue(part, out var child))
                {
                    child = new Node(part, node.Path + "/" + part);
                    node.Children.Add(part, child);
                }

                node = child;
            }

            node.Containers.Add(m);
        }

        if (json)
        {
            var tree = new TreeJson(root, top.Children.Values.Select(ToJson).ToList(), notStarted.Select(Json.Summary).ToList(), outside.Select(Json.Summary).ToList());
            Json.Write(context.Out, tree, CtlJsonContext.Default.TreeJson);
            return ExitCodes.Ok;
        }

        var o = context.Out;
        o.WriteLine(root + "  (shared root)");
        WriteChildren(o, top, string.Empty);
        WriteGroup(o, "not started (prepared, no cgroup yet):", notStarted);
        WriteGroup(o, "outside the shared root:", outside);
        return ExitCodes.Ok;
    }

    private static void WriteChildren(TextWriter o, Node node, string indent)
    {
        var children = node.Children.Values.ToList();
        for (var i = 0; i < children.Count; i++)
        {
            var last = i == children.Count - 1;
            var child = children[i];
            o.WriteLine($"{indent}{(last ? "└── " : "├── ")}{child.Name}{Label(child)}");
            WriteChildren(o, child, indent + (last ? "    " : "│   "));
        }
    }

    private static string Label(Node node) => node.Containers.Count == 0
        ? (node.Children.Count > 0 ? "/" : string.Empty)
        : "  [" + string.Join(", ", node.Containers.Select(Describe)) + "]";

    private static string Describe(ListedContainer m)
        => $"{m.Manager.ToWire()} {m.Name}, {m.State.ToWire()}" + (m.Leader == 0 ? string.Empty : $", pid {m.Leader}")
            + (m.Unit.Length == 0 ? string.Empty : $", unit {m.Unit}") + (m.Machine.Length == 0 ? string.Empty : $", machine {m.Machine}");

    private static void WriteGroup(TextWriter o, string title, List<ListedContainer> mappings)
    {
        if (mappings.Count == 0)
        {
            return;
        }

        o.WriteLine(title);
        foreach (var m in mappings)
        {
            o.WriteLine($"  {Describe(m)}{(m.CgroupPath.Length == 0 ? string.Empty : " at " + m.CgroupPath)}");
        }
    }

    private static TreeNodeJson ToJson(Node node)
    {
        var container = node.Containers.Count > 0 ? node.Containers[0] : null;
        return new TreeNodeJson(
            node.Name,
            node.Path,
            container is null ? "partition" : "container",
            container?.Manager.ToWire(),
            container?.Name,
            container?.State.ToWire(),
            container?.Leader,
            node.Children.Values.Select(ToJson).ToList(),
            container is { Unit.Length: > 0 } ? container.Unit : null,
            container is { Machine.Length: > 0 } ? container.Machine : null);
    }

    private sealed class Node(string name, string path)
    {
        public string Name { get; } = name;

        public string Path { get; } = path;

        public SortedDictionary<string, Node> Children { get; } = new(StringComparer.Ordinal);

        public List<ListedContainer> Containers { get; } = [];
    }
}
