using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace RobotFleet.Server.Hosting;

/// <summary>
/// The console logger, less the host's own "Hosting failed to start" entry (category
/// <c>Microsoft.Extensions.Hosting.Internal.Host</c>, event <c>HostedServiceStartupFaulted</c>) for a failure the server
/// reports itself in one line (a port in use, a stop while starting): that entry printed the exception's stack trace
/// before the line. Every other entry passes, the host's other errors and its start-up failures of any other kind included.
/// </summary>
[ProviderAlias("Console")] // the console logger's settings (Logging:Console:...) still apply
public sealed class StartupFaultLogFilter : ILoggerProvider, ISupportExternalScope
{
    /// <summary>The category the host logs under.</summary>
    public const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    /// <summary>The name of the host's "Hosting failed to start" event (Microsoft.Extensions.Hosting, id 11).</summary>
    public const string StartupFaulted = "HostedServiceStartupFaulted";

    private readonly ILoggerProvider _inner;
    private readonly Func<Exception, bool> _reportedElsewhere;

    /// <param name="inner">The provider that writes the entries.</param>
    /// <param name="reportedElsewhere">True for a start-up failure the caller reports itself.</param>
    public StartupFaultLogFilter(ILoggerProvider inner, Func<Exception, bool> reportedElsewhere)
    {
        _inner = inner;
        _reportedElsewhere = reportedElsewhere;
    }

    /// <summary>Puts the filter round the console logger registered in <paramref name="services"/> (by <c>AddConsole</c>/<c>AddSimpleConsole</c>).</summary>
    /// <param name="services">The host's services, the console logger registered.</param>
    /// <param name="reportedElsewhere">True for a start-up failure the caller reports itself.</param>
    /// <exception cref="InvalidOperationException">No console logger is registered.</exception>
    public static void WrapConsole(IServiceCollection services, Func<Exception, bool> reportedElsewhere)
    {
        var console = services.Where(d => d.ServiceType == typeof(ILoggerProvider) && d.ImplementationType == typeof(ConsoleLoggerProvider)).ToList();
        if (console.Count == 0)
            throw new InvalidOperationException("No console logger registered to filter.");
        foreach (var descriptor in console)
            services.Remove(descriptor);
        services.AddSingleton<ILoggerProvider>(sp => new StartupFaultLogFilter(
            new ConsoleLoggerProvider(sp.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>(), sp.GetServices<ConsoleFormatter>()), reportedElsewhere));
    }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName)
    {
        var logger = _inner.CreateLogger(categoryName);
        return categoryName == HostCategory ? new HostLogger(logger, _reportedElsewhere) : logger;
    }

    /// <inheritdoc />
    public void SetScopeProvider(IExternalScopeProvider scopeProvider)
    {
        if (_inner is ISupportExternalScope scoped)
            scoped.SetScopeProvider(scopeProvider);
    }

    /// <inheritdoc />
    public void Dispose() => _inner.Dispose();

    private sealed class HostLogger(ILogger inner, Func<Exception, bool> reportedElsewhere) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Name == StartupFaulted && exception is not null && reportedElsewhere(exception))
                return;
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
