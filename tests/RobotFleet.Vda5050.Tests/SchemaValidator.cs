using System.Collections.Concurrent;
using System.Text.Json;
using Json.Schema;

namespace RobotFleet.Vda5050.Tests;

/// <summary>Validates JSON against the official VDA 5050 2.1.0 schemas in Fixtures/schemas/2.1.0.</summary>
internal static class SchemaValidator
{
    private static readonly ConcurrentDictionary<string, JsonSchema> Schemas = new();

    /// <summary>Schema-violation messages, one per failed keyword; empty when valid.</summary>
    /// <param name="schemaName">File name without extension, e.g. <c>order</c>.</param>
    public static IReadOnlyList<string> Problems(string schemaName, string json)
    {
        var schema = Schemas.GetOrAdd(schemaName, Load);
        using var document = JsonDocument.Parse(json);
        var results = schema.Evaluate(document.RootElement, new EvaluationOptions
        {
            OutputFormat = OutputFormat.List,
            RequireFormatValidation = true,
        });
        if (results.IsValid)
            return [];
        var problems = (results.Details ?? [])
            .Prepend(results)
            .Where(r => r.Errors is { Count: > 0 })
            .SelectMany(r => r.Errors!.Select(e => $"{r.InstanceLocation} ({r.EvaluationPath}) {e.Key}: {e.Value}"))
            .ToList();
        return problems.Count > 0 ? problems : ["invalid, with no error details"];
    }

    public static void AssertValid(string schemaName, string json)
    {
        var problems = Problems(schemaName, json);
        if (problems.Count > 0)
            Assert.Fail($"{schemaName} message is not valid against the VDA 5050 2.1.0 schema:\n  {string.Join("\n  ", problems)}\n{json}");
    }

    private static JsonSchema Load(string schemaName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "schemas", "2.1.0", schemaName + ".schema");
        // The schemas have no $id: give each its own base URI and registry so they cannot collide.
        var options = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
        return JsonSchema.FromText(File.ReadAllText(path), options, new Uri($"https://robotfleet.test/vda5050/2.1.0/{schemaName}.schema"));
    }
}
