namespace Sinapse.Cli;

/// <summary>The classic 3×3 image filters of the course, by name.</summary>
internal static class ImageFilters
{
    public static IReadOnlyList<(string Name, float[,] Kernel)> All { get; } =
    [
        ("identity", new float[,] { { 0, 0, 0 }, { 0, 1, 0 }, { 0, 0, 0 } }),
        ("edges-diagonal", new float[,] { { 1, 0, -1 }, { 0, 0, 0 }, { -1, 0, 1 } }),
        ("edges-laplacian", new float[,] { { 0, 1, 0 }, { 1, -4, 1 }, { 0, 1, 0 } }),
        ("edges-all", new float[,] { { -1, -1, -1 }, { -1, 8, -1 }, { -1, -1, -1 } }),
        ("edges-vertical", new float[,] { { -1, 0, 1 }, { -1, 0, 1 }, { -1, 0, 1 } }),
        ("edges-horizontal", new float[,] { { 1, 1, 1 }, { 0, 0, 0 }, { -1, -1, -1 } }),
        ("sharpen", new float[,] { { 0, -1, 0 }, { -1, 5, -1 }, { 0, -1, 0 } }),
        ("box-blur", Scaled(1f / 9, new float[,] { { 1, 1, 1 }, { 1, 1, 1 }, { 1, 1, 1 } })),
        ("gaussian-blur", Scaled(1f / 16, new float[,] { { 1, 2, 1 }, { 2, 4, 2 }, { 1, 2, 1 } })),
    ];

    private static float[,] Scaled(float factor, float[,] kernel)
    {
        for (int i = 0; i < kernel.GetLength(0); i++)
            for (int j = 0; j < kernel.GetLength(1); j++) kernel[i, j] *= factor;
        return kernel;
    }
}
