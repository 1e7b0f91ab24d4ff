namespace RobotFleet.FirmwareBridge;

/// <summary>
/// A forward-looking pinhole camera on the robot, level with the floor: optical axis along the robot's heading,
/// image x to the robot's right, image y down. Lets a pixel on the floor be placed in the site frame.
/// </summary>
/// <param name="Width">Image width in pixels.</param>
/// <param name="Height">Image height in pixels.</param>
/// <param name="Fx">Focal length in pixels, horizontal.</param>
/// <param name="Fy">Focal length in pixels, vertical.</param>
/// <param name="Cx">Principal point x in pixels.</param>
/// <param name="Cy">Principal point y in pixels (the horizon row).</param>
/// <param name="MountHeight">Height of the optical centre above the floor, metres.</param>
public sealed record CameraModel(int Width, int Height, double Fx, double Fy, double Cx, double Cy, double MountHeight)
{
    /// <summary>A camera with square pixels and the principal point in the image centre.</summary>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="horizontalFieldOfView">Horizontal field of view, radians (0..pi).</param>
    /// <param name="mountHeight">Height above the floor, metres.</param>
    public static CameraModel Centred(int width, int height, double horizontalFieldOfView, double mountHeight)
    {
        var f = width / 2.0 / Math.Tan(horizontalFieldOfView / 2);
        return new CameraModel(width, height, f, f, width / 2.0, height / 2.0, mountHeight);
    }

    /// <summary>
    /// The floor point seen at pixel (<paramref name="u"/>, <paramref name="v"/>), in the site frame of a robot at
    /// <paramref name="pose"/>; null for a pixel at or above the horizon (it does not see the floor).
    /// </summary>
    public (double X, double Y)? FloorPoint(double u, double v, Pose pose)
    {
        if (v <= Cy + 1e-9)
        {
            return null;
        }

        var forward = MountHeight * Fy / (v - Cy);
        var left = -(u - Cx) * forward / Fx;
        var (sin, cos) = Math.SinCos(pose.Theta);
        return (pose.X + (forward * cos) - (left * sin), pose.Y + (forward * sin) + (left * cos));
    }
}

/// <summary>One camera image, RGB, 3 bytes per pixel, rows top to bottom.</summary>
/// <param name="Timestamp">When it was taken (UTC).</param>
/// <param name="Pixels">Width x height x 3 bytes (red, green, blue).</param>
/// <param name="Camera">The camera that took it: size and geometry.</param>
/// <param name="Pose">The robot's pose when it was taken.</param>
public sealed record CameraFrame(DateTime Timestamp, byte[] Pixels, CameraModel Camera, Pose Pose);
