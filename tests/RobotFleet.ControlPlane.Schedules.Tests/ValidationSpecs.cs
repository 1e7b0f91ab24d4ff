using RobotFleet.ControlPlane.Schedules;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Schedules.Tests;

public sealed class ValidationSpecs
{
    private static ScheduleDefinition Valid() =>
        new("rounds", "0 0 8 ? * MON-FRI", "Europe/Berlin", MisfirePolicy.Skip, new MissionTemplate(MissionKind.Delivery, "a", "b", 1));

    private static IReadOnlyList<ScheduleError> Check(ScheduleDefinition d) => ScheduleService.Validate(d, TestSite.Map);

    [Fact]
    public void A_valid_definition_has_no_errors() => Assert.Empty(Check(Valid()));

    [Fact]
    public void A_bad_cron_names_the_field_and_quartz_reason()
    {
        var error = Assert.Single(Check(Valid() with { Cron = "0 0 25 * * ?" }));
        Assert.Equal("cron", error.Field);
        Assert.Contains("'0 0 25 * * ?'", error.Message);

        // Five-field Unix cron is not Quartz cron (seconds first); Quartz says how to write it.
        var unix = Assert.Single(Check(Valid() with { Cron = "0 8 * * 1" }));
        Assert.Equal("cron", unix.Field);
        Assert.Contains("seconds", unix.Message);
    }

    [Fact]
    public void A_cron_that_never_fires_again_is_refused() =>
        Assert.Contains("never fires", Assert.Single(Check(Valid() with { Cron = "0 0 8 1 1 ? 2001" })).Message);

    [Fact]
    public void An_unknown_time_zone_names_the_field() =>
        Assert.Equal("timeZone", Assert.Single(Check(Valid() with { TimeZone = "Europe/Atlantis" })).Field);

    [Fact]
    public void Mission_template_locations_are_checked_against_the_map()
    {
        var error = Assert.Single(Check(Valid() with { Mission = new MissionTemplate(MissionKind.Delivery, "nowhere", "b", 0) }));
        Assert.Equal("mission.pickup", error.Field);
        Assert.Contains("'nowhere'", error.Message);
        Assert.Equal("mission.dropoff", Assert.Single(Check(Valid() with { Mission = new MissionTemplate(MissionKind.Delivery, "a", null, 0) })).Field);
        Assert.Equal("mission.dropoff", Assert.Single(Check(Valid() with { Mission = new MissionTemplate(MissionKind.Delivery, "a", "a", 0) })).Field);
        Assert.Equal("mission.priority", Assert.Single(Check(Valid() with { Mission = new MissionTemplate(MissionKind.Delivery, "a", "b", 7) })).Field);
    }

    [Fact]
    public void A_bad_name_is_refused() =>
        Assert.Equal("name", Assert.Single(Check(Valid() with { Name = "no spaces/slashes" })).Field);
}
