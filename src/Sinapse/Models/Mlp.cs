using Sinapse.Init;
using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Models;

/// <summary>Multilayer perceptrons, e.g. the course's 784-256-128-64-10 with ReLU.</summary>
public static class Mlp
{
    /// <summary>
    /// Flatten → a hidden block per size (see <see cref="BlockOptions.Dense"/>) → Linear to the
    /// outputs. The last layer has no activation: it gives logits for the fused softmax cross-entropy.
    /// </summary>
    public static Sequential Create(int inputs, IReadOnlyList<int> hidden, int outputs, BlockOptions options)
    {
        if (hidden.Any(h => h <= 0)) throw new ArgumentException($"Hidden layer sizes must be positive, got [{string.Join(", ", hidden)}].");
        var model = new Sequential(new Flatten());
        int previous = inputs;
        foreach (var size in hidden)
        {
            foreach (var layer in options.Dense(previous, size)) model.Add(layer);
            previous = size;
        }
        model.Add(options.Linear(previous, outputs));
        return model;
    }

    public static Sequential Create(int inputs, IReadOnlyList<int> hidden, int outputs, string activation = "relu", Initializer? weightInit = null, Rng? rng = null) =>
        Create(inputs, hidden, outputs, new BlockOptions(activation, weightInit, Rng: rng));
}
