using RobotFleet.TelemetryLoad;

if (args is [PublisherProcess.ChildVerb, ..])
    return await PublisherProcess.ChildMainAsync(args);
return await Cli.RunAsync(args, Console.Out, Console.Error, CancellationToken.None);
