namespace Interop.Core.Service;

/// <summary>
/// Whether the daemon's last state write succeeded. A change whose write fails is still made and answered (a
/// container start must not fail because /var is full), and this says so until a write succeeds again: the
/// D-Bus property StateWritable (with PropertiesChanged) and `interopctl status`.
/// </summary>
public interface IStateHealth
{
    /// <summary>False from a failed state write until the next one succeeds: the registry then lives in memory only.</summary>
    bool StateWritable { get; }

    /// <summary>Raised when <see cref="StateWritable"/> changes.</summary>
    event EventHandler? StateWritableChanged;
}
