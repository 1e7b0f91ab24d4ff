using RobotFleet.Server;

return await ServerCommand.Build().Parse(args).InvokeAsync(ServerCommand.Invocation);
