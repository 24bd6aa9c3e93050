namespace Interop.Core.Model;

/// <summary>
/// The manager-neutral lifecycle of DESIGN.md section 7. Each adapter maps its hook types onto these;
/// hook types Interop does not act on map to <see cref="Ignored"/>.
/// </summary>
public enum LifecycleEvent
{
    Ignored,
    Prepare,
    Start,
    Started,
    Stopped,
    Released,
    Reconnect,
}

/// <summary>The rules attached to a <see cref="LifecycleEvent"/>.</summary>
public static class LifecycleEvents
{
    /// <summary>
    /// True for the end of a container's life (LXC stop/post-stop, libvirt stopped/release): the managers only log
    /// or ignore a failing hook there, so such a hook call never fails (DESIGN.md section 7: "never"). The one home of
    /// that rule: the adapters, the hook runner and the bad-input path all ask it.
    /// </summary>
    public static bool IsEndOfLife(this LifecycleEvent lifecycleEvent) => lifecycleEvent is LifecycleEvent.Stopped or LifecycleEvent.Released;
}
