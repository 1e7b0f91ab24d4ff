using System.CommandLine;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using RobotFleet.Perception;

namespace RobotFleet.Cli;

/// <summary>The <c>models</c> command group: uploading models to the registry and technicians' signing keys.</summary>
internal static class ModelsCommands
{
    internal static Command Create()
    {
        var server = new Option<string>("--server") { Description = "Control plane address, e.g. http://127.0.0.1:5080.", Required = true };
        server.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<string>();
            if (ServerUri(value) is null)
                r.AddError($"--server must be an http:// or https:// address, e.g. http://127.0.0.1:5080, not '{value}'");
        });
        var model = new Option<FileInfo>("--model") { Description = "The .onnx file.", Required = true };
        var manifest = new Option<FileInfo>("--manifest") { Description = "The model's JSON manifest.", Required = true };
        var signatureKey = new Option<FileInfo?>("--signature-key") { Description = "Technician's private key (PEM, ECDSA P-256) to sign the upload with (see 'models keygen')." };
        var upload = new Command("upload", "Upload a model and its manifest to the registry (POST /api/models); prints the stored version or the server's reason.")
        {
            server, model, manifest, signatureKey,
        };
        upload.SetAction((result, cancellationToken) => UploadAsync(
            ServerUri(result.GetValue(server))!, result.GetValue(model)!, result.GetValue(manifest)!, result.GetValue(signatureKey),
            Console.Out, Console.Error, handler: null, cancellationToken));

        var output = new Option<string>("--out") { Description = "Path prefix: writes {out}.pem (private, mode 600) and {out}.pub.pem (public).", Required = true };
        var keygen = new Command("keygen", "Create a technician's model signing key pair (ECDSA P-256); give the .pub.pem to the control plane (--trusted-model-key).") { output };
        keygen.SetAction(result => Keygen(result.GetValue(output)!, Console.Out, Console.Error));

        return new Command("models", "Model registry tools.") { upload, keygen };
    }

    private static Uri? ServerUri(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) ? uri : null;

    /// <summary>Uploads a model package; 0 when the registry stored it (or already had these bytes), 1 otherwise.</summary>
    internal static async Task<int> UploadAsync(
        Uri server, FileInfo model, FileInfo manifest, FileInfo? signatureKey, TextWriter output, TextWriter error,
        HttpMessageHandler? handler, CancellationToken cancellationToken)
    {
        foreach (var file in new[] { model, manifest }.Concat(signatureKey is null ? [] : [signatureKey]))
        {
            if (!file.Exists)
                return Fail(error, $"{file.FullName}: no such file");
        }

        try
        {
            var manifestBytes = await File.ReadAllBytesAsync(manifest.FullName, cancellationToken);
            string modelSha;
            await using (var stream = model.OpenRead())
                modelSha = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
            string? signature = null;
            if (signatureKey is not null)
            {
                ModelManifest parsed;
                try
                {
                    parsed = ModelManifestJson.Parse(manifestBytes);
                }
                catch (ModelManifestException e)
                {
                    return Fail(error, $"{manifest.FullName}: {e.Message}");
                }

                using var key = ECDsa.Create();
                try
                {
                    key.ImportFromPem(await File.ReadAllTextAsync(signatureKey.FullName, cancellationToken));
                    _ = key.ExportParameters(includePrivateParameters: true);
                }
                catch (Exception e) when (e is ArgumentException or CryptographicException)
                {
                    return Fail(error, $"{signatureKey.FullName}: not a PEM private key (ECDSA P-256): {e.Message}");
                }

                signature = ModelSigning.Sign(new ModelDigest(parsed.Name, parsed.Version, modelSha, ModelDigest.Sha256Hex(manifestBytes)), key);
            }

            // The server refuses an oversized upload (413) from its Content-Length and closes the connection; waiting for
            // "100 Continue" before sending the file lets that answer arrive instead of a broken stream. Waited for up to 5 s,
            // not the default 1 s, after which the file went out anyway on a loaded machine and the 413 was lost (CI).
            using var http = handler is null
                ? new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromSeconds(5) })
                : new HttpClient(handler, disposeHandler: false);
            http.Timeout = TimeSpan.FromMinutes(30);
            http.DefaultRequestHeaders.ExpectContinue = true;
            await using var modelStream = model.OpenRead();
            using var form = new MultipartFormDataContent();
            var modelContent = new StreamContent(modelStream);
            modelContent.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(modelContent, "model", model.Name);
            var manifestContent = new ByteArrayContent(manifestBytes);
            manifestContent.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            form.Add(manifestContent, "manifest", manifest.Name);
            if (signature is not null)
                form.Add(new StringContent(signature), "signature");
            // Lets the server tell a file changed or cut in transit from one that was bad to begin with.
            form.Add(new StringContent(modelSha), "sha256");

            var url = new Uri(server, "/api/models");
            HttpResponseMessage sent;
            try
            {
                sent = await http.PostAsync(url, form, cancellationToken);
            }
            catch (HttpRequestException e) when (e.HttpRequestError is not (HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError))
            {
                // Connected, but the upload broke off: most often the server answered early and closed the connection.
                return Fail(error, $"{url}: the upload of {model.Length:N0} bytes broke off ({e.Message}); the server closed the connection, " +
                    "most likely refusing the upload (e.g. larger than its --model-upload-limit-mb)");
            }

            using var response = sent;
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                var (message, rejection) = ReadError(body);
                return Fail(error, $"{url} refused the upload ({(int)response.StatusCode} {response.ReasonPhrase}{(rejection is null ? "" : $", {rejection}")}): {message ?? body}");
            }

            using var json = JsonDocument.Parse(body);
            var m = json.RootElement;
            var what = response.StatusCode == System.Net.HttpStatusCode.Created ? "stored" : "already stored with the same bytes";
            await output.WriteLineAsync(
                $"{m.GetProperty("name").GetString()}@{m.GetProperty("version").GetString()} {what}: sha256 {m.GetProperty("sha256").GetString()}, " +
                $"{m.GetProperty("size").GetInt64():N0} bytes, task {m.GetProperty("task").GetString()}, " +
                $"{(signature is null ? "unsigned upload" : "signed upload")}, fleet signature {m.GetProperty("signature").GetString()}");
            return 0;
        }
        catch (HttpRequestException e)
        {
            return Fail(error, $"cannot reach {server}: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Fail(error, $"{server} did not answer in time");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return Fail(error, e.Message);
        }
    }

    /// <summary>Writes <c>{out}.pem</c> (private, mode 600) and <c>{out}.pub.pem</c>; refuses to overwrite.</summary>
    internal static int Keygen(string outPrefix, TextWriter output, TextWriter error)
    {
        var privatePath = Path.GetFullPath(outPrefix + ".pem");
        var publicPath = Path.GetFullPath(outPrefix + ".pub.pem");
        foreach (var path in new[] { privatePath, publicPath })
        {
            if (File.Exists(path))
                return Fail(error, $"{path} exists; not overwriting a key");
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(privatePath)!);
            using var key = ModelSigning.CreateKey();
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var writer = new StreamWriter(privatePath, options))
                writer.Write(key.ExportPkcs8PrivateKeyPem());
            File.WriteAllText(publicPath, ModelSigning.ExportPublicKeyPem(key));
            output.WriteLine($"wrote {privatePath} (private: keep it to yourself) and {publicPath} (give it to the control plane: --trusted-model-key)");
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(error, e.Message);
        }
    }

    /// <summary>The <c>error</c> and <c>rejection</c> of an API error body; nulls when it is not one.</summary>
    private static (string? Message, string? Rejection) ReadError(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
                return (null, null);
            string? Text(string name) => json.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            return (Text("error"), Text("rejection"));
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static int Fail(TextWriter error, string message)
    {
        error.WriteLine($"robotfleet: error: {message}");
        return 1;
    }
}
