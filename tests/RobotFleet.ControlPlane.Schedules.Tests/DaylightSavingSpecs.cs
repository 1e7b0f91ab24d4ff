using RobotFleet.ControlPlane.Schedules;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Schedules.Tests;

/// <summary>
/// Fire times of the schedules' Quartz cron triggers across the Europe/Berlin 2026 transitions:
/// spring forward Sun 29 March 02:00 CET -> 03:00 CEST (01:00Z), fall back Sun 25 October 03:00 CEST -> 02:00 CET (01:00Z).
/// Computed with the same trigger the scheduler stores (<see cref="ScheduleService.BuildTrigger"/>), so no clock is involved.
/// </summary>
public sealed class DaylightSavingSpecs
{
    private static readonly TimeZoneInfo Berlin = ScheduleService.FindTimeZone("Europe/Berlin")!;

    private static List<DateTimeOffset> FireTimes(string cron, DateTimeOffset fromUtc, DateTimeOffset toUtc)
    {
        var definition = new ScheduleDefinition("t", cron, "Europe/Berlin", MisfirePolicy.Skip, new MissionTemplate(MissionKind.Delivery, "a", "b", 0));
        var trigger = ScheduleService.BuildTrigger(definition, Berlin, fromUtc);
        var times = new List<DateTimeOffset>();
        for (var t = trigger.GetFireTimeAfter(fromUtc.AddTicks(-1)); t is { } next && next < toUtc; t = trigger.GetFireTimeAfter(next))
            times.Add(next);
        return times;
    }

    private static DateTimeOffset Utc(int month, int day, int hour, int minute = 0) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public void Iana_zones_resolve_with_invariant_globalization()
    {
        Assert.Equal(TimeSpan.FromHours(1), Berlin.GetUtcOffset(Utc(1, 15, 12)));
        Assert.Equal(TimeSpan.FromHours(2), Berlin.GetUtcOffset(Utc(7, 15, 12)));
        Assert.Null(ScheduleService.FindTimeZone("Mars/Olympus_Mons"));
    }

    [Fact]
    public void Daily_0230_fires_exactly_once_on_the_spring_forward_day_though_0230_does_not_exist()
    {
        var times = FireTimes("0 30 2 * * ?", Utc(3, 27, 0), Utc(3, 31, 0));

        // 28 March 02:30 CET = 01:30Z; 29 March 02:30 does not exist: Quartz fires at the first instant after the gap,
        // 03:00 CEST = 01:00Z (not skipped, not twice); 30 March 02:30 CEST = 00:30Z.
        Assert.Equal([Utc(3, 27, 1, 30), Utc(3, 28, 1, 30), Utc(3, 29, 1, 0), Utc(3, 30, 0, 30)], times);
    }

    [Fact]
    public void Daily_0230_fires_exactly_once_on_the_fall_back_day_though_0230_happens_twice()
    {
        var times = FireTimes("0 30 2 * * ?", Utc(10, 23, 0), Utc(10, 27, 0));

        // 25 October 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET): Quartz fires once, at the first.
        Assert.Equal([Utc(10, 23, 0, 30), Utc(10, 24, 0, 30), Utc(10, 25, 0, 30), Utc(10, 26, 1, 30)], times);
    }

    [Fact]
    public void Hourly_has_23_firings_on_the_spring_day_and_no_storm()
    {
        // Local day 29 March = [28 March 23:00Z, 29 March 22:00Z): 23 hours long.
        var times = FireTimes("0 0 * * * ?", Utc(3, 28, 23), Utc(3, 29, 22));

        Assert.Equal(Enumerable.Range(0, 23).Select(h => Utc(3, 28, 23).AddHours(h)).ToList(), times);
    }

    [Fact]
    public void Hourly_has_25_firings_on_the_autumn_day_one_per_real_hour()
    {
        // Local day 25 October = [24 October 22:00Z, 25 October 23:00Z): 25 hours long; 02:00 local happens twice.
        var times = FireTimes("0 0 * * * ?", Utc(10, 24, 22), Utc(10, 25, 23));

        Assert.Equal(Enumerable.Range(0, 25).Select(h => Utc(10, 24, 22).AddHours(h)).ToList(), times);
    }

    [Fact]
    public void Weekdays_0800_fire_at_0700Z_in_winter_and_0600Z_in_summer()
    {
        var spring = FireTimes("0 0 8 ? * MON-FRI", Utc(3, 26, 0), Utc(3, 31, 0));
        Assert.Equal([Utc(3, 26, 7), Utc(3, 27, 7), Utc(3, 30, 6)], spring);

        var autumn = FireTimes("0 0 8 ? * MON-FRI", Utc(10, 22, 0), Utc(10, 27, 0));
        Assert.Equal([Utc(10, 22, 6), Utc(10, 23, 6), Utc(10, 26, 7)], autumn);
    }
}
