using Sinapse.Init;
using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Models;

/// <summary>The convolutional networks of the course.</summary>
public static class Cnn
{
    /// <summary>
    /// The course's reference CNN, custom_3_layer:
    /// Conv2d(C→32, 3, pad 1) → ReLU → MaxPool2d(2) → Conv2d(32→64, 3) → ReLU → MaxPool2d(2) →
    /// Conv2d(64→64, 3) → ReLU → Flatten → Linear(…→classes). For 28×28 inputs the feature maps
    /// are 28, 14, 12, 6 and 4 pixels wide, so the head sees 64·4·4 = 1,024 features. With
    /// <see cref="BlockOptions.BatchNorm"/> each convolution is followed by BatchNorm2d; with
    /// <see cref="BlockOptions.Dropout"/> dropout comes before the head.
    /// </summary>
    public static Sequential Course(int channels, int height, int width, int classes, BlockOptions options)
    {
        var model = new Sequential();
        foreach (var layer in options.Convolution(channels, 32, 3, padding: 1)) model.Add(layer);
        model.Add(new MaxPool2d(2));
        foreach (var layer in options.Convolution(32, 64, 3)) model.Add(layer);
        model.Add(new MaxPool2d(2));
        foreach (var layer in options.Convolution(64, 64, 3)) model.Add(layer);
        model.Add(new Flatten());
        int flat = model.OutputShape(new Shape(1, channels, height, width))[1];
        if (options.Dropout > 0) model.Add(new Dropout(options.Dropout, options.Rng));
        model.Add(options.Linear(flat, classes));
        return model;
    }

    public static Sequential Course(int channels, int height, int width, int classes, string activation = "relu", Initializer? weightInit = null, Rng? rng = null) =>
        Course(channels, height, width, classes, new BlockOptions(activation, weightInit, Rng: rng));

    /// <summary>
    /// LeNet-5 (LeCun et al., 1998) as usually built today: Conv(6, 5×5, pad 2) → tanh → AvgPool(2)
    /// → Conv(16, 5×5) → tanh → AvgPool(2) → Flatten → 120 → tanh → 84 → tanh → classes. The padding
    /// lets 28×28 MNIST stand in for the original 32×32 input.
    /// </summary>
    public static Sequential LeNet5(int channels, int height, int width, int classes, BlockOptions options)
    {
        var model = new Sequential();
        foreach (var layer in options.Convolution(channels, 6, 5, padding: 2)) model.Add(layer);
        model.Add(new AvgPool2d(2));
        foreach (var layer in options.Convolution(6, 16, 5)) model.Add(layer);
        model.Add(new AvgPool2d(2));
        model.Add(new Flatten());
        int flat = model.OutputShape(new Shape(1, channels, height, width))[1];
        foreach (var layer in options.Dense(flat, 120)) model.Add(layer);
        foreach (var layer in options.Dense(120, 84)) model.Add(layer);
        model.Add(options.Linear(84, classes));
        return model;
    }

    public static Sequential LeNet5(int channels, int height, int width, int classes, string activation = "tanh", Initializer? weightInit = null, Rng? rng = null) =>
        LeNet5(channels, height, width, classes, new BlockOptions(activation, weightInit, Rng: rng));
}
