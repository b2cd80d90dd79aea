using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Models;

/// <summary>How a convolutional decoder grows the image back: a learned transposed convolution or fixed nearest upsampling followed by a convolution.</summary>
public enum DecoderUpsampling { Transposed, Nearest }

/// <summary>
/// An autoencoder: an encoder that compresses the input to a small code and a decoder
/// that rebuilds the input from it, trained unsupervised with MSE against the input itself.
/// <see cref="Module.Call"/> runs both; <see cref="Encoder"/> alone gives the codes.
/// </summary>
public sealed record AutoencoderConfig(Sequential Encoder, Sequential Decoder);

public sealed class Autoencoder : Module, IConfigurable<Autoencoder, AutoencoderConfig>
{
    public AutoencoderConfig GetConfig() => new(Encoder, Decoder);
    public static Autoencoder FromConfig(AutoencoderConfig c, Rng? rng) => new(c.Encoder, c.Decoder);

    public Autoencoder(Sequential encoder, Sequential decoder)
    {
        Encoder = RegisterModule("encoder", encoder);
        Decoder = RegisterModule("decoder", decoder);
    }

    public Sequential Encoder { get; }
    public Sequential Decoder { get; }

    protected override Tensor Forward(Tensor input) => Decoder.Call(Encoder.Call(input));

    public override Shape OutputShape(Shape input) => Decoder.OutputShape(Encoder.OutputShape(input));

    public override IReadOnlyList<Module> Stages => [Encoder, Decoder];

    public override string Describe() => "Autoencoder";

    /// <summary>
    /// Dense: Flatten → hidden sizes → code (linear) → hidden sizes reversed → inputs → Sigmoid →
    /// the input's shape. The sigmoid suits inputs scaled to [0, 1] (X/255).
    /// </summary>
    public static Autoencoder Dense(Shape exampleShape, IReadOnlyList<int> hidden, int code, string activation = "relu", Rng? rng = null)
    {
        if (code <= 0 || hidden.Any(h => h <= 0)) throw new ArgumentException($"Autoencoder sizes must be positive, got hidden [{string.Join(", ", hidden)}] and code {code}.");
        int inputs = exampleShape.Size;
        var encoder = new Sequential(new Flatten());
        int previous = inputs;
        foreach (var size in hidden)
        {
            encoder.Add(new Linear(previous, size, rng: rng));
            encoder.Add(Activation.Parse(activation));
            previous = size;
        }
        encoder.Add(new Linear(previous, code, rng: rng));
        var decoder = new Sequential();
        previous = code;
        foreach (var size in hidden.Reverse())
        {
            decoder.Add(new Linear(previous, size, rng: rng));
            decoder.Add(Activation.Parse(activation));
            previous = size;
        }
        decoder.Add(new Linear(previous, inputs, rng: rng));
        decoder.Add(new Sigmoid());
        decoder.Add(new Unflatten(exampleShape.Dimensions.ToArray()));
        return new Autoencoder(encoder, decoder);
    }

    /// <summary>
    /// Convolutional, for [C, H, W] images with H and W divisible by 4: two stride-2 convolutions
    /// (16 and 32 filters of 3×3) halve the image twice, a Linear makes the code; the decoder mirrors
    /// it with a Linear back to 32 × H/4 × W/4 and two doublings (transposed 2×2 stride-2
    /// convolutions, or nearest upsampling + 3×3 convolution), ending in a Sigmoid.
    /// </summary>
    public static Autoencoder Convolutional(int channels, int height, int width, int code, DecoderUpsampling upsampling = DecoderUpsampling.Transposed, Rng? rng = null)
    {
        if (height % 4 != 0 || width % 4 != 0) throw new ArgumentException($"The convolutional autoencoder needs height and width divisible by 4, got {height}x{width}.");
        if (code <= 0) throw new ArgumentException($"The code size must be positive, got {code}.");
        var he = Init.Initializer.HeUniform();
        int h = height / 4, w = width / 4, flat = 32 * h * w;
        var encoder = new Sequential(
            new Conv2d(channels, 16, 3, stride: 2, padding: 1, weightInit: he, rng: rng), new Relu(),
            new Conv2d(16, 32, 3, stride: 2, padding: 1, weightInit: he, rng: rng), new Relu(),
            new Flatten(),
            new Linear(32 * h * w, code, rng: rng));
        var decoder = new Sequential(new Linear(code, flat, weightInit: he, rng: rng), new Relu(), new Unflatten(32, h, w));
        if (upsampling == DecoderUpsampling.Transposed)
        {
            decoder.Add(new ConvTranspose2d(32, 16, 2, stride: 2, weightInit: he, rng: rng));
            decoder.Add(new Relu());
            decoder.Add(new ConvTranspose2d(16, channels, 2, stride: 2, rng: rng));
        }
        else
        {
            decoder.Add(new Upsample(2));
            decoder.Add(new Conv2d(32, 16, 3, padding: 1, weightInit: he, rng: rng));
            decoder.Add(new Relu());
            decoder.Add(new Upsample(2));
            decoder.Add(new Conv2d(16, channels, 3, padding: 1, rng: rng));
        }
        decoder.Add(new Sigmoid());
        return new Autoencoder(encoder, decoder);
    }
}
