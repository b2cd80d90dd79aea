using Sinapse.Autograd;
using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Training;

/// <summary>
/// The batch that evaluation and prediction use when none is given: 1,000 examples, or fewer
/// when that many would need more than <see cref="Memory"/> bytes of activations.
/// </summary>
public static class InferenceBatch
{
    /// <summary>The activation memory a default inference batch may take: 512 MB.</summary>
    public const long Memory = 512L << 20;

    /// <summary>
    /// Measures the need: two zero examples (batch statistics need more than one) go through
    /// the model in eval mode without a tape, under <paramref name="precision"/>, and the storage
    /// the tensor pool supplies for them — and keeps for the next batch — scales with the batch.
    /// The course CNN on MNIST takes the 1,000; MobileNetV2 on 224×224 photos 16, on 64×64 ones 185.
    /// </summary>
    public static int Measure(Module model, Shape exampleShape, Precision precision = Precision.Float32)
    {
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var noGrad = GradMode.NoGrad();
            using var autocast = MixedPrecision.Autocast(precision);
            using var scope = TensorScope.Measure(out var demand);
            model.Call(Tensor.Zeros(new Shape([2, .. exampleShape.Dimensions])));
            return (int)Math.Clamp(2 * Memory / Math.Max(demand.Bytes, 1), 1, 1000);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Measuring the memory of a default inference batch, two examples of {exampleShape} failed ({e.Message}); pass a batch size.", e);
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    /// <summary>
    /// <see cref="Measure"/>, unless there are no more examples than its two-example measurement
    /// would run: then they all go at once, rather than costing the model twice (one photo through
    /// <c>sinapse predict</c>).
    /// </summary>
    internal static int For(Module model, Shape exampleShape, Precision precision, int examples) =>
        examples <= 2 ? Math.Max(examples, 1) : Measure(model, exampleShape, precision);
}
