using System.Diagnostics;
using Sinapse.Vision;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;
using TorchSharp;
using static TorchSharp.torch;
using SinapseTensor = Sinapse.Tensors.Tensor;

namespace Sinapse.Bench;

/// <summary>
/// Peak resident memory (VmHWM) of a training run, each side alone in a fresh process of this
/// bench (a process's high-water mark cannot be reset, and two runtimes in one process would
/// count each other): the MLP at batch 128, the course CNN at batch 64 and MobileNetV3-Small at
/// batch 32, the optimizers of the time suites, on one fixed random batch (no data set in
/// memory, so the figure is the runtime, the model, its optimizer state and a step's working
/// memory). The Sinapse side also reports the most bytes the tensor pool had rented out at once.
/// </summary>
public static class MemorySuite
{
    /// <summary>The argument that makes this bench a memory child: child side model.</summary>
    public const string ChildCommand = "memory-child";

    static readonly (string Name, string Case, int Batch, int Steps)[] Cases =
    [
        ("mlp", "MLP 784-256-128-64-10 b128 SGD", 128, 50),
        ("cnn", "course CNN b64 Adam", 64, 20),
        ("mobilenet", "MobileNetV3-Small b32 224x224 SGD momentum", 32, 4),
    ];

    public static IEnumerable<BenchRecord> Run(BenchOptions options)
    {
        foreach (var (name, label, _, _) in Cases)
        {
            var sinapse = RunChild("sinapse", name, options);
            var torchSide = RunChild("torch", name, options);
            Console.WriteLine($"memory: {label}: Sinapse peak {sinapse.PeakMegabytes:F1} MB (started at {sinapse.StartMegabytes:F1} MB, tensor pool peak {sinapse.PoolMegabytes:F1} MB), " +
                              $"TorchSharp peak {torchSide.PeakMegabytes:F1} MB (started at {torchSide.StartMegabytes:F1} MB)");
            yield return new BenchRecord("memory", $"{label} peak RSS", sinapse.PeakMegabytes, torchSide.PeakMegabytes) { Unit = "MB" };
        }
    }

    /// <summary>What a child prints: resident megabytes at its start and at its peak, and the tensor pool's peak.</summary>
    sealed record ChildReport(double StartMegabytes, double PeakMegabytes, double PoolMegabytes);

    static ChildReport RunChild(string side, string model, BenchOptions options)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
        foreach (var argument in new[] { ChildCommand, side, model, options.Threads.ToString() }) start.ArgumentList.Add(argument);
        using var child = Process.Start(start)!;
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0) throw new InvalidOperationException($"memory child {side} {model} exited with {child.ExitCode}: {output}");
        var values = output.Trim().Split('\n')[^1].Split(' ').Select(double.Parse).ToArray();
        return new ChildReport(values[0], values[1], values[2]);
    }

    /// <summary>The child's body: trains <paramref name="model"/> on <paramref name="side"/> and
    /// prints "start-MB peak-MB pool-MB" as its last line.</summary>
    public static int Child(string side, string model, int threads)
    {
        double start = ResidentMegabytes("VmRSS");
        var (_, _, batch, steps) = Cases.Single(c => c.Name == model);
        double pool = side == "sinapse" ? TrainSinapse(model, batch, steps, threads) : TrainTorch(model, batch, steps, threads);
        Console.WriteLine($"{start} {ResidentMegabytes("VmHWM")} {pool}");
        return 0;
    }

    static (Shape Input, int Classes) Geometry(string model, int batch) => model switch
    {
        "mlp" => (new Shape(batch, 1, 28, 28), 10),
        "cnn" => (new Shape(batch, 1, 28, 28), 10),
        _ => (new Shape(batch, 3, 224, 224), 1000),
    };

    /// <summary>One fixed batch: uniform inputs in [0, 1), labels cycling through the classes.</summary>
    static (SinapseTensor Input, SinapseTensor Labels) Batch(string model, int batch)
    {
        var (shape, classes) = Geometry(model, batch);
        var labels = SinapseTensor.Zeros(batch);
        for (int i = 0; i < batch; i++) labels.Span[i] = i % classes;
        return (SinapseTensor.Uniform(shape, 0f, 1f, new Rng(3)), labels);
    }

    static double TrainSinapse(string model, int batch, int steps, int threads)
    {
        Kernels.Workers.Count = threads;
        var (input, labels) = Batch(model, batch);
        Module network = model switch
        {
            "mlp" => MlpSuite.SinapseModel(),
            "cnn" => CnnSuite.SinapseModel(),
            _ => MobileNet.V3Small(1000, options: new ConvNormOptions(Rng: new Rng(1))),
        };
        var parameters = network.Parameters();
        Optimizer optimizer = model switch
        {
            "mlp" => new Sgd(parameters, 0.01f),
            "cnn" => new Adam(parameters, 1e-3f),
            _ => new Sgd(parameters, 0.01f, momentum: 0.9f),
        };
        var trainer = new Trainer(network, new CrossEntropyLoss(), optimizer);
        TensorScope.ResetPeakBytes();
        for (int step = 0; step < steps; step++) trainer.TrainStep(input, labels);
        return TensorScope.PeakBytes / 1048576.0;
    }

    static double TrainTorch(string model, int batch, int steps, int threads)
    {
        torch.set_num_threads(threads);
        var (input, labels) = Batch(model, batch);
        using var features = tensor(input.ToArray(), input.Shape.ToArray().Select(d => (long)d).ToArray());
        using var targets = tensor(labels.ToArray().Select(v => (long)v).ToArray(), [batch]);
        using var network = model switch
        {
            "mlp" => MlpSuite.TorchModel(),
            "cnn" => CnnSuite.TorchModel(),
            _ => MobileNetSuite.TorchMobileNetV3Small(1000),
        };
        var parameters = network.parameters();
        optim.Optimizer optimizer = model switch
        {
            "mlp" => optim.SGD(parameters, 0.01),
            "cnn" => optim.Adam(parameters, 1e-3),
            _ => optim.SGD(parameters, 0.01, momentum: 0.9),
        };
        var loss = nn.CrossEntropyLoss();
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            loss.forward(network.forward(features), targets).backward();
            optimizer.step();
        }
        return 0;
    }

    /// <summary>A /proc/self/status line (VmRSS now, VmHWM the peak) in megabytes.</summary>
    static double ResidentMegabytes(string field)
    {
        string line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith(field + ":"));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }
}
