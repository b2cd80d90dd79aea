using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Ops;
using Sinapse.Optimizers;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Training;

namespace Sinapse.Tests.Docs;

// The example of docs/guide.md's "Your own layer" section, as user code in an assembly the library
// does not know: the "// guide: name" blocks are the guide's snippets, compiled and run. Keep the two in step.

// guide: own-layer
/// <summary>What rebuilds a <see cref="GatedLinearUnit"/>: the arguments model.json stores.</summary>
public sealed record GatedLinearUnitConfig(int InFeatures, int OutFeatures);

/// <summary>A gated linear unit (Dauphin et al., 2017): value(x) · σ(gate(x)).</summary>
public sealed class GatedLinearUnit : Module, IConfigurable<GatedLinearUnit, GatedLinearUnitConfig>
{
    private readonly Linear value, gate;

    public GatedLinearUnit(int inFeatures, int outFeatures, Rng? rng = null)
    {
        value = RegisterModule("value", new Linear(inFeatures, outFeatures, rng: rng));
        gate = RegisterModule("gate", new Linear(inFeatures, outFeatures, rng: rng));
    }

    public GatedLinearUnitConfig GetConfig() => new(value.InFeatures, value.OutFeatures);

    public static GatedLinearUnit FromConfig(GatedLinearUnitConfig config, Rng? rng) => new(config.InFeatures, config.OutFeatures, rng);

    protected override Tensor Forward(Tensor x) => value.Call(x) * F.Sigmoid(gate.Call(x));

    public override Shape OutputShape(Shape input) => value.OutputShape(input);
}
// end

public class YourOwnLayerTests
{
    /// <summary>Two interleaved classes on a circle: points inside or outside radius 0.7.</summary>
    private static Dataset Rings()
    {
        var x = Tensor.Uniform(new Shape(256, 2), -1, 1, new Rng(2));
        var y = Tensor.Zeros(256);
        for (int i = 0; i < 256; i++) y.Span[i] = x.Span[2 * i] * x.Span[2 * i] + x.Span[2 * i + 1] * x.Span[2 * i + 1] < 0.49f ? 1 : 0;
        return new Dataset(x, y, 2);
    }

    [Fact]
    public void AUserLayerTrainsSavesLoadsResumesAndRunsInOnnxRuntime()
    {
        using var temporary = new TempDirectory();
        var runs = temporary.Path;
        var data = Rings();
        var rng = new Rng(7);
        var rings = new DataLoader(data, 32, rng: rng);

        // guide: own-layer-use
        ModuleRegistry.Register<GatedLinearUnit, GatedLinearUnitConfig>();   // once, before saving or loading

        var gated = new Sequential(new GatedLinearUnit(2, 16, rng), new GatedLinearUnit(16, 2, rng));
        var gatedTrainer = new Trainer(gated, new CrossEntropyLoss(), new Adam(gated.Parameters(), 0.05f));
        var rngs = new Dictionary<string, Rng> { ["run"] = rng };
        gatedTrainer.Callbacks.Add(new CheckpointCallback(Path.Combine(runs, "checkpoints"), 10, rngs, new Shape(2)));
        gatedTrainer.Fit(rings, 20);
        new SavedModel(gated, new Shape(2)).Save(Path.Combine(runs, "model"));

        var reloaded = SavedModel.Load(Path.Combine(runs, "model")).Model;         // rebuilt from model.json

        var checkpoint = Checkpoint.FindLatest(Path.Combine(runs, "checkpoints"));  // epoch 20: go on to 30
        var resumed = new Trainer(checkpoint.Model.Model, new CrossEntropyLoss(), new Adam(checkpoint.Model.Model.Parameters(), 0.05f));
        var restored = checkpoint.Restore(resumed, rngs);
        resumed.Fit(rings, 30, null, restored);

        OnnxExport.Save(gated, new Shape(2), Path.Combine(runs, "model.onnx"));    // traced: the layer's ops become ONNX nodes
        // end

        Assert.True(gatedTrainer.Evaluate(data).Accuracy > 0.9, $"accuracy {gatedTrainer.Evaluate(data).Accuracy}");
        Assert.IsType<GatedLinearUnit>(((Sequential)reloaded)[0]);
        Assert.Equal(Trainer.Predict(gated, data.Features).ToArray(), Trainer.Predict(reloaded, data.Features).ToArray());
        Assert.Equal(20, checkpoint.Epoch);
        Assert.Equal(30, resumed.History.Epochs.Count);
        Assert.True(resumed.Evaluate(data).Loss < gatedTrainer.Evaluate(data).Loss, "ten more epochs lower the loss");
        var inOnnxRuntime = Serialization.OnnxExportTests.RunOnnxRuntime(File.ReadAllBytes(Path.Combine(runs, "model.onnx")), data.Features);
        Expect.Close(Trainer.Predict(gated, data.Features).ToArray(), inOnnxRuntime, 1e-4, "ONNX Runtime on the exported user layer");
    }
}
