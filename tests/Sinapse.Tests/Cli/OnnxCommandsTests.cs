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
    public void BadRequestsGiveOneErrorLine()
    {
        using var run = new TempDirectory();
        Assert.Contains("--format tflite", CliRunner.OneErrorLine("export", "--model", "cnn", "--format", "tflite", "--output", run.File("x")));
        Assert.Contains("Unknown model 'resnet'", CliRunner.OneErrorLine("export", "--model", "resnet", "--output", run.File("x.onnx")));
        Assert.Contains("(Gelu", CliRunner.OneErrorLine("export", "--model", "mlp", "--activation", "gelu", "--output", run.File("x.onnx")));
        Assert.Contains("(Gelu(approximate='tanh')", CliRunner.OneErrorLine("export", "--model", "mlp", "--activation", "gelu_tanh", "--output", run.File("x.onnx")));
        File.WriteAllBytes(run.File("bad.onnx"), OnnxExport.ToBytes(Sinapse.Models.Mlp.Create(4, new[] { 3 }, 2), new Shape(4))[..40]);
        Assert.Contains("bad.onnx is not a readable ONNX model", CliRunner.OneErrorLine("import", "--input", run.File("bad.onnx"), "--out", run.File("out")));
        Assert.Contains("not found", CliRunner.OneErrorLine("import", "--input", run.File("missing.onnx"), "--out", run.File("out")));
    }
}
