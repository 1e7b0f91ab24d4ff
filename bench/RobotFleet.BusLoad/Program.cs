using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using RobotFleet.Contracts;
using RobotFleet.Server;

// Bus throughput: missions accepted and assigned per second, in-memory bus + SQLite (baseline) vs. RabbitMQ + PostgreSQL,
// side by side in one run (configurations alternate, round after round). Each configuration starts the whole server in this
// process with 3 simulated robots (maps/office) on a fresh missions database, then submits N deliveries through the HTTP API,
// 8 requests in flight (POST /api/missions: a SubmitMission request over the bus to the fleet coordinator, which checks the
// mission, re-plans the assignment of the whole queue, stores the mission and answers 201). Measured:
//  - accepted / s: N over the time until the last 201;
//  - recorded / s: N over the time until the mission state machine has taken in every MissionSubmitted fact over the bus and
//    stored it (its MissionStatusChanged(Queued), seen by a temporary endpoint of this program on the same bus);
//  - assigned: the robots' first missions, from the first submit to the state machine's MissionStatusChanged(Assigned) (the
//    fleet has 3 robots, so only 3 missions are assigned; the rest queue behind them, as in a real fleet).
// Usage: dotnet run -c Release --project bench/RobotFleet.BusLoad [-- --missions 200 --rounds 2]
// RabbitMQ + PostgreSQL run where ROBOTFLEET_TEST_RABBITMQ and ROBOTFLEET_TEST_POSTGRES are set (as for the tests).

var missions = 200;
var rounds = 2;
const int Robots = 3;
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--missions") missions = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
    if (args[i] == "--rounds") rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
}

var rabbitMq = Environment.GetEnvironmentVariable("ROBOTFLEET_TEST_RABBITMQ") is { Length: > 0 } r ? r : null;
var postgres = Environment.GetEnvironmentVariable("ROBOTFLEET_TEST_POSTGRES") is { Length: > 0 } p ? p : null;
var configurations = new List<Configuration> { new("in-memory bus + SQLite", null, null) };
if (rabbitMq is not null && postgres is not null)
    configurations.Add(new Configuration("RabbitMQ + PostgreSQL", rabbitMq, postgres));
else
    Console.WriteLine("RabbitMQ + PostgreSQL column skipped: set ROBOTFLEET_TEST_RABBITMQ (amqp://guest:guest@127.0.0.1:5672/) and ROBOTFLEET_TEST_POSTGRES (Host=...;Port=...;Username=...) to run it");

Console.WriteLine($"Bus throughput: {missions} deliveries per run through POST /api/missions, 8 in flight, {Robots} simulated robots (maps/office), {rounds} round(s) after a warm-up run of each (not counted), configurations alternating");
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
// Warm-up, not counted: the first server in a process pays for JIT and first connections, which would count against whichever
// configuration runs first.
foreach (var configuration in configurations)
    await RunAsync(configuration, Robots, 50);
var results = configurations.ToDictionary(c => c.Name, _ => new List<Result>());
for (var round = 1; round <= rounds; round++)
{
    foreach (var configuration in configurations)
    {
        var result = await RunAsync(configuration, Robots, missions);
        results[configuration.Name].Add(result);
        Console.WriteLine($"round {round}, {configuration.Name}: accepted {missions / result.Accepting.TotalSeconds:F1}/s, recorded {missions / result.Recording.TotalSeconds:F1}/s, first {Robots} assigned after {result.AssignedAfter.TotalMilliseconds:F0} ms");
    }
}

Console.WriteLine();
Console.WriteLine("| configuration | missions | accepted / s | recorded by the state machine / s | first 3 assigned after | ratio (accepted / s vs. baseline) |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|");
var baseline = Total(results[configurations[0].Name]).Accepted;
foreach (var (name, list) in results)
{
    var (accepted, recorded, assigned) = Total(list);
    Console.WriteLine($"| {name} | {list.Count * missions} | {accepted:F1} | {recorded:F1} | {assigned:F0} ms | {accepted / baseline:F2} |");
}

return 0;

(double Accepted, double Recorded, double AssignedMs) Total(List<Result> list) =>
    (list.Count * missions / list.Sum(x => x.Accepting.TotalSeconds), list.Count * missions / list.Sum(x => x.Recording.TotalSeconds),
        list.Average(x => x.AssignedAfter.TotalMilliseconds));

static async Task<Result> RunAsync(Configuration configuration, int robots, int missions)
{
    var unique = Guid.NewGuid().ToString("N")[..10];
    var dataDir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"robotfleet-busload-{unique}")).FullName;
    var database = configuration.Postgres is { } cs ? new NpgsqlConnectionStringBuilder(cs) { Database = $"rf_busload_{unique}" }.ConnectionString : null;
    var app = RobotFleetServer.Build(new ServerOptions
    {
        Robots = robots,
        TimeScale = 20,
        HttpPort = 0,
        MqttPort = 0,
        DataDirectory = dataDir,
        MissionsDatabase = database,
        Bus = configuration.Bus,
        BusPrefix = configuration.Bus is null ? null : $"busload-{unique}.",
        ProgressInterval = TimeSpan.FromHours(1),
    }, builder => builder.Logging.SetMinimumLevel(LogLevel.Error));
    await app.StartAsync();
    try
    {
        var queued = new ConcurrentDictionary<string, long>();
        var assigned = new ConcurrentDictionary<string, long>();
        var bus = app.Services.GetRequiredService<IBus>();
        var watch = bus.ConnectReceiveEndpoint(new TemporaryEndpointDefinition(), DefaultEndpointNameFormatter.Instance, e => e.Handler<MissionStatusChanged>(context =>
        {
            if (context.Message.Status == MissionStatus.Queued)
                queued.TryAdd(context.Message.MissionId, Stopwatch.GetTimestamp());
            else if (context.Message.Status == MissionStatus.Assigned)
                assigned.TryAdd(context.Message.MissionId, Stopwatch.GetTimestamp());
            return Task.CompletedTask;
        }));
        await watch.Ready;
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(120) };
        await WaitAsync(async () => (await http.GetFromJsonAsync<JsonElement>("/api/robots")).EnumerateArray()
            .Count(x => x.GetProperty("connection").GetString() == "ONLINE") == robots, TimeSpan.FromSeconds(60), "robots online");
        var locations = (await http.GetFromJsonAsync<JsonElement>("/api/locations")).EnumerateArray()
            .Where(l => !l.GetProperty("kinds").EnumerateArray().Any(k => k.GetString() is "charger" or "parking"))
            .Select(l => l.GetProperty("name").GetString()!).ToList();
        var random = new Random(17);
        var requests = Enumerable.Range(0, missions).Select(_ =>
        {
            var pickup = locations[random.Next(locations.Count)];
            var dropoff = locations.Where(l => l != pickup).ElementAt(random.Next(locations.Count - 1));
            return new { kind = "delivery", pickup, dropoff };
        }).ToList();

        var started = Stopwatch.GetTimestamp();
        var ids = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (request, ct) =>
        {
            var response = await http.PostAsJsonAsync("/api/missions", request, ct);
            response.EnsureSuccessStatusCode();
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!);
        });
        var accepting = Stopwatch.GetElapsedTime(started);
        await WaitAsync(() => Task.FromResult(ids.All(queued.ContainsKey)), TimeSpan.FromSeconds(120), "every submission recorded by the state machine");
        var recording = Stopwatch.GetElapsedTime(started, ids.Max(id => queued[id]));
        await WaitAsync(() => Task.FromResult(assigned.Count >= robots), TimeSpan.FromSeconds(60), "the robots' first missions assigned");
        var assignedAfter = Stopwatch.GetElapsedTime(started, assigned.Values.Order().Take(robots).Max());
        await watch.StopAsync();
        return new Result(accepting, recording, assignedAfter);
    }
    finally
    {
        await app.StopAsync();
        await app.DisposeAsync();
        if (database is not null)
            await RobotFleet.Testing.ScratchDatabase.DropAsync(database);

        try
        {
            Directory.Delete(dataDir, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}

static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
{
    var deadline = DateTime.UtcNow + timeout;
    while (!await condition())
    {
        if (DateTime.UtcNow > deadline)
            throw new TimeoutException($"timed out waiting for {what}");
        await Task.Delay(5);
    }
}

internal sealed record Configuration(string Name, string? Bus, string? Postgres);

internal sealed record Result(TimeSpan Accepting, TimeSpan Recording, TimeSpan AssignedAfter);
