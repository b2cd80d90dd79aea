using System.CommandLine;
using Sinapse.Data;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Vision;

namespace Sinapse.Cli.Commands;

/// <summary>
/// <c>sinapse filters</c>: the course's classic filters applied to a picture by cross-correlation,
/// one PNG per filter and a contact sheet of them all.
/// </summary>
internal static class FiltersCommand
{
    public static Command Create()
    {
        var image = new Option<string?>("--image") { Description = "A PNG or JPEG picture (default: the first digit of the bundled MNIST test set)." };
        var output = new Option<string>("--out") { Description = "Directory for the PNG files.", DefaultValueFactory = _ => Path.Combine("runs", "filters") };
        var command = new Command("filters", "Apply the classic image filters (identity, edge detectors, sharpen, blurs) to a picture and save the results as PNG.");
        command.Options.Add(image);
        command.Options.Add(output);
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var directory = OutputDirectory.Prepare(parse.GetValue(output)!, "--out");
            var picture = parse.GetValue(image) is { } path ? Images.Load(path) : FirstMnistDigit();
            var sheet = new List<Tensor>();
            foreach (var (name, kernel) in ImageFilters.All)
            {
                var filtered = Apply(picture, kernel);
                // Clamp to the pixel range, as an image editor would: edge maps show as bright lines on black.
                Images.SavePng(Path.Combine(directory, $"{name}.png"), filtered, 0f, 255f);
                sheet.Add(filtered);
                Console.WriteLine($"{name,-18} {Path.Combine(directory, name + ".png")}");
            }
            int scale = Math.Max(1, 96 / Math.Max(picture.Shape[1], picture.Shape[2]));
            Images.SaveGrid(Path.Combine(directory, "contact-sheet.png"), sheet, columns: 3, scale: scale, low: 0f, high: 255f);
            Console.WriteLine($"contact sheet      {Path.Combine(directory, "contact-sheet.png")}");
            return 0;
        }));
        return command;
    }

    /// <summary>Cross-correlates every channel of [C, H, W] with the 3×3 kernel, zero padding 1 so the size is kept (a depthwise convolution).</summary>
    internal static Tensor Apply(Tensor picture, float[,] kernel)
    {
        int channels = picture.Shape[0];
        var weight = Tensor.Zeros(channels, 1, 3, 3);
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < 9; i++) weight.Span[c * 9 + i] = kernel[i / 3, i % 3];
        var batch = F.Reshape(picture, 1, channels, picture.Shape[1], picture.Shape[2]);
        var result = F.Conv2d(batch, weight, null, stride: 1, padding: 1, dilation: 1, groups: channels);
        return F.Reshape(result, channels, picture.Shape[1], picture.Shape[2]);
    }

    private static Tensor FirstMnistDigit()
    {
        var digit = Mnist.LoadBundled().Test.Features.Slice(0, 1);
        return F.Reshape(digit, 1, digit.Shape[2], digit.Shape[3]);
    }
}
