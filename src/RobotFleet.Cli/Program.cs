using System.CommandLine;
using RobotFleet.Cli;

var root = new RootCommand("RobotFleet operator and technician tools.")
{
    MapsCommands.Create(),
    ModelsCommands.Create(),
};
return await root.Parse(args).InvokeAsync();
