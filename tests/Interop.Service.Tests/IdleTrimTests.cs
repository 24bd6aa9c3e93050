namespace Interop.Service.Tests;

public sealed class IdleTrimTests
{
    private const long Mb = 1024 * 1024;

    [Test]
    public void It_trims_once_when_a_busy_period_is_followed_by_an_idle_one_with_slack()
    {
        var trim = new IdleTrim(0);
        Assert.Multiple(() =>
        {
            Assert.That(trim.ShouldTrim(10 * Mb, 60 * Mb, 10 * Mb), Is.False, "busy: never during a burst");
            Assert.That(trim.ShouldTrim(10 * Mb + 1000, 60 * Mb, 10 * Mb), Is.True, "idle after work, 50 MB of slack");
            Assert.That(trim.ShouldTrim(10 * Mb + 2000, 60 * Mb, 10 * Mb), Is.False, "once per burst");
        });
    }

    [Test]
    public void It_does_not_trim_a_process_that_was_never_busy_or_has_little_slack()
    {
        var idle = new IdleTrim(0);
        var lean = new IdleTrim(0);
        Assert.Multiple(() =>
        {
            Assert.That(idle.ShouldTrim(1000, 60 * Mb, 10 * Mb), Is.False, "no work since start");
            Assert.That(lean.ShouldTrim(5 * Mb, 15 * Mb, 10 * Mb), Is.False);
            Assert.That(lean.ShouldTrim(5 * Mb, 15 * Mb, 10 * Mb), Is.False, "5 MB of slack is not worth a collection");
        });
    }

    [Test]
    public void Allocation_just_under_the_idle_mark_counts_as_idle()
    {
        var trim = new IdleTrim(0);
        trim.ShouldTrim(IdleTrim.IdleAllocationBytes, 0, 0);
        Assert.That(trim.ShouldTrim((2 * IdleTrim.IdleAllocationBytes) - 1, 100 * Mb, 0), Is.True);
    }
}
