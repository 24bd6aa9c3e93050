namespace Interop.Core.Model;

/// <summary>The container managers Interop knows. The wire names are "lxc" and "libvirt".</summary>
public enum Manager
{
    Lxc,
    Libvirt,
}

public static class ManagerNames
{
    public const string Lxc = "lxc";
    public const string Libvirt = "libvirt";

    public static string ToWire(this Manager manager) => manager switch
    {
        Manager.Lxc => Lxc,
        Manager.Libvirt => Libvirt,
        _ => throw new ArgumentOutOfRangeException(nameof(manager)),
    };

    /// <summary>Parses "lxc" or "libvirt"; anything else is an <see cref="InvalidInputException"/>.</summary>
    public static Manager Parse(string value) => value switch
    {
        Lxc => Manager.Lxc,
        Libvirt => Manager.Libvirt,
        _ => throw new InvalidInputException("manager", $"'{Printable.Of(value)}' is not a manager (expected 'lxc' or 'libvirt')"),
    };
}
