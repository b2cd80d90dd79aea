using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>Layers applied one after another; children are named by their position ("0", "1", …) as in PyTorch.</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> layers = [];

    public Sequential(params Module[] layers)
    {
        foreach (var layer in layers) Add(layer);
    }

    public Sequential Add(Module layer)
    {
        RegisterModule(layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        layers.Add(layer);
        return this;
    }

    public IReadOnlyList<Module> Layers => layers;

    public Module this[int index] => layers[index];

    public int Count => layers.Count;

    public override Tensor Forward(Tensor input)
    {
        var x = input;
        foreach (var layer in layers) x = layer.Call(x);
        return x;
    }

    public override Shape OutputShape(Shape input)
    {
        var shape = input;
        foreach (var layer in layers) shape = layer.OutputShape(shape);
        return shape;
    }

    public override string Describe() => $"Sequential({layers.Count} layers)";
}
