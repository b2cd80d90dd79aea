using System.Text.Json;
using Sinapse.Data;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Data;

public class ImageResizeTests
{
    public static TheoryData<string> Cases() => Fixture.CaseNames("resize.json");

    /// <summary>PyTorch's F.interpolate(mode="bilinear", align_corners=False), written by tools/make_resize_fixtures.py.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void BilinearMatchesPyTorch(string name)
    {
        var c = Fixture.Case("resize.json", name);
        JsonElement input = c.GetProperty("input"), output = c.GetProperty("output"), parameters = c.GetProperty("parameters");
        var image = Tensor.FromArray(input.Floats("values"), input.Ints("shape"));
        var resized = ImageResize.Bilinear(image, parameters.GetProperty("height").GetInt32(), parameters.GetProperty("width").GetInt32());
        Assert.Equal(new Shape(output.Ints("shape")), resized.Shape);
        Expect.Close(output.Floats("values"), resized.Span, what: name);
    }

    [Fact]
    public void WithoutHalfPixelCentresOutputPixelsSampleAtIndexTimesScale()
    {
        // TFLite's resize_bilinear: output i samples input i·in/out, so 2 → 4 samples 0, 0.5, 1, 1 (clamped).
        var resized = ImageResize.Bilinear(Tensor.FromArray([0f, 10f], 1, 1, 2), 1, 4, halfPixelCenters: false);
        Assert.Equal([0f, 5f, 10f, 10f], resized.ToArray());
    }

    [Fact]
    public void RefusesWhatIsNotAnImageOrNotASize()
    {
        var rank2 = Assert.Throws<ArgumentException>(() => ImageResize.Bilinear(Tensor.Zeros(4, 4), 2, 2));
        Assert.Contains("[C, H, W]", rank2.Message);
        var empty = Assert.Throws<ArgumentException>(() => ImageResize.Bilinear(Tensor.Zeros(1, 4, 4), 0, 2));
        Assert.Contains("0x2", empty.Message);
    }
}
