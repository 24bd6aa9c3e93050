namespace Interop.Core.Model;

/// <summary>Where a container is in its lifecycle (DESIGN.md section 7). Wire names are lower case.</summary>
public enum ContainerState
{
    Prepared,
    Running,
    Stopping,
}

public static class ContainerStateNames
{
    public static string ToWire(this ContainerState state) => state switch
    {
        ContainerState.Prepared => "prepared",
        ContainerState.Running => "running",
        ContainerState.Stopping => "stopping",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public static ContainerState Parse(string value) => value switch
    {
        "prepared" => ContainerState.Prepared,
        "running" => ContainerState.Running,
        "stopping" => ContainerState.Stopping,
        _ => throw new InvalidInputException("state", $"'{Printable.Of(value)}' is not a container state"),
    };
}
