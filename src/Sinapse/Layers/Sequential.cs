using Sinapse.Autograd;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>Layers applied one after another; children are named by their position ("0", "1", …) as in PyTorch.</summary>
/// <remarks>
/// In inference (no tape), each layer's input goes back to the tensor pool once the next layer
/// has run, so a deep network's batch holds a few layers' activations rather than all of them. A
/// layer that wants to look at a value afterwards keeps it with <see cref="TensorScope.Keep"/>.
/// </remarks>
public sealed record SequentialConfig(IReadOnlyList<Module> Layers);

public sealed class Sequential : Module, IConfigurable<Sequential, SequentialConfig>
{
    public SequentialConfig GetConfig() => new(Layers);
    public static Sequential FromConfig(SequentialConfig config, Rng? rng) => new([.. config.Layers]);

    private readonly List<Module> layers = [];
    private bool[] fusedWithNext = [];

    public Sequential(params Module[] layers)
    {
        foreach (var layer in layers) Add(layer);
    }

    public Sequential Add(Module layer)
    {
        RegisterModule(layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        layers.Add(layer);
        fusedWithNext = Fusion.Plan(layers);
        return this;
    }

    /// <summary>Puts <paramref name="layer"/> at position <paramref name="index"/> in place of the layer there; returns the layer replaced.</summary>
    public Module Replace(int index, Module layer)
    {
        if ((uint)index >= (uint)layers.Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"Sequential has {layers.Count} layers.");
        var old = layers[index];
        ReplaceModule(index.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        layers[index] = layer;
        fusedWithNext = Fusion.Plan(layers);
        return old;
    }

    /// <summary>
    /// Transfer learning's new head: the last Linear layer is replaced by a fresh one with the same
    /// inputs and <paramref name="classes"/> outputs (and bias as before), initialised from
    /// <paramref name="rng"/>. Returns the new head, which is trainable even if the model was frozen.
    /// </summary>
    public Linear ReplaceHead(int classes, Rng? rng = null)
    {
        int index = layers.FindLastIndex(l => l is Linear);
        if (index < 0) throw new InvalidOperationException($"{Describe()} has no Linear layer to replace as its head.");
        var old = (Linear)layers[index];
        var head = new Linear(old.InFeatures, classes, old.Bias != null, old.WeightInit, old.BiasInit, rng);
        Replace(index, head);
        return head;
    }

    /// <summary>
    /// The network cut where its classifier starts: the head is the last Linear layer and any
    /// Dropout just before it, the trunk everything before (the same layer objects, not copies).
    /// Transfer learning on a budget runs the frozen trunk once per example and trains a new head
    /// (<see cref="ReplaceHead"/>) on its features.
    /// </summary>
    public (Sequential Trunk, Sequential Head) SplitHead()
    {
        int start = layers.FindLastIndex(l => l is Linear);
        if (start < 0) throw new InvalidOperationException($"{Describe()} has no Linear layer to split off as its head.");
        while (start > 0 && layers[start - 1] is Dropout) start--;
        return (new Sequential([.. layers.Take(start)]), new Sequential([.. layers.Skip(start)]));
    }

    public IReadOnlyList<Module> Layers => layers;

    public Module this[int index] => layers[index];

    public int Count => layers.Count;

    /// <summary>
    /// Whether layers that can fuse with the next (<see cref="Fusion"/>: batch norm and the ReLU or
    /// hard-swish after it) run as one pass over memory; on by default. Off, every layer runs on its
    /// own, as it always does under anomaly detection.
    /// </summary>
    public bool FuseLayers { get; set; } = true;

    protected override Tensor Forward(Tensor input)
    {
        var x = input;
        for (int i = 0; i < layers.Count; i++)
        {
            var previous = x;
            if (fusedWithNext[i] && FuseLayers && !AnomalyDetection.Enabled)
            {
                x = layers[i].ForwardFused(x, layers[i + 1]);
                i++;
            }
            else x = layers[i].Call(x);
            // Inference keeps no inputs for a backward pass, so a layer's input is garbage once the
            // next layer has run: its buffer goes back to the pool at once, and a deep network's
            // batch needs the memory of a few layers rather than of all of them.
            if (!GradMode.Enabled && !ReferenceEquals(previous, input) && !previous.SharesStorageWith(x)) TensorScope.ReleaseEarly(previous);
        }
        return x;
    }

    public override Shape OutputShape(Shape input)
    {
        var shape = input;
        foreach (var layer in layers) shape = layer.OutputShape(shape);
        return shape;
    }

    public override IReadOnlyList<Module> Stages => layers;

    public override (int Kernel, int Stride, int Dilation)? Window => ChainWindow(layers);

    public override string Describe() => $"Sequential({layers.Count} layers)";
}
