using System.CommandLine;
using RobotFleet.Cli;

return await CliCommand.RunAsync(args, new InvocationConfiguration());
