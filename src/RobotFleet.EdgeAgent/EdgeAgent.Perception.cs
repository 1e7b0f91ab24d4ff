using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using MQTTnet.Protocol;
using RobotFleet.FirmwareBridge;
using RobotFleet.Perception;

namespace RobotFleet.EdgeAgent;

/// <summary>
/// The perception loop: at <see cref="EdgeAgentOptions.PerceptionRate"/>, takes a camera frame from the firmware,
/// runs the active model on it and publishes the result on <c>robotfleet/v1/{manufacturer}/{serialNumber}/perception</c>.
/// </summary>
public sealed partial class EdgeAgent
{
    private static readonly JsonSerializerOptions PerceptionJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private Task[] StartPerceptionLoop() => models is null || options.PerceptionRate <= 0
        ? []
        : [Task.Run(RunPerceptionAsync, CancellationToken.None)];

    private async Task RunPerceptionAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1 / options.PerceptionRate));
        var lastErrorLog = Stopwatch.GetTimestamp() - Stopwatch.Frequency * 60;
        try
        {
            while (await timer.WaitForNextTickAsync(shutdown.Token).ConfigureAwait(false))
            {
                if (models!.Host.Current is null)
                {
                    continue;
                }

                byte[] payload;
                try
                {
                    var frame = await firmware.CaptureAsync(shutdown.Token).ConfigureAwait(false);
                    if (frame is null)
                    {
                        continue;
                    }

                    var image = new ImageFrame(frame.Camera.Width, frame.Camera.Height, PixelFormat.Rgb24, frame.Pixels);
                    var result = models.Host.Run(image);
                    models.RecordRun(result.Timing.Total);
                    payload = JsonSerializer.SerializeToUtf8Bytes(PerceptionReportOf(frame, result), PerceptionJson);
                }
                catch (Exception e) when (e is not OperationCanceledException || !shutdown.IsCancellationRequested)
                {
                    models.RecordRun(null);
                    if (Stopwatch.GetElapsedTime(lastErrorLog) > TimeSpan.FromSeconds(10))
                    {
                        lastErrorLog = Stopwatch.GetTimestamp();
                        options.Log?.Invoke($"{options.SerialNumber}: perception run failed: {e.Message}");
                    }

                    continue;
                }

                await link.PublishAsync(ExtensionTopic("perception"), payload, MqttQualityOfServiceLevel.AtMostOnce, retain: false, shutdown.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Detections become entries with their floor point (bottom centre of the box) in the site frame, where the camera
    /// sees the floor there; classification results become entries without a position; embeddings give none.
    /// </summary>
    internal static PerceptionReport PerceptionReportOf(CameraFrame frame, InferenceResult result)
    {
        IEnumerable<PerceptionDetection> detections = result.Kind switch
        {
            ModelKind.Detection => result.Detections.Select(d =>
            {
                var at = frame.Camera.FloorPoint((d.X1 + d.X2) / 2, d.Y2, frame.Pose);
                return new PerceptionDetection(d.Label, Math.Round(d.Score, 4), at is null ? null : Math.Round(at.Value.X, 3), at is null ? null : Math.Round(at.Value.Y, 3));
            }),
            ModelKind.Classification => result.Classes.Select(c => new PerceptionDetection(c.Label, Math.Round(c.Score, 4), null, null)),
            _ => [],
        };
        return new PerceptionReport(frame.Timestamp, result.ModelName, result.ModelVersion, Math.Round(result.Timing.Total.TotalMilliseconds, 3), [.. detections]);
    }
}

/// <summary>The <c>robotfleet/v1/{manufacturer}/{serialNumber}/perception</c> message.</summary>
internal sealed record PerceptionReport(DateTime Timestamp, string ModelName, string ModelVersion, double LatencyMs, IReadOnlyList<PerceptionDetection> Detections);

/// <summary>One detection (or class): <c>x</c>, <c>y</c> in the site frame, left out where unknown.</summary>
internal sealed record PerceptionDetection([property: JsonPropertyName("class")] string Class, double Score, double? X, double? Y);
