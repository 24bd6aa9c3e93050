using System.Globalization;
using System.Text;
using Interop.Core.Model;
using Interop.Core.Text;

namespace Interop.Core.Adapters.Libvirt;

/// <summary>
/// libvirt's names for an LXC domain's cgroups, computed exactly as libvirt computes them, and their reverse.
/// Implementation notes: the machine name is made once per start from the libvirt_lxc controller pid
/// (src/lxc/lxc_domain.c virLXCDomainGetMachineName falls back to
/// src/hypervisor/domain_driver.c virDomainDriverGenerateMachineName("lxc", NULL, id, name, true));
/// the 64-character cap counts the "lxc-&lt;id&gt;-" prefix, so the same domain gets a longer or shorter
/// filtered name depending on how many digits its pid has. Partition escaping asks /proc/cgroups for
/// controller names: here they come in as data (see <see cref="ControllerTokens"/>).
/// </summary>
public static class LibvirtNames
{
    /// <summary>The driver name libvirt's LXC driver passes everywhere ("lxc").</summary>
    public const string Driver = "lxc";

    /// <summary>libvirt's default resource partition (src/lxc/lxc_process.c virLXCProcessStart).</summary>
    public const string DefaultPartition = "/machine";

    /// <summary>vircgroup.c virCgroupNewDomainPartition: "%s.libvirt-%s" with the driver "lxc".</summary>
    public const string LeafSuffix = ".libvirt-lxc";

    /// <summary>vircgroup.c virCgroupSetPartitionSuffix: the suffix of partition dirs.</summary>
    public const string PartitionSuffix = ".partition";

    /// <summary>Where libvirt's LXC driver writes each running domain's controller pid, as NAME.pid (lxc_conf.h LXC_STATE_DIR).</summary>
    public const string RunDir = "/run/libvirt/lxc";

    /// <summary>domain_driver.c virDomainMachineNameAppendValid: stop appending once the buffer holds 64 bytes.</summary>
    public const int MaxMachineName = 64;

    private const string Prefix = Driver + "-";

    /// <summary>
    /// domain_driver.c virDomainDriverGenerateMachineName + virDomainMachineNameAppendValid:
    /// "lxc-&lt;id&gt;-" then the name's bytes: [A-Za-z0-9] kept; '-' or '.' kept only when the last KEPT byte was a
    /// letter or digit (at the start nothing was kept, so a leading '-'/'.' is dropped; a dropped byte such as
    /// '_' does not reset this); anything else dropped; no byte is looked at once the whole buffer is 64 long;
    /// then virBufferTrimChars(buf, "-.") trims trailing '-'/'.' from the WHOLE buffer, so a name that keeps
    /// nothing ("_") gives "lxc-&lt;id&gt;".
    /// </summary>
    public static string MachineName(long id, string domainName)
    {
        ArgumentNullException.ThrowIfNull(domainName);
        var sb = new StringBuilder(MaxMachineName + 8);
        sb.Append(Prefix).Append(id.ToString(CultureInfo.InvariantCulture)).Append('-');
        var skip = true;
        foreach (var b in Encoding.UTF8.GetBytes(domainName))
        {
            if (sb.Length >= MaxMachineName)
            {
                break;
            }

            if (b is (byte)'.' or (byte)'-')
            {
                if (!skip)
                {
                    sb.Append((char)b);
                    skip = true;
                }

                continue;
            }

            // HOSTNAME_CHARS holds '-' too, but '-' was handled above: what is left is [A-Za-z0-9].
            if (!char.IsAsciiLetterOrDigit((char)b))
            {
                continue;
            }

            sb.Append((char)b);
            skip = false;
        }

        // virbuffer.c virBufferTrimChars: for (i = len - 1; i > 0; i--) stop at the first byte not in "-.".
        var end = sb.Length;
        while (end > 1 && sb[end - 1] is '-' or '.')
        {
            end--;
        }

        return sb.ToString(0, end);
    }

    /// <summary>The filtered domain-name part of <see cref="MachineName"/> (empty when nothing was kept).</summary>
    public static string FilteredName(long id, string domainName)
    {
        var machine = MachineName(id, domainName);
        var prefix = Prefix + id.ToString(CultureInfo.InvariantCulture) + "-";
        return machine.Length > prefix.Length ? machine[prefix.Length..] : string.Empty;
    }

    /// <summary>
    /// vircgroup.c virCgroupPartitionNeedsEscaping + virCgroupPartitionEscape: a component that starts with
    /// "cgroup.", '_' or '.', or with "&lt;controller&gt;." for a controller token, gets a leading '_'.
    /// The controller test is libvirt's: STRPREFIX(path, token) &amp;&amp; path[strlen(token)] == '.'.
    /// </summary>
    public static string EscapeComponent(string component, IReadOnlyCollection<string> controllers)
    {
        ArgumentNullException.ThrowIfNull(component);
        ArgumentNullException.ThrowIfNull(controllers);
        return NeedsEscaping(component, controllers) ? "_" + component : component;
    }

    /// <summary>
    /// vircgroup.c virCgroupSetPartitionSuffix, as used by virCgroupNewPartition: the partition (absolute) split
    /// on '/'; a first-level "machine", "system" or "user" is left alone; every other component without a '.'
    /// gets ".partition"; then each is escaped (<see cref="EscapeComponent"/>). Returned relative to the
    /// hierarchy root, without a leading '/': "/machine" gives "machine", "/containers" gives
    /// "containers.partition", "/machine/web" gives "machine/web.partition".
    /// Refused (<see cref="InvalidInputException"/> on "partition"): not absolute (virCgroupNewPartition
    /// "must start with '/'"), the root itself, empty, "." or ".." components, control characters, and any
    /// resulting component over 255 bytes.
    /// </summary>
    public static string PartitionDir(string? partition, IReadOnlyCollection<string> controllers)
    {
        ArgumentNullException.ThrowIfNull(controllers);
        if (string.IsNullOrEmpty(partition))
        {
            throw new InvalidInputException(FactKeys.Partition, "must not be empty");
        }

        if (!partition.StartsWith('/'))
        {
            throw new InvalidInputException(FactKeys.Partition, $"'{Printable.Of(partition)}' must start with '/' (libvirt partitions are absolute)");
        }

        var relative = Names.ValidateRelativePath(partition, FactKeys.Partition);
        var parts = relative.Split('/');
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (i == 0 && part is "machine" or "system" or "user")
            {
                continue;
            }

            if (!part.Contains('.', StringComparison.Ordinal))
            {
                part += PartitionSuffix;
            }

            parts[i] = Names.ValidateComponent(EscapeComponent(part, controllers), FactKeys.Partition);
        }

        return string.Join('/', parts);
    }

    /// <summary>
    /// The controller tokens libvirt's virCgroupPartitionNeedsEscaping (vircgroup.c) takes from the text of
    /// /proc/cgroups: each line (with its '\n') not starting with "#subsys_name", cut at its first ' ', or the
    /// whole line when it has none. NOTE: the kernel separates /proc/cgroups fields with TABS, so on a real host
    /// every token keeps its "\t..\n" tail and never matches a partition component: libvirt's controller-prefix
    /// escaping does not fire there. Feeding these tokens to <see cref="PartitionDir"/> reproduces libvirt
    /// byte for byte; feeding bare controller names applies the rule as libvirt documents it.
    /// </summary>
    public static IReadOnlyList<string> ControllerTokens(string procCgroupsText)
    {
        ArgumentNullException.ThrowIfNull(procCgroupsText);
        var tokens = new List<string>();
        var start = 0;
        while (start < procCgroupsText.Length)
        {
            var nl = procCgroupsText.IndexOf('\n', start);
            var line = nl < 0 ? procCgroupsText[start..] : procCgroupsText[start..(nl + 1)];
            start = nl < 0 ? procCgroupsText.Length : nl + 1;
            if (line.StartsWith("#subsys_name", StringComparison.Ordinal))
            {
                continue;
            }

            var space = line.IndexOf(' ', StringComparison.Ordinal);
            tokens.Add(space < 0 ? line : line[..space]);
        }

        return tokens;
    }

    /// <summary>
    /// The reverse of libvirt's leaf name (vircgroup.c virCgroupNewDomainPartition: the machine name + <see cref="LeafSuffix"/>): "lxc-&lt;pid&gt;-&lt;filtered&gt;.libvirt-lxc" (or "lxc-&lt;pid&gt;.libvirt-lxc"
    /// when nothing of the name was kept) gives a Payload match with the pid and the filtered name. Only names
    /// libvirt can produce match: the pid is written as %d, and the name part must be a fixed point of the filter
    /// for that pid.
    /// </summary>
    public static LayoutMatch? ParseLeaf(string childName)
    {
        ArgumentNullException.ThrowIfNull(childName);
        if (!childName.EndsWith(LeafSuffix, StringComparison.Ordinal))
        {
            return null;
        }

        return ParseMachineName(childName[..^LeafSuffix.Length]);
    }

    /// <summary>
    /// The reverse of the machined layout: "machine-&lt;esc(machine name)&gt;.scope" (systemd escaping) gives a
    /// Payload match with the pid and the filtered name, like <see cref="ParseLeaf"/>.
    /// </summary>
    public static LayoutMatch? ParseScope(string scopeName)
    {
        var machine = SystemdEscape.MachineNameOfScope(scopeName);
        return machine is null ? null : ParseMachineName(machine);
    }

    /// <summary>A machine name "lxc-&lt;pid&gt;[-&lt;filtered&gt;]" as libvirt makes it, or null.</summary>
    public static LayoutMatch? ParseMachineName(string machineName)
    {
        ArgumentNullException.ThrowIfNull(machineName);
        if (!machineName.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = machineName.AsSpan(Prefix.Length);
        var digits = 0;
        while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
        {
            digits++;
        }

        if (digits == 0 || digits > 10 || rest[0] == '0' ||
            !int.TryParse(rest[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 1)
        {
            return null;
        }

        string name;
        if (digits == rest.Length)
        {
            name = string.Empty;
        }
        else if (rest[digits] == '-' && digits + 1 < rest.Length)
        {
            name = rest[(digits + 1)..].ToString();
        }
        else
        {
            return null;
        }

        return MachineName(pid, name) == machineName
            ? new LayoutMatch(Manager.Libvirt, DirRole.Payload, name, pid)
            : null;
    }

    private static bool NeedsEscaping(string component, IReadOnlyCollection<string> controllers)
    {
        if (component.StartsWith("cgroup.", StringComparison.Ordinal) || component.StartsWith('_') || component.StartsWith('.'))
        {
            return true;
        }

        foreach (var token in controllers)
        {
            if (token is not null && component.Length > token.Length &&
                component.StartsWith(token, StringComparison.Ordinal) && component[token.Length] == '.')
            {
                return true;
            }
        }

        return false;
    }
}
