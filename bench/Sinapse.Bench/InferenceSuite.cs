using Microsoft.ML.OnnxRuntime;
using Sinapse.Vision;
using Sinapse.Autograd;
using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Serialization;
using Sinapse.Tensors;
using SinapseTensor = Sinapse.Tensors.Tensor;

namespace Sinapse.Bench;

/// <summary>
/// Inference against ONNX Runtime, the engine deployments use: Sinapse runs the model prepared by
/// Fusion.FuseForInference (batch norm folded into the convolutions and activations fused into
/// them, as ONNX Runtime's graph optimisations do), ONNX Runtime (CPU provider, all graph
/// optimizations, as many intra-op threads as Sinapse has workers) runs the same model exported
/// with OnnxExport. MobileNetV3-Small at batch 1 and 32, 224², and the course CNN over MNIST's
/// 10,000 test images at batch 1000.
/// </summary>
public static class InferenceSuite
{
    public static IEnumerable<BenchRecord> Run(BenchOptions options)
    {
        var mobileNet = MobileNet.V3Small(1000, options: new ConvNormOptions(Rng: new Rng(1)));
        using (var session = Session(mobileNet, new Shape(3, 224, 224), options))
        using (Fusion.FuseForInference(mobileNet))
        {
            foreach (int batch in new[] { 1, 32 })
            {
                var input = SinapseTensor.Uniform(new Shape(batch, 3, 224, 224), -1f, 1f, new Rng(5));
                // Few, long calls: warm for three seconds so tiered JIT has recompiled the kernels.
                var measured = options with { SampleMilliseconds = batch == 1 ? 40 : 0, WarmupMilliseconds = 3000, Reps = Math.Max(options.Reps, 5) };
                yield return Compare(options, measured, mobileNet, session, [input], $"MobileNetV3-Small b{batch} 224x224");
            }
        }

        var cnn = Cnn.Course(1, 28, 28, 10, rng: new Rng(1));
        var (_, test) = Mnist.LoadBundled();
        var images = Enumerable.Range(0, test.Count / 1000).Select(i => test.Features.Slice(i * 1000, 1000)).ToArray();
        using (var session = Session(cnn, new Shape(1, 28, 28), options))
        using (Fusion.FuseForInference(cnn))
        {
            var measured = options with { SampleMilliseconds = 0, WarmupMilliseconds = 2000, Reps = Math.Max(options.Reps, 5) };
            yield return Compare(options, measured, cnn, session, images, $"course CNN {test.Count:N0} MNIST images b1000");
        }
    }

    static InferenceSession Session(Module model, Shape exampleShape, BenchOptions options)
    {
        model.Eval();
        var settings = new SessionOptions
        {
            IntraOpNumThreads = options.Threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        return new InferenceSession(OnnxExport.ToBytes(model, exampleShape), settings);
    }

    /// <summary>Times one pass over <paramref name="batches"/> on each side, after checking both
    /// sides compute the same outputs.</summary>
    static BenchRecord Compare(BenchOptions options, BenchOptions measured, Module model, InferenceSession session, SinapseTensor[] batches, string name)
    {
        var inputs = batches.Select(b => OrtValue.CreateTensorValueFromMemory(b.ToArray(), b.Shape.ToArray().Select(d => (long)d).ToArray())).ToArray();
        string[] inputNames = [OnnxExport.InputName], outputNames = [OnnxExport.OutputName];
        using var runOptions = new RunOptions();

        float[] RunOnnx(int index)
        {
            using var outputs = session.Run(runOptions, inputNames, [inputs[index]], outputNames);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }

        float[] RunSinapse(int index)
        {
            using var noGrad = GradMode.NoGrad();
            using var scope = TensorScope.Begin();
            return model.Call(batches[index]).ToArray();
        }

        float[] ours = RunSinapse(0), theirs = RunOnnx(0);
        float largest = ours.Zip(theirs, (a, b) => MathF.Abs(a - b)).Max(), scale = theirs.Max(MathF.Abs);
        Console.WriteLine($"inference: {name}: outputs (largest magnitude {scale:G3}) differ by at most {largest:G3} between Sinapse and ONNX Runtime {OrtEnv.Instance().GetVersionString()}");

        var (sinapseMs, onnxMs) = BenchTiming.Compare(measured,
            () => { for (int i = 0; i < batches.Length; i++) RunSinapse(i); },
            () => { for (int i = 0; i < batches.Length; i++) RunOnnx(i); });
        foreach (var input in inputs) input.Dispose();
        return new BenchRecord("inference", name, sinapseMs, onnxMs) { Against = "onnxruntime" };
    }
}
