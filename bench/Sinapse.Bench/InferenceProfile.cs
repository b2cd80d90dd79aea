using System.Diagnostics;
using Sinapse.Vision;
using Sinapse.Autograd;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Tensors;

namespace Sinapse.Bench;

/// <summary>
/// Where inference time goes, by kind of layer: MobileNetV3-Small at batch 1 and 32 (224²) and the
/// course CNN at batch 1000 (28²). Every
/// layer of the model's Sequentials runs inside a stopwatch, as the model runs (batch norm fused
/// with the activation after it stays fused, and is timed as one). "other" is the rest of the
/// pass: residual additions, the global pooling, the containers. Then the plain and fused
/// model (Fusion.FuseForInference) pass after pass in turns. Printed, not compared: there is no
/// reference side. The stopwatches cost a few microseconds per layer.
/// </summary>
public static class InferenceProfile
{
    public static IEnumerable<BenchRecord> Run(BenchOptions options)
    {
        foreach (bool fused in new[] { false, true })
        {
            foreach (int batch in new[] { 1, 32 })
                Profile(options, $"MobileNetV3-Small b{batch} 224x224", Model(), new Shape(batch, 3, 224, 224), batch == 1 ? 40 : 2, fused);
            Profile(options, "course CNN b1000 28x28", Cnn.Course(1, 28, 28, 10, rng: new Rng(1)), new Shape(1000, 1, 28, 28), 2, fused);
        }
        foreach (int batch in new[] { 1, 32 }) CompareFusion(options, batch);
        return [];
    }

    static MobileNet Model() => MobileNet.V3Small(1000, options: new ConvNormOptions(Rng: new Rng(1)));

    static void Pass(Module model, Tensor input)
    {
        using var noGrad = GradMode.NoGrad();
        using var scope = TensorScope.Begin();
        model.Call(input);
    }

    /// <summary>The same model plain and fused, pass after pass in turns, so that a shared
    /// machine's load weighs on both alike; medians per pass.</summary>
    static void CompareFusion(BenchOptions options, int batch)
    {
        var (plain, fused) = (Model(), Model());
        plain.Eval();
        fused.Eval();
        using var fusion = Fusion.FuseForInference(fused);
        var input = Tensor.Uniform(new Shape(batch, 3, 224, 224), -1f, 1f, new Rng(5));
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 3000) { Pass(plain, input); Pass(fused, input); }
        int pairs = batch == 1 ? 40 * options.Reps : 3 * options.Reps;
        var (plainTimes, fusedTimes) = (new double[pairs], new double[pairs]);
        for (int i = 0; i < pairs; i++)
        {
            plainTimes[i] = Time(() => Pass(plain, input));
            fusedTimes[i] = Time(() => Pass(fused, input));
        }
        double plainMedian = Median(plainTimes), fusedMedian = Median(fusedTimes);
        Console.WriteLine($"profile: MobileNetV3-Small b{batch}, passes in turns ({pairs} each): plain {plainMedian:F2} ms, fused {fusedMedian:F2} ms, fused/plain {fusedMedian / plainMedian:F3}");

        static double Time(Action pass)
        {
            long start = Stopwatch.GetTimestamp();
            pass();
            return (Stopwatch.GetTimestamp() - start) * 1000.0 / Stopwatch.Frequency;
        }
        static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);
    }

    static void Profile(BenchOptions options, string name, Module model, Shape inputShape, int passesPerRep, bool fused)
    {
        model.Eval();
        using var fusion = fused ? Fusion.FuseForInference(model) : null;
        var totals = new Dictionary<string, long>();
        foreach (var (_, module) in model.NamedModules().ToList())
            if (module is Sequential sequential)
                for (int i = 0; i < sequential.Count; i++)
                    if (sequential[i] is not (Sequential or InvertedResidual)) sequential.Replace(i, new Timed(sequential[i], totals));

        var input = Tensor.Uniform(inputShape, -1f, 1f, new Rng(5));
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 3000) Pass(model, input);
        totals.Clear();
        int passes = passesPerRep * options.Reps;
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < passes; i++) Pass(model, input);
        double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency / passes;
        long elapsed = Stopwatch.GetTimestamp() - start;
        double total = Milliseconds(elapsed);
        totals["other"] = elapsed - totals.Values.Sum();

        Console.WriteLine($"profile: {name}{(fused ? ", fused for inference" : "")}: {total:F2} ms per pass ({passes} passes)");
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
            FusedConv2d fused => Kind(fused.Convolution) + " (fused" + (fused.Activation is { } a ? " + " + Kind(a) : "") + ")",
            Conv2d { Groups: > 1 } c when c.Groups == c.InChannels => $"depthwise {c.KernelSize}x{c.KernelSize}",
            Conv2d c => $"conv {c.KernelSize}x{c.KernelSize}",
            BatchNormBase => "batch norm",
            _ => layer.GetType().Name.ToLowerInvariant(),
        };
    }
}
