using RobotFleet.TelemetryLoad;

return await Cli.RunAsync(args, Console.Out, Console.Error, CancellationToken.None);
