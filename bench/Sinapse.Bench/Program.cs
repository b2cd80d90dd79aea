using System.Runtime.Intrinsics.X86;
using Sinapse.Bench;

// Benchmarks, Sinapse beside TorchSharp (ONNX Runtime for inference) in the same process with the
// same thread count.
//   dotnet run -c Release --project bench/Sinapse.Bench -- <suite>... [--json FILE] [--reps N] [--threads N] [--isa NAME]
// A suite is one function registered here: name → (options → records). --isa only labels the
// results: run.sh --isa avx2 sets the environment that restricts both sides.
if (args is [MemorySuite.ChildCommand, var side, var model, var threads])
    return MemorySuite.Child(side, model, int.Parse(threads));

var suites = new Dictionary<string, Func<BenchOptions, IEnumerable<BenchRecord>>>
{
    ["gemm"] = GemmSuite.Run,
    ["mlp"] = MlpSuite.RunEpoch,
    ["step1"] = MlpSuite.RunOnline,
    ["conv"] = ConvSuite.Run,
    ["cnn"] = CnnSuite.Run,
    ["mobilenet"] = MobileNetSuite.Run,
    ["ops"] = OpsSuite.Run,
    ["losses"] = LossesSuite.Run,
    ["inference"] = InferenceSuite.Run,
    ["profile"] = InferenceProfile.Run,
    ["memory"] = MemorySuite.Run,
    ["cli"] = CliSuite.Run,
};

var names = new List<string>();
string? jsonPath = null;
var options = new BenchOptions();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--json": jsonPath = args[++i]; break;
        case "--reps": options = options with { Reps = int.Parse(args[++i]) }; break;
        case "--threads": options = options with { Threads = int.Parse(args[++i]) }; break;
        case "--isa": options = options with { Isa = args[++i] }; break;
        default: names.Add(args[i]); break;
    }
}
if (names.Count == 0 || names.Any(n => n != "all" && !suites.ContainsKey(n)))
{
    Console.Error.WriteLine($"usage: Sinapse.Bench <suite>... [--json FILE] [--reps N] [--threads N] [--isa NAME]; suites: all, {string.Join(", ", suites.Keys)}");
    return 1;
}
if (names.Contains("all")) names = [.. suites.Keys];

try
{
    TorchSharp.torch.set_num_threads(options.Threads);
}
catch (TypeInitializationException error)
{
    Console.Error.WriteLine(error.InnerException?.Message.Split('\n')[0]);
    Console.Error.WriteLine("TorchSharp could not load libtorch. On Debian 12 the system libstdc++ is older than the");
    Console.Error.WriteLine("GLIBCXX_3.4.32 that libLibTorchSharp.so needs: run bench/Sinapse.Bench/run.sh instead of dotnet run.");
    return 2;
}
Sinapse.Kernels.Workers.Count = options.Threads;
Console.WriteLine($"threads: {options.Threads} (torch {TorchSharp.torch.get_num_threads()}), reps: {options.Reps}, medians; " +
                  $"isa: {options.Isa} (.NET sees AVX-512 {(Avx512F.IsSupported ? "on" : "off")}, AVX2 {(Avx2.IsSupported ? "on" : "off")})");

var records = new List<BenchRecord>();
foreach (var name in names)
{
    var suiteRecords = suites[name](options).Select(record => record with { Isa = options.Isa }).ToList();
    BenchTiming.PrintTable(suiteRecords);
    records.AddRange(suiteRecords);
}
if (jsonPath != null) BenchTiming.WriteJson(jsonPath, records);
return 0;
