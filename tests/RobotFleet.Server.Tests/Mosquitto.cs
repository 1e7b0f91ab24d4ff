using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RobotFleet.Server.Tests;

/// <summary>
/// A Mosquitto of the test's own (not the shared one of <c>.ci/services</c>): <c>/usr/sbin/mosquitto</c> on a free loopback
/// port with a temporary configuration, users from <c>mosquitto_passwd -b</c> and no anonymous access, optionally a TLS
/// listener with a certificate made by <c>openssl</c> for a CA of its own. Killed and deleted on dispose.
/// </summary>
public sealed class Mosquitto : IAsyncDisposable
{
    public const string Binary = "/usr/sbin/mosquitto";
    private const string Passwd = "/usr/bin/mosquitto_passwd";

    private readonly Process _process;

    private Mosquitto(Process process, string directory, int port, string? caFile)
    {
        _process = process;
        Directory = directory;
        Port = port;
        CaFile = caFile;
    }

    /// <summary>Null when this machine can run one; else why not (the tests skip with it).</summary>
    public static string? Unavailable =>
        !File.Exists(Binary) ? $"no {Binary} (apt-get install mosquitto)"
        : !File.Exists(Passwd) ? $"no {Passwd}"
        : null;

    /// <summary>Null when <c>openssl</c> is there to make certificates; else why not.</summary>
    public static string? NoOpenSsl => File.Exists("/usr/bin/openssl") ? null : "no /usr/bin/openssl";

    public string Directory { get; }

    public int Port { get; }

    /// <summary>The CA certificate (PEM) the TLS listener's certificate chains to; null without TLS.</summary>
    public string? CaFile { get; }

    /// <summary>Everything Mosquitto logged so far.</summary>
    public string Log => File.Exists(Path.Combine(Directory, "mosquitto.log")) ? ReadShared(Path.Combine(Directory, "mosquitto.log")) : "";

    /// <summary>Starts one with the user <paramref name="user"/> / <paramref name="password"/>; with TLS on <paramref name="tls"/>.</summary>
    public static async Task<Mosquitto> StartAsync(string user, string password, bool tls = false)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("robotfleet-mosquitto-").FullName;
        var passwords = Path.Combine(directory, "passwd");
        await RunAsync(Passwd, "-c", "-b", passwords, user, password);
        string? caFile = null;
        var config = new List<string>
        {
            "persistence false",
            $"log_dest file {Path.Combine(directory, "mosquitto.log")}",
            "log_type all",
            "allow_anonymous false",
            $"password_file {passwords}",
        };
        if (Environment.UserName == "root")
            config.Add("user root"); // else mosquitto drops to user mosquitto, who cannot read this temporary directory
        var port = FreePort();
        config.Add($"listener {port} 127.0.0.1");
        if (tls)
        {
            caFile = await MakeCertificatesAsync(directory);
            config.Add($"cafile {caFile}");
            config.Add($"certfile {Path.Combine(directory, "server.crt")}");
            config.Add($"keyfile {Path.Combine(directory, "server.key")}");
        }

        var configFile = Path.Combine(directory, "mosquitto.conf");
        await File.WriteAllLinesAsync(configFile, config);
        var process = Process.Start(new ProcessStartInfo(Binary, ["-c", configFile]) { RedirectStandardError = true, RedirectStandardOutput = true })
            ?? throw new InvalidOperationException($"{Binary} did not start");
        var broker = new Mosquitto(process, directory, port, caFile);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await broker.AcceptsAsync())
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                var why = $"mosquitto did not listen on {port}: exit {(process.HasExited ? process.ExitCode : "none")}, {await process.StandardError.ReadToEndAsync()}\n{broker.Log}";
                await broker.DisposeAsync();
                throw new InvalidOperationException(why);
            }

            await Task.Delay(50);
        }

        return broker;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    private async Task<bool> AcceptsAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>A CA and a server certificate for <c>localhost</c> / 127.0.0.1 signed by it; returns the CA's file.</summary>
    private static async Task<string> MakeCertificatesAsync(string directory)
    {
        string F(string name) => Path.Combine(directory, name);
        await RunAsync("/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=RobotFleet test CA",
            "-keyout", F("ca.key"), "-out", F("ca.crt"));
        await RunAsync("/usr/bin/openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", F("server.key"), "-out", F("server.csr"));
        await File.WriteAllTextAsync(F("server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
        await RunAsync("/usr/bin/openssl", "x509", "-req", "-in", F("server.csr"), "-CA", F("ca.crt"), "-CAkey", F("ca.key"), "-CAcreateserial",
            "-days", "2", "-extfile", F("server.ext"), "-out", F("server.crt"));
        return F("ca.crt");
    }

    private static async Task RunAsync(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true, RedirectStandardOutput = true })
            ?? throw new InvalidOperationException($"{program} did not start");
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({process.ExitCode}): {await error}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }
}

/// <summary>A test that needs <see cref="Mosquitto"/> (and for TLS, openssl); skipped, naming what is missing, where it cannot run.</summary>
public sealed class MosquittoFactAttribute : FactAttribute
{
    public MosquittoFactAttribute(bool tls = false)
    {
        if ((Mosquitto.Unavailable ?? (tls ? Mosquitto.NoOpenSsl : null)) is { } why)
            Skip = why;
    }
}
