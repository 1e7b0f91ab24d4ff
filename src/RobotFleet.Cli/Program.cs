using System.CommandLine;
using RobotFleet.Cli;

var root = new RootCommand("RobotFleet operator and technician tools.")
{
    MapsCommands.Create(),
};
return root.Parse(args).Invoke();
