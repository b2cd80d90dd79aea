using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sinapse.Bench;

/// <summary>Command-line options every suite receives.</summary>
public sealed record BenchOptions(int Reps = 7, int Threads = 2, double SampleMilliseconds = 40, double WarmupMilliseconds = 300, int WarmupCalls = 3, string Isa = "native");

/// <summary>One measured case: Sinapse's and the reference's medians side by side, in <see cref="Unit"/>.</summary>
public sealed record BenchRecord(string Suite, string Case, double Sinapse, double Reference)
{
    public double Ratio => Sinapse / Reference;

    /// <summary>What both figures measure: "ms" per call, or "MB" of peak resident memory.</summary>
    public string Unit { get; init; } = "ms";

    /// <summary>What Sinapse is compared with: TorchSharp (libtorch), or ONNX Runtime for inference.</summary>
    public string Against { get; init; } = "torch";

    /// <summary>The instruction set both sides ran with: "native", or "avx2" (AVX-512 disabled).</summary>
    public string Isa { get; init; } = "native";

    /// <summary>Throughput of each side, when the case has a meaningful operation count.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? SinapseGflops { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? TorchGflops { get; init; }
}

/// <summary>
/// Timing helpers shared by every suite: warm-up, calibrated samples, alternating A/B runs
/// (so drift on a shared machine hits both sides alike) and medians.
/// </summary>
public static class BenchTiming
{
    /// <summary>Median milliseconds per call of <paramref name="sinapse"/> and <paramref name="torch"/>,
    /// measured in alternating samples. Each sample runs enough calls to last about
    /// <see cref="BenchOptions.SampleMilliseconds"/>.</summary>
    public static (double SinapseMs, double TorchMs) Compare(BenchOptions options, Action sinapse, Action torch)
    {
        int sinapseCalls = Calibrate(sinapse, options);
        int torchCalls = Calibrate(torch, options);
        var sinapseSamples = new double[options.Reps];
        var torchSamples = new double[options.Reps];
        for (int rep = 0; rep < options.Reps; rep++)
        {
            // Alternate which side goes first so neither always runs on a warmer (or throttled) core.
            if (rep % 2 == 0)
            {
                sinapseSamples[rep] = Isolated(sinapse, sinapseCalls);
                torchSamples[rep] = Isolated(torch, torchCalls);
            }
            else
            {
                torchSamples[rep] = Isolated(torch, torchCalls);
                sinapseSamples[rep] = Isolated(sinapse, sinapseCalls);
            }
        }
        return (Median(sinapseSamples), Median(torchSamples));
    }

    /// <summary>
    /// A sample after a pause long enough for the other side's idle threads to stop spinning:
    /// libtorch's OpenMP workers spin for up to 200 ms after a parallel region, and on two cores
    /// they took the cores from the next sample's threads (the 32→64 convolution measured
    /// 3.6–3.9 ms right after a torch sample, 3.4 ms after a pause; torch's time did not move).
    /// </summary>
    static double Isolated(Action action, int calls)
    {
        Thread.Sleep(SidePause);
        return Sample(action, calls);
    }

    const int SidePause = 300;

    /// <summary>Median milliseconds per call of a single action (for suites with one side only).</summary>
    public static double Measure(BenchOptions options, Action action)
    {
        int calls = Calibrate(action, options);
        var samples = new double[options.Reps];
        for (int rep = 0; rep < options.Reps; rep++) samples[rep] = Sample(action, calls);
        return Median(samples);
    }

    /// <summary>Warms the action up (tiered JIT, caches, thread pools) and returns how many calls
    /// fill one sample.</summary>
    static int Calibrate(Action action, BenchOptions options)
    {
        var clock = Stopwatch.StartNew();
        int calls = 0;
        do { action(); calls++; } while (clock.Elapsed.TotalMilliseconds < options.WarmupMilliseconds || calls < options.WarmupCalls);
        double perCall = Sample(action, Math.Max(1, calls / 4));
        return Math.Max(1, (int)Math.Ceiling(options.SampleMilliseconds / perCall));
    }

    static double Sample(Action action, int calls)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < calls; i++) action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds / calls;
    }

    public static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>Prints the records as a table (GFLOP/s columns when the suite reports them).</summary>
    public static void PrintTable(IReadOnlyList<BenchRecord> records)
    {
        if (records.Count == 0) return;
        int width = Math.Max(24, records.Max(r => r.Suite.Length + r.Case.Length + 3));
        Console.WriteLine($"isa: {records[0].Isa}");
        Console.WriteLine($"{"case".PadRight(width)} {"sinapse",11} {"reference",11} {"ratio",7} {"sin GF/s",9} {"ref GF/s",10}");
        foreach (var r in records)
        {
            string name = $"{r.Suite}: {r.Case}".PadRight(width);
            string gflops = r.SinapseGflops is { } s && r.TorchGflops is { } t ? $"{s,9:F1} {t,10:F1}" : "";
            Console.WriteLine($"{name} {r.Sinapse,11:F4} {r.Reference,11:F4} {r.Ratio,7:F3} {gflops} {r.Unit}, vs {r.Against}");
        }
    }

    /// <summary>Writes the records as a JSON array of { suite, case, sinapse, reference, ratio, unit, against, isa, ... }.</summary>
    public static void WriteJson(string path, IReadOnlyList<BenchRecord> records)
    {
        var options = new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        File.WriteAllText(path, JsonSerializer.Serialize(records, options));
    }
}
