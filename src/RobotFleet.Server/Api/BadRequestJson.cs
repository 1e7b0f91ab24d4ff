using System.Text.RegularExpressions;

namespace RobotFleet.Server.Api;

/// <summary>
/// Turns a request the framework refuses (a query or route parameter that does not bind, e.g. <c>?limit=abc</c> for an int, or a
/// malformed request) into the API's error JSON, <see cref="ApiError"/>, naming the parameter, instead of an empty 400.
/// Endpoints parse their own query parameters; this is the safety net for any that bind one.
/// </summary>
public static partial class BadRequestJson
{
    /// <summary>Makes minimal API binding failures throw (<see cref="RouteHandlerOptions.ThrowOnBadRequest"/>) so that <see cref="UseBadRequestJson"/> can answer them.</summary>
    public static IServiceCollection AddBadRequestJson(this IServiceCollection services) =>
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

    /// <summary>Answers a <see cref="BadHttpRequestException"/> with its status code and an <see cref="ApiError"/> body.</summary>
    public static IApplicationBuilder UseBadRequestJson(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            context.Response.Clear();
            context.Response.StatusCode = e.StatusCode;
            await context.Response.WriteAsJsonAsync(ToError(e.Message, context.Request.Query));
        }
    });

    /// <summary>
    /// The error for a framework message such as <c>Failed to bind parameter "Nullable&lt;bool&gt; open" from "maybe".</c>:
    /// the parameter's name as the field, and a message naming it and the value.
    /// </summary>
    public static ApiError ToError(string message, IQueryCollection query)
    {
        if (BindFailure().Match(message) is { Success: true } bind)
        {
            var name = bind.Groups["name"].Value;
            var where = query.ContainsKey(name) ? "query parameter" : "parameter";
            return new ApiError($"{where} '{name}' has an invalid value '{bind.Groups["value"].Value}' (expected {bind.Groups["type"].Value.Trim()})", name);
        }

        if (Parameter().Match(message) is { Success: true } named)
            return new ApiError(message, named.Groups["name"].Value);
        return new ApiError(message);
    }

    [GeneratedRegex(@"parameter ""(?<type>[^""]*?)\s*(?<name>\w+)"" from ""(?<value>[^""]*)""")]
    private static partial Regex BindFailure();

    [GeneratedRegex(@"parameter ""(?:[^""]*?\s)?(?<name>\w+)""")]
    private static partial Regex Parameter();
}
