using RobotFleet.TrafficSim;

return await Cli.RunAsync(args, Console.Out, Console.Error, CancellationToken.None, handleSignals: true);
