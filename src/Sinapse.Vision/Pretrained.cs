using System.Reflection;
using Sinapse.Data;
using Sinapse.IO;
using Sinapse.Tensors;

namespace Sinapse.Vision;

/// <summary>
/// ImageNet-trained models that ship inside the library (no download): TensorFlow's MobileNetV1
/// (width 0.25, float) and MobileNetV2 (width 1.0, quantisation-aware trained, dequantised to
/// float32), imported from their TFLite files (Apache-2.0; see data/pretrained/README.md). Both classify
/// 224×224 RGB images into the 1001 classes of <see cref="ImageNetLabels"/> (0 = background).
/// </summary>
public static class Pretrained
{
    /// <summary>The names <see cref="Load"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mobilenet_v1_0.25", "mobilenet_v2"];

    /// <summary>The input size the models were trained at.</summary>
    public const int ImageSize = 224;

    /// <summary>MobileNetV1, width 0.25, 224×224: 467,593 parameters.</summary>
    public static MobileNet MobileNetV1() => Load("mobilenet_v1_0.25");

    /// <summary>MobileNetV2, width 1.0, 224×224: 3,489,097 parameters.</summary>
    public static MobileNet MobileNetV2() => Load("mobilenet_v2");

    /// <summary>A pretrained model by name ("mobilenet_v2", "mobilenet_v1_0.25"; "mobilenet_v1" for the latter), in evaluation mode.</summary>
    public static MobileNet Load(string name)
    {
        var resource = Resource(name) ?? throw new ArgumentException($"No pretrained model '{name}'. Available: {string.Join(", ", Names)}.");
        return TfLiteImport.Load(TfLiteModel.Load(ReadResource(resource), resource), resource);
    }

    /// <summary>Whether <paramref name="name"/> names a pretrained model <see cref="Load"/> knows.</summary>
    public static bool Exists(string name) => Resource(name) != null;

    private static string? Resource(string name) => name.Trim().ToLowerInvariant().Replace('-', '_') switch
    {
        "mobilenet_v1_0.25" or "mobilenet_v1" => "mobilenet_v1_0.25_224_float.tflite",
        "mobilenet_v2" or "mobilenet_v2_1.0" => "mobilenet_v2_1.0_224_quant.tflite",
        _ => null,
    };

    /// <summary>The 1001 ImageNet class names, index 0 "background", as the models number them.</summary>
    public static IReadOnlyList<string> ImageNetLabels => labels ??= System.Text.Encoding.UTF8.GetString(ReadResource("imagenet_labels.txt"))
        .Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();

    private static string[]? labels;

    /// <summary>
    /// An image [3, H, W] in 0..255 (as <see cref="Images.Load"/> gives) as the models expect it:
    /// resized to 224×224 (bilinear, the whole image, as TFLite's label_image example does, with
    /// TensorFlow 1's pixel alignment) and
    /// scaled to [−1, 1] by x/127.5 − 1, as a batch of one [1, 3, 224, 224].
    /// </summary>
    public static Tensor Preprocess(Tensor image)
    {
        if (image.Rank != 3 || image.Shape[0] != 3) throw new ArgumentException($"Pretrained.Preprocess needs an RGB image [3, H, W] in 0..255, got {image.Shape}.");
        var resized = ImageResize.Bilinear(image, ImageSize, ImageSize, halfPixelCenters: false);
        System.Numerics.Tensors.TensorPrimitives.Multiply(resized.Span, 1f / 127.5f, resized.Span);
        System.Numerics.Tensors.TensorPrimitives.Add(resized.Span, -1f, resized.Span);
        return resized.ReshapedTo(1, 3, ImageSize, ImageSize);
    }

    /// <summary>The <paramref name="top"/> most probable classes of each image (softmax over the model's logits), best first.</summary>
    public static IReadOnlyList<(string Label, int Index, float Probability)> Classify(MobileNet model, Tensor image, int top = 5)
    {
        using var noGrad = Autograd.GradMode.NoGrad();
        model.Eval();
        var probabilities = Ops.F.Softmax(model.Call(Preprocess(image))).ToArray();
        var names = ImageNetLabels;
        return probabilities.Select((p, i) => (Label: i < names.Count ? names[i] : $"class {i}", Index: i, Probability: p))
            .OrderByDescending(c => c.Probability).Take(top).ToList();
    }

    private static byte[] ReadResource(string name)
    {
        using var stream = typeof(Pretrained).Assembly.GetManifestResourceStream("Sinapse.Pretrained." + name)
            ?? throw new InvalidOperationException($"The pretrained file {name} is missing from the Sinapse.Vision assembly (it is embedded from data/pretrained/ at build time).");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}
