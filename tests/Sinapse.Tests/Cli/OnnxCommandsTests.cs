using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Serialization;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary>sinapse export --format onnx and sinapse import, as a user runs them.</summary>
public class OnnxCommandsTests
{
    [Fact]
    public void ExportImportAndExportAgainKeepTheOutputs()
    {
        using var run = new TempDirectory();
        Assert.Contains("opset 17", CliRunner.Succeed("export", "--model", "mobilenet_v3_small", "--width", "0.5", "--input-shape", "3,32,32", "--output", run.File("v3.onnx")));
        Assert.Contains("a graph of", CliRunner.Succeed("import", "--input", run.File("v3.onnx"), "--out", run.File("v3")));
        CliRunner.Succeed("export", "--model", run.File("v3"), "--output", run.File("again.onnx"));

        var saved = SavedModel.Load(run.File("v3"));
        saved.Model.Eval();
        Assert.Equal(new Shape(3, 32, 32), saved.ExampleShape);
        var input = Tensor.Uniform(new Shape(2, 3, 32, 32), -1f, 1f, new Rng(3));
        var expected = OnnxExportTests.RunOnnxRuntime(File.ReadAllBytes(run.File("v3.onnx")), input);
        OnnxExportTests.Close(expected, OnnxExportTests.Run(saved.Model, input).ToArray());
        OnnxExportTests.Close(expected, OnnxExportTests.RunOnnxRuntime(File.ReadAllBytes(run.File("again.onnx")), input));

        CliRunner.Succeed("export", "--model", "lenet5", "--output", run.File("lenet.onnx"));
        Assert.Contains("12 layers in sequence", CliRunner.Succeed("import", "--input", run.File("lenet.onnx"), "--out", run.File("lenet")));
    }

    [Fact]
    public void ExportAndImportKeepTheInputScalingAndClassNames()
    {
        using var data = TrainResumeTests.SyntheticIdx(300, 50);
        using var run = new TempDirectory();
        var model = ModelCommandsTests.TrainMlp(data.Path, run.Path);
        var before = CliRunner.Succeed("evaluate", "--model", model, "--data", data.Path);
        CliRunner.Succeed("export", "--model", model, "--output", run.File("mlp.onnx"));
        CliRunner.Succeed("import", "--input", run.File("mlp.onnx"), "--out", run.File("imported"));
        var after = CliRunner.Succeed("evaluate", "--model", run.File("imported"), "--data", data.Path);
        // The same loss, accuracy and confusion matrix: the import restored the /255 scaling the model was trained behind.
        Assert.Equal(Figures(before), Figures(after));
        Assert.Contains("accuracy:", after);

        // ONNX Runtime takes raw pixels: the file computes the scaling itself.
        var saved = SavedModel.Load(model);
        saved.Model.Eval();
        var pixels = Tensor.Uniform(new Shape(3, 1, 28, 28), 0f, 255f, new Rng(4));
        var expected = OnnxExportTests.Run(saved.Model, saved.Transform!.Apply(pixels)).ToArray();
        OnnxExportTests.Close(expected, OnnxExportTests.RunOnnxRuntime(File.ReadAllBytes(run.File("mlp.onnx")), pixels));
        Assert.Equal(saved.ClassNames, SavedModel.Load(run.File("imported")).ClassNames);
    }

    /// <summary>The lines of an evaluation that carry numbers (the model's path aside).</summary>
    private static string[] Figures(string evaluation) =>
        evaluation.Split('\n').Where(line => line.Any(char.IsDigit) && !line.Contains(Path.DirectorySeparatorChar)).ToArray();

    [Fact]
    public void BadRequestsGiveOneErrorLine()
    {
        using var run = new TempDirectory();
        Assert.Contains("--format tflite", CliRunner.OneErrorLine("export", "--model", "cnn", "--format", "tflite", "--output", run.File("x")));
        Assert.Contains("Unknown model 'resnet'", CliRunner.OneErrorLine("export", "--model", "resnet", "--output", run.File("x.onnx")));
        // Opset 17 has no Gelu operator; both forms are written with primitive nodes.
        Assert.Contains("opset 17", CliRunner.Succeed("export", "--model", "mlp", "--activation", "gelu", "--output", run.File("gelu.onnx")));
        Assert.Contains("opset 17", CliRunner.Succeed("export", "--model", "mlp", "--activation", "gelu_tanh", "--output", run.File("gelu_tanh.onnx")));
        File.WriteAllBytes(run.File("bad.onnx"), OnnxExport.ToBytes(Sinapse.Models.Mlp.Create(4, new[] { 3 }, 2), new Shape(4))[..40]);
        Assert.Contains("bad.onnx is not a readable ONNX model", CliRunner.OneErrorLine("import", "--input", run.File("bad.onnx"), "--out", run.File("out")));
        Assert.Contains("not found", CliRunner.OneErrorLine("import", "--input", run.File("missing.onnx"), "--out", run.File("out")));
    }
}
