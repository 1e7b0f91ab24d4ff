using System.CommandLine;
using RobotFleet.Maps;
using RobotFleet.Server;

var demo = new Option<bool>("--demo") { Description = "Submit a delivery between random locations every few seconds" };
var robots = new Option<int>("--robots") { Description = "Number of simulated robots", DefaultValueFactory = _ => 3 };
var map = new Option<string>("--map") { Description = "Site map directory (holding site.geojson)", DefaultValueFactory = _ => "maps/office" };
var timeScale = new Option<double>("--time-scale") { Description = "Simulated seconds per real second", DefaultValueFactory = _ => 1 };
var httpPort = new Option<int>("--http-port") { Description = "HTTP port on 127.0.0.1", DefaultValueFactory = _ => 5080 };
var mqttPort = new Option<int>("--mqtt-port") { Description = "Embedded MQTT broker port on 127.0.0.1", DefaultValueFactory = _ => 1883 };
var noSim = new Option<bool>("--no-sim") { Description = "Control plane and broker only, for external robots and agents" };

var command = new RootCommand("RobotFleet server: control plane, embedded MQTT broker, HTTP API and simulated robots in one process")
{
    demo, robots, map, timeScale, httpPort, mqttPort, noSim,
};
command.SetAction(async (parse, cancellationToken) =>
{
    var options = new ServerOptions
    {
        Demo = parse.GetValue(demo),
        Robots = parse.GetValue(robots),
        MapDirectory = parse.GetValue(map)!,
        TimeScale = parse.GetValue(timeScale),
        HttpPort = parse.GetValue(httpPort),
        MqttPort = parse.GetValue(mqttPort),
        NoSimulation = parse.GetValue(noSim),
    };
    if (options.Robots < 0 || options.TimeScale <= 0)
    {
        await Console.Error.WriteLineAsync("--robots must be 0 or more and --time-scale positive");
        return 2;
    }

    WebApplication app;
    try
    {
        app = RobotFleetServer.Build(options);
    }
    catch (Exception e) when (e is FileNotFoundException or SiteMapValidationException)
    {
        await Console.Error.WriteLineAsync($"robotfleet: {e.Message}");
        return 1;
    }

    await app.RunAsync(cancellationToken);
    return 0;
});
return await command.Parse(args).InvokeAsync();
