using Sinapse.Ops;
using Sinapse.Serialization;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary><c>--weights FILE.pth</c> on predict, summary, export and train (fixtures of tools/make_pth_fixtures.py).</summary>
public class WeightsOptionTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "pth", name);

    private static readonly string[] V3Small = ["--model", "mobilenet_v3_small", "--width", "0.25", "--classes", "10", "--input-shape", "3,32,32", "--weights", Fixture("mobilenet_v3_small.pth")];

    [Fact]
    public void PredictRunsTorchvisionsWeightsToTorchvisionsProbabilities()
    {
        using var directory = new TempDirectory();
        var io = SafeTensors.Load(Fixture("mobilenet_v3_small_io.safetensors"));
        Npy.Write(directory.File("in.npy"), io["input"]);
        CliRunner.Succeed(["predict", .. V3Small, "--input", directory.File("in.npy"), "--output", directory.File("out.npy")]);
        Expect.Close(F.Softmax(io["output"]).Span, Npy.Read(directory.File("out.npy")).Span, 1e-4, "probabilities");
    }

    [Fact]
    public void SummaryAndExportTakeTheWeights()
    {
        Assert.Contains("classifier.3", CliRunner.Succeed(["summary", .. V3Small]));

        using var directory = new TempDirectory();
        var onnx = directory.File("model.onnx");
        CliRunner.Succeed(["export", .. V3Small, "--output", onnx]);
        var io = SafeTensors.Load(Fixture("mobilenet_v3_small_io.safetensors"));
        var exported = OnnxImport.Load(onnx);
        exported.Eval();
        Expect.Close(io["output"].Span, exported.Call(io["input"]).Span, 1e-4, "exported logits");
    }

    [Fact]
    public void TrainFineTunesFromTheWeights()
    {
        using var data = TrainResumeTests.SyntheticIdx(64, 16);
        using var run = new TempDirectory();
        CliRunner.Succeed("train", "--data", data.Path, "--model", "mlp", "--hidden", "16", "--weights", Fixture("mnist_mlp.pth"),
            "--optimizer", "sgd", "--lr", "1e-6", "--epochs", "1", "--batch-size", "16", "--validation", "0", "--out", run.Path);
        var trained = SafeTensors.Load(Path.Combine(run.Path, "model", SavedModel.WeightsFile));
        // A step of 1e-6 barely moves the weights: the run started from the file's, not from fresh ones.
        foreach (var (name, start) in Pth.Load(Fixture("mnist_mlp.pth")))
            Expect.Close(start.Span, trained[name].Span, 1e-3, name);
    }

    [Fact]
    public void BadWeightsAreOneLineErrors()
    {
        Assert.Contains("no such file", CliRunner.OneErrorLine("summary", "--model", "mlp", "--weights", "missing.pth"));
        var wrongClasses = CliRunner.OneErrorLine("summary", "--model", "mobilenet_v3_small", "--width", "0.25", "--classes", "7", "--weights", Fixture("mobilenet_v3_small.pth"));
        Assert.Contains("'classifier.3.weight' has shape [10, 256], but the model's parameter 'classifier.3.weight' has shape [7, 256]", wrongClasses);
        Assert.Contains("has weights of its own", CliRunner.OneErrorLine("export", "--model", "mobilenet_v1_0.25", "--weights", Fixture("mlp.pth"), "--output", "x.onnx"));
        Assert.Contains("refused to load the pickled global 'posix.system'",
            CliRunner.OneErrorLine("summary", "--model", "mlp", "--hidden", "16", "--input-shape", "4", "--weights", Fixture("malicious_system.pth")));
        Assert.Contains("give --weights", CliRunner.OneErrorLine("predict", "--model", "mobilenet_v3_small", "--input", "x.npy", "--top", "1"));
    }
}
