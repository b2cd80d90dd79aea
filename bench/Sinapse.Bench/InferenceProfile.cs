using System.Diagnostics;
using Sinapse.Autograd;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Tensors;

namespace Sinapse.Bench;

/// <summary>
/// Where MobileNetV3-Small's inference time goes, by kind of layer, at batch 1 and 32 (224²): every
/// layer of the model's Sequentials runs inside a stopwatch, as the model runs (batch norm fused
/// with the activation after it stays fused, and is timed as one). "other" is the rest of the
/// pass: residual additions, the global pooling, the containers. Printed, not compared: there is
/// no reference side. The stopwatches cost a few microseconds per layer.
/// </summary>
public static class InferenceProfile
{
    public static IEnumerable<BenchRecord> Run(BenchOptions options)
    {
        foreach (bool folded in new[] { false, true })
            foreach (int batch in new[] { 1, 32 })
                Profile(options, batch, folded);
        return [];
    }

    static void Profile(BenchOptions options, int batch, bool folded)
    {
        var model = MobileNet.V3Small(1000, options: new ConvNormOptions(Rng: new Rng(1)));
        model.Eval();
        using var folding = folded ? Fusion.FoldBatchNorm(model) : null;
        var totals = new Dictionary<string, long>();
        foreach (var (_, module) in model.NamedModules().ToList())
            if (module is Sequential sequential)
                for (int i = 0; i < sequential.Count; i++)
                    if (sequential[i] is not (Sequential or InvertedResidual)) sequential.Replace(i, new Timed(sequential[i], totals));

        var input = Tensor.Uniform(new Shape(batch, 3, 224, 224), -1f, 1f, new Rng(5));
        void Pass()
        {
            using var noGrad = GradMode.NoGrad();
            using var scope = TensorScope.Begin();
            model.Call(input);
        }
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 3000) Pass();
        totals.Clear();
        int passes = batch == 1 ? 40 * options.Reps : 2 * options.Reps;
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < passes; i++) Pass();
        double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency / passes;
        long elapsed = Stopwatch.GetTimestamp() - start;
        double total = Milliseconds(elapsed);
        totals["other"] = elapsed - totals.Values.Sum();

        Console.WriteLine($"profile: MobileNetV3-Small b{batch} 224x224{(folded ? ", batch norm folded" : "")}: {total:F2} ms per pass ({passes} passes)");
        foreach (var (kind, ticks) in totals.OrderByDescending(t => t.Value))
            Console.WriteLine($"  {kind,-34} {Milliseconds(ticks),8:F3} ms  {100 * Milliseconds(ticks) / total,5:F1}%");
    }

    /// <summary>A layer run inside a stopwatch, its time added to its kind's total.</summary>
    sealed class Timed(Module inner, Dictionary<string, long> totals) : Module
    {
        readonly string kind = Kind(inner);

        protected override Tensor Forward(Tensor input) => Time(kind, () => inner.Call(input));

        public override bool CanFuseWith(Module next) => next is Timed timed && inner.CanFuseWith(timed.Inner);

        public override Tensor ForwardFused(Tensor input, Module next) =>
            Time($"{kind} + {((Timed)next).kind}", () => inner.ForwardFused(input, ((Timed)next).Inner));

        public override Shape OutputShape(Shape input) => inner.OutputShape(input);

        Module Inner => inner;

        Tensor Time(string name, Func<Tensor> run)
        {
            long start = Stopwatch.GetTimestamp();
            var output = run();
            totals[name] = totals.GetValueOrDefault(name) + Stopwatch.GetTimestamp() - start;
            return output;
        }

        static string Kind(Module layer) => layer switch
        {
            FoldedConv2d folded => Kind(folded.Convolution) + " (folded" + (folded.Activation is { } a ? " + " + Kind(a) : "") + ")",
            Conv2d { Groups: > 1 } c when c.Groups == c.InChannels => $"depthwise {c.KernelSize}x{c.KernelSize}",
            Conv2d c => $"conv {c.KernelSize}x{c.KernelSize}",
            BatchNormBase => "batch norm",
            _ => layer.GetType().Name.ToLowerInvariant(),
        };
    }
}
