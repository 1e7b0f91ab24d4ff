using System.CommandLine;
using RobotFleet.Maps;

namespace RobotFleet.Cli;

/// <summary>The <c>maps</c> command group: converting and checking site maps.</summary>
internal static class MapsCommands
{
    internal static Command Create()
    {
        var building = new Argument<FileInfo>("building") { Description = "Open-RMF *.building.yaml file to convert." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory to write site.geojson into (created if missing).", Required = true };
        var id = new Option<string?>("--id") { Description = "Map id (default: file name without .building.yaml)." };
        var graph = new Option<int?>("--graph")
        {
            CustomParser = CommandLineUsage.NullableWholeNumber,
            Description = "Import only this nav graph (lane graph_idx; a lane without one is graph 0), e.g. one fleet's graph (default: all graphs merged).",
        };
        var maxLaneLength = new Option<double?>("--max-lane-length")
        {
            CustomParser = CommandLineUsage.NullableNumber,
            Description = $"Split lanes longer than this many metres into equal pieces with waypoints between (at least {RmfImportOptions.MinMaxLaneLength} m; lanes through doors and lift rides are not split; default: no splitting).",
        };
        var importRmf = new Command("import-rmf", "Convert an Open-RMF building map into a RobotFleet site map (site.geojson).") { building, output, id, graph, maxLaneLength };
        importRmf.SetAction(result => ImportRmf(
            result.InvocationConfiguration.Output,
            result.InvocationConfiguration.Error,
            result.GetValue(building)!,
            result.GetValue(output)!,
            result.GetValue(id),
            new RmfImportOptions { NavGraph = result.GetValue(graph), MaxLaneLength = result.GetValue(maxLaneLength) }));
        return new Command("maps", "Site map tools.") { importRmf };
    }

    private static int ImportRmf(TextWriter stdout, TextWriter stderr, FileInfo building, DirectoryInfo output, string? mapId, RmfImportOptions options)
    {
        int Fail(string message)
        {
            stderr.WriteLine($"robotfleet: error: {message}");
            return 1;
        }

        // Refused here, naming the option as typed (the importer's own errors name its settings).
        if (options.NavGraph is < 0)
            return Fail(FormattableString.Invariant($"--graph {options.NavGraph}: must be a graph number >= 0 (the lanes' graph_idx)"));
        if (options.MaxLaneLength is { } max && (!double.IsFinite(max) || max < RmfImportOptions.MinMaxLaneLength))
            return Fail(FormattableString.Invariant($"--max-lane-length {max}: must be a finite number of metres >= {RmfImportOptions.MinMaxLaneLength}"));
        var target = Path.Combine(output.FullName, SiteMapGeoJson.FileName);
        try
        {
            SiteMap map;
            if (mapId is null)
            {
                map = RmfBuildingImporter.Import(building.FullName, options);
            }
            else
            {
                if (!building.Exists)
                {
                    throw new FileNotFoundException($"No building file at '{building.FullName}'.", building.FullName);
                }
                using var reader = building.OpenText();
                map = RmfBuildingImporter.Import(reader, building.FullName, mapId, options);
            }
            try
            {
                output.Create();
                File.WriteAllText(target, SiteMapGeoJson.Write(map) + Environment.NewLine);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail($"--out {output.FullName}: cannot write {SiteMapGeoJson.FileName} there: {e.Message}");
            }

            var rides = map.Lanes.Count(l => l.LiftId is not null);
            stdout.WriteLine(
                $"{building.Name} -> {target}: map '{map.Id}', {map.Levels.Count} level(s), {map.Waypoints.Count} waypoints, " +
                $"{map.Lanes.Count - rides} lanes, {map.Lifts.Count} lift(s) with {rides} rides, {map.Locations.Count} locations, {map.Doors.Count} doors, {map.Warnings.Count} warning(s); " +
                (options.NavGraph is { } g ? $"nav graph {g}" : "all nav graphs merged") + ", " +
                (options.MaxLaneLength is { } m ? FormattableString.Invariant($"lanes split into pieces of at most {m} m") : "lanes not split"));
            return 0;
        }
        catch (SiteMapValidationException e)
        {
            return Fail($"{e.Source}: {e.Problems.Count} map problem(s): {string.Join("; ", e.Problems.Select(p => p.Message))}");
        }
        catch (ArgumentOutOfRangeException e)
        {
            return Fail(e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail($"{building.FullName}: {e.Message}");
        }
    }
}
