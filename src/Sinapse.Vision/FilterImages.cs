using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Vision;

/// <summary>Pictures of what a convolution has learned: each filter as a small image.</summary>
public static class FilterImages
{
    /// <summary>Each filter of <paramref name="convolution"/> as [k, k] (its first input channel) or [3, k, k] for RGB inputs.</summary>
    public static IReadOnlyList<Tensor> Of(Conv2d convolution)
    {
        int inputs = convolution.Weight.Shape[1], k = convolution.KernelSize;
        return Enumerable.Range(0, convolution.OutChannels).Select(o =>
        {
            var filter = convolution.Weight.Slice(o, 1).Detach();
            return inputs == 3 ? filter.Clone().ReshapedTo(3, k, k) : filter.Clone().ReshapedTo(inputs, k, k).Slice(0, 1).ReshapedTo(k, k);
        }).ToList();
    }

    /// <summary>The first convolution of a model, if it has one (the layer whose filters are easiest to read).</summary>
    public static Conv2d? FirstConvolution(Module model) => model.NamedModules().Select(m => m.Module).OfType<Conv2d>().FirstOrDefault();

    /// <summary>Writes the filters as a PNG grid, 8 per row, each tap a 12-pixel square.</summary>
    public static void Save(Conv2d convolution, string path) => Images.SaveGrid(path, Of(convolution), columns: 8, scale: 12);
}
