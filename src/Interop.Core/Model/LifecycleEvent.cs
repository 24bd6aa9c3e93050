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
