using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using RobotFleet.ControlPlane.Models;

namespace RobotFleet.Server.Api;

/// <summary>
/// A model version as the API shows it: the registry entry plus the addresses agents download its bytes from.
/// <c>signature</c> is the fleet's ECDSA P-256 signature (base64, IEEE P1363) over
/// <c>robotfleet-model-v1\n{name}\n{version}\n{sha256}\n{manifestSha256}</c>; verify it with <c>GET /api/models/signing-key</c>.
/// </summary>
public sealed record ModelDto(
    string Name, string Version, string Task, string Sha256, string ManifestSha256, long Size, long ManifestSize,
    string Signature, string? UploadSignature, DateTimeOffset UploadedAt, string Input, string Output, string ModelUrl, string ManifestUrl)
{
    /// <summary>Maps a registry entry.</summary>
    public static ModelDto From(ModelEntry e)
    {
        var path = $"/api/models/{Uri.EscapeDataString(e.Name)}/{Uri.EscapeDataString(e.Version)}";
        return new(e.Name, e.Version, e.Task, e.Sha256, e.ManifestSha256, e.Size, e.ManifestSize, e.Signature, e.UploadSignature, e.UploadedAt,
            e.Input, e.Output, $"{path}/model.onnx", $"{path}/manifest.json");
    }
}

/// <summary>Why an upload was refused: the message naming the problem, the request field at fault, and the check that failed.</summary>
/// <param name="Error">Message naming the problem (e.g. <c>Git LFS pointer, not an ONNX model …</c>).</param>
/// <param name="Field"><c>model</c>, <c>sha256</c>, <c>manifest</c>, <c>manifest.{path}</c> or <c>signature</c>; null for the request as a whole.</param>
/// <param name="Rejection">Which check refused it (<c>NotOnnx</c>, <c>Corrupt</c>, <c>ManifestInvalid</c>, <c>Contract</c>, <c>DryRun</c>, <c>SignatureMissing</c>, <c>SignatureInvalid</c>, <c>VersionConflict</c>); null for a malformed request.</param>
/// <param name="Problem">The model check's problem (<c>GitLfsPointer</c>, <c>Truncated</c>, <c>InputNameMismatch</c>, …) when the model was at fault.</param>
public sealed record ModelUploadError(string Error, string? Field, string? Rejection = null, string? Problem = null);

/// <summary>
/// The model registry over HTTP: <c>POST /api/models</c> (multipart upload), list, metadata, the model and manifest bytes
/// (ETag = SHA-256) and the fleet's public signing key. Documented in the README.
/// </summary>
public static class ModelEndpoints
{
    /// <summary>Maps the model endpoints.</summary>
    public static void MapModelApi(this IEndpointRouteBuilder app)
    {
        var models = app.MapGroup("/api/models");
        models.MapPost("", UploadAsync);
        models.MapGet("", (ModelRegistry registry) => Results.Ok(registry.List().Select(ModelDto.From)));
        models.MapGet("/signing-key", (ModelRegistry registry) => Results.Text(registry.SigningPublicKeyPem, "application/x-pem-file"));
        models.MapGet("/{name}/{version}", (string name, string version, ModelRegistry registry) =>
            registry.Find(name, version) is { } e ? Results.Ok(ModelDto.From(e)) : Unknown(name, version));
        models.MapGet("/{name}/{version}/model.onnx", (string name, string version, ModelRegistry registry) =>
            Blob(registry, name, version, e => e.Sha256, "application/octet-stream", $"{name}-{version}.onnx"));
        models.MapGet("/{name}/{version}/manifest.json", (string name, string version, ModelRegistry registry) =>
            Blob(registry, name, version, e => e.ManifestSha256, "application/json", null));
    }

    private static IResult Blob(ModelRegistry registry, string name, string version, Func<ModelEntry, string> sha, string contentType, string? download)
    {
        if (registry.Find(name, version) is not { } entry)
            return Unknown(name, version);
        var hash = sha(entry);
        return registry.OpenBlob(hash) is { } stream
            ? Results.Stream(stream, contentType, download, entityTag: new EntityTagHeaderValue($"\"{hash}\""), enableRangeProcessing: true)
            : Results.Problem($"model {name}@{version}: stored bytes sha256 {hash} are missing from the data directory", statusCode: StatusCodes.Status500InternalServerError);
    }

    private static async Task<IResult> UploadAsync(HttpContext context, ModelRegistry registry, ServerOptions options, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var limit = options.ModelUploadLimit;
        // The form around the model: manifest, signature, boundaries and headers.
        var bodyLimit = limit + 4 * 1024 * 1024;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = bodyLimit;
        if (request.ContentLength > bodyLimit)
            return TooLarge(limit);
        if (!request.HasFormContentType || !(request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) ?? false))
            return BadRequest($"POST /api/models takes multipart/form-data with fields 'model' (the .onnx file), 'manifest' (its JSON manifest) and optional 'signature'; the request's Content-Type is '{request.ContentType ?? "(none)"}'", null);

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = bodyLimit, ValueLengthLimit = 4 * 1024 * 1024 }, cancellationToken);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(limit);
        }
        catch (InvalidDataException e) when (e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase) && e.Message.Contains("exceeded", StringComparison.OrdinalIgnoreCase))
        {
            return TooLarge(limit);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
        {
            return BadRequest($"malformed multipart/form-data body: {e.Message}", null);
        }

        var model = await ReadFieldAsync(form, "model", cancellationToken);
        if (model is null)
            return BadRequest("missing field 'model': the .onnx file (e.g. curl -F model=@resnet18.onnx -F manifest=@manifest.json)", "model");
        if (model.LongLength > limit)
            return TooLarge(limit);
        var manifest = await ReadFieldAsync(form, "manifest", cancellationToken);
        if (manifest is null)
            return BadRequest("missing field 'manifest': the model's JSON manifest (e.g. -F manifest=@manifest.json)", "manifest");
        var signatureBytes = await ReadFieldAsync(form, "signature", cancellationToken);
        var signature = signatureBytes is null ? null : System.Text.Encoding.UTF8.GetString(signatureBytes).Trim();
        var sha256 = form.TryGetValue("sha256", out var shaField) && shaField.Count > 0 ? shaField[0] : null;

        var result = await registry.UploadAsync(model, manifest, signature, sha256, cancellationToken);
        return result.Status switch
        {
            ModelUploadStatus.Created => Results.Created(ModelDto.From(result.Model!).ModelUrl[..^"/model.onnx".Length], ModelDto.From(result.Model!)),
            ModelUploadStatus.Unchanged => Results.Ok(ModelDto.From(result.Model!)),
            _ => Results.Json(
                new ModelUploadError(result.Message!, result.Field, result.Rejection.ToString(), result.Problem == Perception.ModelProblem.None ? null : result.Problem.ToString()),
                statusCode: result.Rejection == ModelRejection.VersionConflict ? StatusCodes.Status409Conflict : StatusCodes.Status422UnprocessableEntity),
        };
    }

    /// <summary>A form field as bytes: the file of that name, else a text field of that name, else null.</summary>
    private static async Task<byte[]?> ReadFieldAsync(IFormCollection form, string name, CancellationToken cancellationToken)
    {
        if (form.Files.GetFile(name) is { } file)
        {
            var bytes = new byte[file.Length];
            await using var stream = file.OpenReadStream();
            await stream.ReadExactlyAsync(bytes, cancellationToken);
            return bytes;
        }

        return form.TryGetValue(name, out var text) && text.Count > 0 && text[0] is { } value ? System.Text.Encoding.UTF8.GetBytes(value) : null;
    }

    private static IResult TooLarge(long limit) =>
        Results.Json(new ModelUploadError($"the upload is larger than this server's model size limit of {limit:N0} bytes (--model-upload-limit-mb)", "model"),
            statusCode: StatusCodes.Status413PayloadTooLarge);

    private static IResult BadRequest(string message, string? field) => Results.BadRequest(new ModelUploadError(message, field));

    private static IResult Unknown(string name, string version) => Results.NotFound(new ApiError($"unknown model '{name}' version '{version}'"));
}
