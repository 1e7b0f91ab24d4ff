using System.Runtime.InteropServices;
using RobotFleet.Server;

// Ctrl+C and SIGTERM stop the web host gracefully (the command runs it with this token; the host's own handlers do the
// same); any later signal is ignored, to the very end of the process: the host's shutdown timeout bounds the stop. See
// ServerCommand.Invocation for why System.CommandLine's own handling is off.
using var stop = new CancellationTokenSource();
void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    try
    {
        stop.Cancel();
    }
    catch (Exception e) when (e is AggregateException or ObjectDisposedException)
    {
        // A stop callback that throws (or a signal at the very end of the process) must not crash the process from the
        // signal thread (exit 134); the stop itself goes on.
        Console.Error.WriteLine($"robotfleet: while stopping: {e.GetBaseException().Message}");
    }
}

using var sigInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
return await ServerCommand.RunAsync(args, ServerCommand.Invocation, stop.Token);
