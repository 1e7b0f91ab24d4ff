using MassTransit;

namespace RobotFleet.Server.Hosting;

/// <summary>
/// The RabbitMQ broker the server's MassTransit bus runs on (<c>--bus rabbitmq://user:pass@host:port/vhost</c>, also
/// <c>amqp://</c>). <see cref="ToString"/> leaves the password out, so the value can be logged.
/// </summary>
/// <param name="Host">Host name or address.</param>
/// <param name="Port">AMQP port (5672 when the address names none).</param>
/// <param name="VirtualHost">Virtual host (<c>/</c> when the address has no path).</param>
/// <param name="Username">User name (<c>guest</c> when the address names none).</param>
/// <param name="Password">Password (<c>guest</c> when the address names none).</param>
public sealed record RabbitMqBusAddress(string Host, int Port, string VirtualHost, string Username, string Password)
{
    /// <summary>
    /// Reads a <c>--bus</c> value: null, empty or <c>memory</c> is the in-memory bus (null result); <c>rabbitmq://</c> or
    /// <c>amqp://</c><c>user:pass@host:port/vhost</c> is RabbitMQ (user, password, port and vhost optional).
    /// </summary>
    /// <exception cref="ArgumentException">Anything else; the message names <c>--bus</c> and the expected forms.</exception>
    public static RabbitMqBusAddress? Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Trim().Equals("memory", StringComparison.OrdinalIgnoreCase))
            return null;
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("rabbitmq" or "amqp") || uri.Host.Length == 0)
            throw new ArgumentException($"--bus must be 'memory' or rabbitmq://user:pass@host:port/vhost (or amqp://...), not '{Redact(value)}'");
        string user = "guest", password = "guest";
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            user = Uri.UnescapeDataString(parts[0]);
            password = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "";
        }

        var path = uri.AbsolutePath.Trim('/');
        var virtualHost = path.Length == 0 ? "/" : Uri.UnescapeDataString(path);
        return new RabbitMqBusAddress(uri.Host, uri.IsDefaultPort || uri.Port <= 0 ? 5672 : uri.Port, virtualHost, user, password);
    }

    /// <summary>The address without the password, e.g. <c>rabbitmq://guest@127.0.0.1:5672/</c>.</summary>
    public override string ToString() =>
        $"rabbitmq://{Uri.EscapeDataString(Username)}@{Host}:{Port}/{(VirtualHost == "/" ? "" : Uri.EscapeDataString(VirtualHost))}";

    /// <summary>The value with any password replaced by <c>***</c>, for error messages.</summary>
    private static string Redact(string value)
    {
        var at = value.IndexOf('@', StringComparison.Ordinal);
        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        if (at < 0 || scheme < 0 || at < scheme)
            return value;
        var colon = value.IndexOf(':', scheme + 3);
        return colon > 0 && colon < at ? string.Concat(value.AsSpan(0, colon + 1), "***", value.AsSpan(at)) : value;
    }
}

/// <summary>
/// Puts a prefix in front of every exchange name MassTransit derives from a message type, so several fleets (or test runs)
/// can share one RabbitMQ virtual host without receiving each other's messages (<c>--bus-prefix</c>).
/// </summary>
/// <param name="inner">The formatter whose names are prefixed.</param>
/// <param name="prefix">The prefix, e.g. <c>fleet-a.</c>.</param>
public sealed class PrefixedEntityNameFormatter(IEntityNameFormatter inner, string prefix) : IEntityNameFormatter
{
    /// <inheritdoc />
    public string FormatEntityName<T>() => prefix + inner.FormatEntityName<T>();
}

/// <summary>
/// Passes <c>IBusRegistrationContext.ConfigureEndpoints</c> through to the bus configurator with every receive
/// endpoint's queue name prefixed (<c>--bus-prefix</c>), including the endpoints whose definitions name their queue
/// themselves (such as <c>robotfleet-mission-lifecycle</c>), which an endpoint name formatter's prefix does not reach.
/// </summary>
/// <typeparam name="TEndpoint">The transport's receive endpoint configurator.</typeparam>
/// <param name="inner">The bus configurator.</param>
/// <param name="prefix">The prefix.</param>
public sealed class PrefixedReceiveConfigurator<TEndpoint>(IReceiveConfigurator<TEndpoint> inner, string prefix) : IReceiveConfigurator<TEndpoint>
    where TEndpoint : IReceiveEndpointConfigurator
{
    /// <inheritdoc />
    public void ReceiveEndpoint(IEndpointDefinition definition, IEndpointNameFormatter? endpointNameFormatter, Action<TEndpoint>? configureEndpoint = null) =>
        inner.ReceiveEndpoint(new PrefixedEndpointDefinition(definition, prefix), endpointNameFormatter, configureEndpoint);

    /// <inheritdoc />
    public void ReceiveEndpoint(string queueName, Action<TEndpoint> configureEndpoint) => inner.ReceiveEndpoint(prefix + queueName, configureEndpoint);

    /// <inheritdoc />
    public void ReceiveEndpoint(IEndpointDefinition definition, IEndpointNameFormatter? endpointNameFormatter, Action<IReceiveEndpointConfigurator>? configureEndpoint = null) =>
        inner.ReceiveEndpoint(new PrefixedEndpointDefinition(definition, prefix), endpointNameFormatter, configureEndpoint);

    /// <inheritdoc />
    public void ReceiveEndpoint(string queueName, Action<IReceiveEndpointConfigurator> configureEndpoint) => inner.ReceiveEndpoint(prefix + queueName, configureEndpoint);

    /// <inheritdoc />
    public ConnectHandle ConnectEndpointConfigurationObserver(IEndpointConfigurationObserver observer) => inner.ConnectEndpointConfigurationObserver(observer);

    private sealed class PrefixedEndpointDefinition(IEndpointDefinition inner, string prefix) : IEndpointDefinition
    {
        public bool IsTemporary => inner.IsTemporary;

        public int? PrefetchCount => inner.PrefetchCount;

        public int? ConcurrentMessageLimit => inner.ConcurrentMessageLimit;

        public bool ConfigureConsumeTopology => inner.ConfigureConsumeTopology;

        public string GetEndpointName(IEndpointNameFormatter formatter) => prefix + inner.GetEndpointName(formatter);

        public void Configure<T>(T configurator, IRegistrationContext? context)
            where T : IReceiveEndpointConfigurator => inner.Configure(configurator, context);
    }
}
