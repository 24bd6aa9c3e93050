namespace Interop.Core.Model;

/// <summary>
/// One hook invocation by a manager, parsed and validated by that manager's adapter.
/// </summary>
/// <param name="Manager">Who called.</param>
/// <param name="Name">The container (LXC) or domain (libvirt) name, validated as a path component.</param>
/// <param name="Event">The manager-neutral event (DESIGN.md section 7); <see cref="LifecycleEvent.Ignored"/> for hook types Interop does not act on.</param>
/// <param name="HookType">The manager's own word for it ("pre-start", "start-host", "prepare", "release", ...).</param>
/// <param name="Leader">The leader pid when the manager passed one (LXC_PID; libvirt's XML id), else null.</param>
/// <param name="Facts">What the daemon should know (keys in <see cref="FactKeys"/>).</param>
public sealed record HookCall(
    Manager Manager,
    string Name,
    LifecycleEvent Event,
    string HookType,
    int? Leader,
    IReadOnlyDictionary<string, string> Facts)
{
    /// <summary>True when the call ends the container's life (<see cref="LifecycleEvents.IsEndOfLife"/>): it never fails.</summary>
    public bool IsEndOfLife => Event.IsEndOfLife();
}
