using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using RobotFleet.ControlPlane.Missions;
using RobotFleet.ControlPlane.Models;
using RobotFleet.ControlPlane.Robots;
using RobotFleet.Gateway;

namespace RobotFleet.Server.Hosting;

/// <summary>
/// Registry packages with absolute links for robots: <see cref="ServerOptions.PublicBaseUrl"/>, else the server's own
/// HTTP listen address (0.0.0.0 replaced by this host's name), plus <c>/api/models/{name}/{version}/model.onnx</c>.
/// </summary>
public sealed class RegistryRolloutPackages(ModelRegistry registry, ServerOptions options, IServer server) : IRolloutPackages
{
    /// <inheritdoc />
    public RolloutPackage? Find(string name, string version)
    {
        if (registry.Find(name, version) is not { } entry)
            return null;
        var path = $"api/models/{Uri.EscapeDataString(entry.Name)}/{Uri.EscapeDataString(entry.Version)}";
        var baseUrl = BaseUrl();
        return new RolloutPackage(entry.Name, entry.Version, new Uri(baseUrl, $"{path}/model.onnx"), new Uri(baseUrl, $"{path}/manifest.json"),
            entry.Sha256, entry.ManifestSha256, entry.Signature);
    }

    private Uri BaseUrl()
    {
        if (options.PublicBaseUrl is { } configured)
            return configured.AbsoluteUri.EndsWith('/') ? configured : new Uri(configured.AbsoluteUri + "/");
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("the HTTP server has no listen address yet; set --public-url");
        var uri = new UriBuilder(address) { Path = "/" };
        if (uri.Host is "0.0.0.0" or "+" or "*" or "[::]")
            uri.Host = System.Net.Dns.GetHostName();
        return uri.Uri;
    }
}

/// <summary>Robots as rollouts see them: the gateway's twins with their tags, busy while a mission holds them or they drive.</summary>
public sealed class TwinRolloutFleet(RobotTwinRegistry twins, MissionStore missions, RobotTags tags) : IRolloutFleet
{
    /// <inheritdoc />
    public IReadOnlyList<RolloutRobotView> Snapshot()
    {
        var busy = missions.All.Where(m => !m.IsFinal && m.Robot is not null).Select(m => m.Robot!).ToHashSet();
        return twins.All.Select(t => new RolloutRobotView(
            t.Robot, t.Connection == Contracts.RobotConnectionState.Online, !t.Driving && !busy.Contains(t.Robot), t.Charging, tags.Of(t.Robot))).ToList();
    }
}
