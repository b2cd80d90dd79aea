using System.Buffers.Binary;
using System.Text;
using Sinapse.Vision;
using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Training;
using SkiaSharp;
using Xunit.Abstractions;

namespace Sinapse.Tests.Serialization;

/// <summary>
/// Seeded mutants of a small valid file of every input format: truncations, byte flips, huge
/// declared sizes, wrong types and NaN. Each mutant must load correctly or be refused in one line
/// naming the file, with a library exception type, under 64 MB of managed allocation and 5 s.
/// The counts per format are written to the test output (dotnet test --logger "console;verbosity=detailed").
/// </summary>
public class InputFuzzTests(ITestOutputHelper output)
{
    const int MutantsPerFormat = 60;
    static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(5);

    enum Mutation { Truncation, ByteFlip, HugeSize, WrongType, NonFinite }

    /// <summary>
    /// A format: <see cref="Prepare"/> writes a valid example into a directory and returns the file to
    /// mutate (other files beside it are copied unchanged); <see cref="Read"/> loads a path and returns
    /// what was read as numbers, so a successful mutant can be compared with the original.
    /// </summary>
    sealed record Format(string Name, Func<string, string> Prepare, Func<string, float[]> Read, bool Text = false, bool Weights = false,
        Func<float[], float[], bool>? TruncationMatches = null);

    public static TheoryData<string> FormatNames() => [.. Formats.Select(f => f.Name)];

    [Theory]
    [MemberData(nameof(FormatNames))]
    public void EveryMutantLoadsCorrectlyOrIsRefusedInOneLine(string name)
    {
        var format = Formats.Single(f => f.Name == name);
        using var directory = new TempDirectory();
        var seedDirectory = Path.Combine(directory.Path, "seed");
        Directory.CreateDirectory(seedDirectory);
        var target = Path.GetFileName(format.Prepare(seedDirectory));
        var original = File.ReadAllBytes(Path.Combine(seedDirectory, target));
        var expected = format.Read(Path.Combine(seedDirectory, target));

        // Seeded by the format's name, so a failure names a mutant that reproduces.
        var random = new Random(StableHash(name));
        int loaded = 0, identical = 0, refused = 0;
        long mostAllocated = 0;
        double slowest = 0;
        var failures = new List<string>();
        for (int index = 0; index < MutantsPerFormat; index++)
        {
            var mutation = (Mutation)(index % 5);
            var bytes = Mutate(original, mutation, format.Text, random);
            var caseDirectory = Path.Combine(directory.Path, $"case-{index:D3}");
            Directory.CreateDirectory(caseDirectory);
            foreach (var file in Directory.GetFiles(seedDirectory)) File.Copy(file, Path.Combine(caseDirectory, Path.GetFileName(file)));
            var path = Path.Combine(caseDirectory, target);
            File.WriteAllBytes(path, bytes);

            var outcome = RunCase(() => format.Read(path));
            string label = $"{name} mutant {index} ({mutation}, {bytes.Length} bytes)";
            mostAllocated = Math.Max(mostAllocated, outcome.Allocated);
            slowest = Math.Max(slowest, outcome.Seconds);
            if (outcome.TimedOut) { failures.Add($"{label}: still running after {CaseLimit.TotalSeconds} s"); continue; }
            if (outcome.Allocated > HostileFiles.AllocationBudget) failures.Add($"{label}: allocated {outcome.Allocated:N0} bytes");
            if (outcome.Error is { } error)
            {
                refused++;
                if (Problem(error, caseDirectory, target) is { } problem) failures.Add($"{label}: {problem}");
                continue;
            }
            loaded++;
            var values = outcome.Values!;
            bool same = Bitwise(values, expected);
            if (same) identical++;
            if (format.Weights && !System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(values) && values.Length > 0)
                failures.Add($"{label}: loaded non-finite weights");
            if (mutation == Mutation.Truncation && !same && !(format.TruncationMatches?.Invoke(values, expected) ?? false))
                failures.Add($"{label}: a truncated file loaded as different values ({values.Length} instead of {expected.Length})");
        }
        output.WriteLine($"fuzz {name}: {MutantsPerFormat} mutants: {loaded} loaded ({identical} identical to the original, {loaded - identical} as the changed values they hold), " +
                         $"{refused} refused in one line; slowest {slowest * 1000:F0} ms, most allocated {mostAllocated / (1 << 20):F1} MB");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    sealed record Outcome(float[]? Values, Exception? Error, long Allocated, double Seconds, bool TimedOut);

    /// <summary>Runs one read on its own task, measuring what that thread allocates; a hang becomes a failure, not a stuck suite.</summary>
    static Outcome RunCase(Func<float[]> read)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var task = Task.Factory.StartNew(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var values = read();
                return new Outcome(values, null, GC.GetAllocatedBytesForCurrentThread() - before, 0, false);
            }
            catch (Exception e)
            {
                return new Outcome(null, e, GC.GetAllocatedBytesForCurrentThread() - before, 0, false);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!task.Wait(CaseLimit)) return new Outcome(null, null, 0, clock.Elapsed.TotalSeconds, true);
        return task.Result with { Seconds = clock.Elapsed.TotalSeconds };
    }

    /// <summary>What is wrong with a refusal, or null: a documented exception type, one bounded line, naming the file.</summary>
    static string? Problem(Exception error, string caseDirectory, string target)
    {
        bool documented = error is InvalidDataException or NotSupportedException or FileNotFoundException or DirectoryNotFoundException
            || error is ArgumentException and not ArgumentNullException;
        if (!documented) return $"{error.GetType().Name}: {error.Message}";
        if (error.Message.Contains('\n')) return $"a message of several lines: {error.Message}";
        if (error.Message.Length > 2000) return $"a message of {error.Message.Length:N0} characters";
        if (!error.Message.Contains(target, StringComparison.Ordinal) && !error.Message.Contains(Path.GetFileName(caseDirectory), StringComparison.Ordinal))
            return $"the message does not name the file: {error.GetType().Name}: {error.Message}";
        return null;
    }

    static byte[] Mutate(byte[] original, Mutation mutation, bool text, Random random)
    {
        var bytes = (byte[])original.Clone();
        switch (mutation)
        {
            case Mutation.Truncation:
                // Half anywhere, half in the last 16 bytes, where a cut can still leave a parsable prefix.
                int length = random.Next(2) == 0 ? random.Next(original.Length) : Math.Max(0, original.Length - 1 - random.Next(16));
                return original[..length];
            case Mutation.ByteFlip:
                for (int flips = 1 + random.Next(4); flips > 0; flips--) bytes[random.Next(bytes.Length)] ^= (byte)(1 + random.Next(255));
                return bytes;
            case Mutation.HugeSize:
                if (text) return ReplaceNumber(bytes, random, ["99999999999", "2147483648", "4294967296", "1e308", "-1"]);
                Overwrite(bytes, random.Next(Math.Max(1, Math.Min(bytes.Length - 4, 256))), random.Next(4) switch
                {
                    0 => 0x7FFFFFFFu,
                    1 => 0xFFFFFFFFu,
                    2 => 0x40000000u,
                    _ => 0x00FFFFFFu,
                }, random.Next(2) == 0);
                return bytes;
            case Mutation.WrongType:
                if (text) return ReplaceToken(bytes, random);
                bytes[random.Next(Math.Min(bytes.Length, 64))] = (byte)random.Next(16);
                return bytes;
            default:
                if (text) return ReplaceNumber(bytes, random, ["NaN", "Infinity", "-Infinity", "1e999", "nan"]);
                // A float32 NaN or infinity, in either byte order, somewhere in the second half (where the values are).
                int at = bytes.Length / 2 + random.Next(Math.Max(1, bytes.Length / 2 - 4)) & ~3;
                Overwrite(bytes, Math.Min(at, bytes.Length - 4), random.Next(2) == 0 ? 0x7FC00000u : 0x7F800000u, random.Next(2) == 0);
                return bytes;
        }
    }

    static void Overwrite(byte[] bytes, int at, uint value, bool bigEndian)
    {
        if (bytes.Length < at + 4) return;
        if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(at), value);
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), value);
    }

    /// <summary>Replaces a random run of digits (a number of the text) by <paramref name="choices"/>' pick.</summary>
    static byte[] ReplaceNumber(byte[] bytes, Random random, string[] choices)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var numbers = System.Text.RegularExpressions.Regex.Matches(text, @"-?\d+(\.\d+)?([eE][-+]?\d+)?");
        if (numbers.Count == 0) return bytes;
        var number = numbers[random.Next(numbers.Count)];
        return Encoding.UTF8.GetBytes(text[..number.Index] + choices[random.Next(choices.Length)] + text[(number.Index + number.Length)..]);
    }

    /// <summary>Swaps a value for one of another type: a string for a number, a number for a string, an array for an object, or a separator for another.</summary>
    static byte[] ReplaceToken(byte[] bytes, Random random)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var tokens = System.Text.RegularExpressions.Regex.Matches(text, "\"[^\"\\n]*\"|-?\\d+(\\.\\d+)?|\\[|\\{|,");
        if (tokens.Count == 0) return bytes;
        var token = tokens[random.Next(tokens.Count)];
        string replacement = token.Value switch
        {
            "[" => "{",
            "{" => "[",
            "," => random.Next(2) == 0 ? ";" : ",,",
            var t when t.StartsWith('"') => random.Next(2) == 0 ? "12345" : "null",
            _ => random.Next(2) == 0 ? "\"x\"" : "[1,2]",
        };
        return Encoding.UTF8.GetBytes(text[..token.Index] + replacement + text[(token.Index + token.Length)..]);
    }

    static bool Bitwise(float[] a, float[] b) =>
        a.Length == b.Length && System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()));

    static int StableHash(string text) => text.Aggregate(17, (hash, c) => unchecked(hash * 31 + c));

    static float[] Values(IEnumerable<Tensor> tensors) => [.. tensors.SelectMany(t => t.Shape.Dimensions.ToArray().Select(d => (float)d).Concat(t.ToArray()))];

    static Tensor Counting(params int[] shape)
    {
        var tensor = Tensor.Zeros(new Shape(shape));
        for (int i = 0; i < tensor.Length; i++) tensor.Span[i] = i % 7 - 2.5f * (i % 3);
        return tensor;
    }

    static Module SmallMlp() => Mlp.Create(4, [3], 2, new BlockOptions(Rng: new Rng(3)));

    /// <summary>A table cut short loses rows; the rows it keeps, all but the last (which may be cut inside a number), must be the original's.</summary>
    static bool SameLeadingRows(float[] values, float[] expected)
    {
        // Csv values are [features (rows × 2)] then [labels (rows)] then the class count; the original has 12 rows.
        int rows = (values.Length - 1) / 3;
        if (rows < 1 || rows > 12 || values.Length != 3 * rows + 1) return false;
        for (int row = 0; row < rows - 1; row++)
            if (values[2 * row] != expected[2 * row] || values[2 * row + 1] != expected[2 * row + 1]) return false;
        return true;
    }

    static readonly Format[] Formats =
    [
        new("IDX", directory =>
        {
            var path = Path.Combine(directory, "images.idx");
            Idx.Write(path, Tensor.FromArray([.. Enumerable.Range(0, 48).Select(i => (float)(i * 5 % 256))], 3, 4, 4));
            return path;
        }, path => Values([Idx.Read(path)])),
        new("IDX.gz", directory =>
        {
            var path = Path.Combine(directory, "images.idx.gz");
            Idx.Write(path, Tensor.FromArray([.. Enumerable.Range(0, 48).Select(i => (float)(i * 5 % 256))], 3, 4, 4));
            return path;
        }, path => Values([Idx.Read(path)])),
        new("CSV", directory =>
        {
            var path = Path.Combine(directory, "table.csv");
            var rows = Enumerable.Range(0, 12).Select(i => FormattableString.Invariant($"{i * 0.25 - 1},{i % 5 * 1.5},{(i % 3 == 0 ? "cat" : "dog")}"));
            File.WriteAllText(path, "width,height,label\n" + string.Join("\n", rows) + "\n");
            return path;
        }, path =>
        {
            var data = Csv.Load(path, "label");
            return [.. data.Features.ToArray(), .. data.Targets.ToArray(), data.ClassCount];
        }, Text: true, TruncationMatches: SameLeadingRows),
        new("safetensors", directory =>
        {
            var path = Path.Combine(directory, "weights.safetensors");
            SafeTensors.Write(path, [("layer.weight", Counting(2, 3)), ("layer.bias", Counting(4))]);
            return path;
        }, path => Values(SafeTensors.Load(path).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value)), Weights: true),
        new("model.json", directory =>
        {
            new SavedModel(SmallMlp(), new Shape(4)).Save(directory);
            return Path.Combine(directory, SavedModel.SpecFile);
        }, path => Values(SavedModel.Load(Path.GetDirectoryName(path)!).Model.Parameters()), Text: true, Weights: true),
        new("checkpoint manifest", directory =>
        {
            var model = SmallMlp();
            var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters(), 0.01f));
            trainer.Fit(new Dataset(Counting(8, 4), Tensor.Zeros(8), classCount: 2), epochs: 1, batchSize: 4, rng: new Rng(1));   // a checkpoint follows a trained epoch
            var saved = Checkpoint.Save(Path.Combine(directory, "run"), trainer, 1, new Dictionary<string, Rng> { ["run"] = new Rng(1) }, new Shape(4));
            foreach (var file in Directory.GetFiles(saved)) File.Move(file, Path.Combine(directory, Path.GetFileName(file)));
            Directory.Delete(Path.Combine(directory, "run"), recursive: true);
            return Path.Combine(directory, Checkpoint.ManifestFile);
        }, path =>
        {
            var checkpoint = Checkpoint.Load(Path.GetDirectoryName(path)!);
            return [checkpoint.Epoch, .. Values(checkpoint.Model.Model.Parameters())];
        }, Text: true, Weights: true),
        new(".npy", directory =>
        {
            var path = Path.Combine(directory, "batch.npy");
            Npy.Write(path, Counting(3, 5));
            return path;
        }, path => Values([Npy.Read(path)])),
        new("PNG", directory => EncodedImage(directory, "picture.png", SKEncodedImageFormat.Png), path => Values([Images.Load(path)])),
        new("JPEG", directory => EncodedImage(directory, "picture.jpg", SKEncodedImageFormat.Jpeg), path => Values([Images.Load(path)])),
        new("BMP", directory =>
        {
            var path = Path.Combine(directory, "picture.bmp");
            File.WriteAllBytes(path, Bmp(8, 6));
            return path;
        }, path => Values([Images.Load(path)])),
        new("ONNX", directory =>
        {
            var path = Path.Combine(directory, "model.onnx");
            File.WriteAllBytes(path, OnnxExport.ToBytes(SmallMlp(), new Shape(4)));
            return path;
        }, path => Values(OnnxImport.Load(path).Parameters()), Weights: true),
        new("TFLite", directory =>
        {
            var path = Path.Combine(directory, "mobilenet.tflite");
            using var resource = typeof(TfLiteModel).Assembly.GetManifestResourceStream("Sinapse.Pretrained.mobilenet_v1_0.25_224_float.tflite")!;
            using var file = File.Create(path);
            resource.CopyTo(file);
            return path;
        }, path => Values(TfLiteImport.Load(path).Parameters()), Weights: true),
        new(".pth", directory =>
        {
            var path = Path.Combine(directory, "mlp.pth");
            File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "pth", "mlp.pth"), path);
            return path;
        }, path => Values(Pth.Load(path).Select(p => p.Tensor)), Weights: true),
    ];

    static string EncodedImage(string directory, string name, SKEncodedImageFormat format)
    {
        var path = Path.Combine(directory, name);
        using var bitmap = new SKBitmap(8, 6, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 8; x++) bitmap.SetPixel(x, y, new SKColor((byte)(x * 30), (byte)(y * 40), (byte)(x * y * 5)));
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 90);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    /// <summary>A bottom-up 24-bit BMP (SkiaSharp encodes none), rows padded to 4 bytes.</summary>
    static byte[] Bmp(int width, int height)
    {
        int rowBytes = (3 * width + 3) & ~3;
        var bytes = new byte[54 + rowBytes * height];
        HostileFiles.WriteBmpHeader(bytes, width, height);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(34), rowBytes * height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int at = 54 + y * rowBytes + 3 * x;
                (bytes[at], bytes[at + 1], bytes[at + 2]) = ((byte)(x * 30), (byte)(y * 40), (byte)(x * y * 5));
            }
        return bytes;
    }
}
