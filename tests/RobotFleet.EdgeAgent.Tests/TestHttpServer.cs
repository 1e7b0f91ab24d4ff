using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace RobotFleet.EdgeAgent.Tests;

/// <summary>A tiny HTTP file server on a free loopback port (HttpListener): serves registered bytes, 404 otherwise, or hangs.</summary>
internal sealed class TestHttpServer : IAsyncDisposable
{
    private readonly HttpListener listener = new();
    private readonly ConcurrentDictionary<string, byte[]> files = new();
    private readonly ConcurrentDictionary<string, bool> hanging = new();
    private readonly ConcurrentDictionary<string, TimeSpan> throttled = new();
    private readonly ConcurrentDictionary<string, int> failures = new();
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    private TestHttpServer(int port)
    {
        BaseUri = new Uri($"http://127.0.0.1:{port}/");
        listener.Prefixes.Add(BaseUri.ToString());
        listener.Start();
        loop = Task.Run(ServeAsync);
    }

    public Uri BaseUri { get; }

    public ConcurrentDictionary<string, int> Requests { get; } = new();

    public static TestHttpServer Start()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new TestHttpServer(port);
    }

    /// <summary>Serves <paramref name="bytes"/> at <paramref name="path"/>; returns its URL.</summary>
    public Uri Add(string path, byte[] bytes)
    {
        files[path] = bytes;
        return new Uri(BaseUri, path);
    }

    /// <summary>A URL that accepts the request and never answers.</summary>
    public Uri Hang(string path)
    {
        hanging[path] = true;
        return new Uri(BaseUri, path);
    }

    /// <summary>Serves <paramref name="path"/> in 64 KiB chunks with <paramref name="pause"/> between them.</summary>
    public void Throttle(string path, TimeSpan pause) => throttled[path] = pause;

    /// <summary>Answers the next <paramref name="count"/> requests for <paramref name="path"/> with HTTP 503.</summary>
    public void FailNext(string path, int count) => failures[path] = count;

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        listener.Close();
        try
        {
            await loop;
        }
        catch (Exception e) when (e is ObjectDisposedException or HttpListenerException or OperationCanceledException)
        {
        }
    }

    private async Task ServeAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var path = context.Request.Url!.AbsolutePath.TrimStart('/');
        Requests.AddOrUpdate(path, 1, (_, n) => n + 1);
        try
        {
            if (hanging.ContainsKey(path))
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }

            if (failures.TryGetValue(path, out var left) && left > 0 && failures.TryUpdate(path, left - 1, left))
            {
                context.Response.StatusCode = 503;
            }
            else if (files.TryGetValue(path, out var bytes))
            {
                context.Response.StatusCode = 200;
                context.Response.ContentLength64 = bytes.Length;
                if (throttled.TryGetValue(path, out var pause))
                {
                    for (var offset = 0; offset < bytes.Length; offset += 65536)
                    {
                        await context.Response.OutputStream.WriteAsync(bytes.AsMemory(offset, Math.Min(65536, bytes.Length - offset)));
                        await context.Response.OutputStream.FlushAsync();
                        await Task.Delay(pause, stop.Token);
                    }
                }
                else
                {
                    await context.Response.OutputStream.WriteAsync(bytes);
                }
            }
            else
            {
                context.Response.StatusCode = 404;
            }

            context.Response.Close();
        }
        catch (Exception)
        {
            // client gone or server stopping
        }
    }
}
