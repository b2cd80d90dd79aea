using Sinapse.Tensors;
using Sinapse.Vision;

namespace Sinapse.Tests.Packaging;

/// <summary>The core package is pure managed code without data; images, the zoo's weights and their native decoder live in Sinapse.Vision.</summary>
public class CoreAssemblyTests
{
    [Fact]
    public void TheCoreEmbedsNoResourcesAndTheVisionPackageTheWeights()
    {
        Assert.Empty(typeof(Tensor).Assembly.GetManifestResourceNames());
        Assert.Contains("Sinapse.Pretrained.mobilenet_v2_1.0_224_quant.tflite", typeof(Pretrained).Assembly.GetManifestResourceNames());
    }

    [Fact]
    public void TheCoreReferencesNoNativeWrapper()
    {
        var references = typeof(Tensor).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.DoesNotContain(references, name => name!.StartsWith("SkiaSharp", StringComparison.Ordinal));
        Assert.Contains(typeof(Images).Assembly.GetReferencedAssemblies(), a => a.Name == "SkiaSharp");
    }
}
