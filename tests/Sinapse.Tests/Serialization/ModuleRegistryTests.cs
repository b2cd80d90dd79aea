using System.Text.Json.Nodes;
using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Ops;
using Sinapse.Optimizers;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Training;

namespace Sinapse.Tests.Serialization;

/// <summary>
/// A layer the library does not know, as a user writes it in their own assembly: a residual
/// whose branch is scaled by a learned scalar (ReZero), x + α·body(x). Its config holds a module
/// (the body) and a number, its own parameter is α.
/// </summary>
public sealed record ScaledResidualConfig(Module Body, float InitialScale = 0f);

public sealed class ScaledResidual : Module, IConfigurable<ScaledResidual, ScaledResidualConfig>
{
    public ScaledResidual(Module body, float initialScale = 0f)
    {
        Body = RegisterModule("body", body);
        InitialScale = initialScale;
        Scale = RegisterParameter("scale", Tensor.Full(new Shape(1), initialScale));
    }

    public Module Body { get; }
    public float InitialScale { get; }
    public Tensor Scale { get; }

    public ScaledResidualConfig GetConfig() => new(Body, InitialScale);
    public static ScaledResidual FromConfig(ScaledResidualConfig config, Rng? rng) => new(config.Body, config.InitialScale);

    protected override Tensor Forward(Tensor input) => F.Add(input, F.Multiply(Scale, Body.Call(input)));
    public override Shape OutputShape(Shape input) => input;
}

public class ModuleRegistryTests
{
    // The one registration a user's layer needs; registering again is harmless (tests run in any order).
    static ModuleRegistryTests() => ModuleRegistry.Register<ScaledResidual, ScaledResidualConfig>();

    private static Sequential Model(Rng rng) =>
        new(new Linear(6, 8, rng: rng), new Relu(), new ScaledResidual(new Sequential(new Linear(8, 8, rng: rng), new Tanh()), 0.5f), new Linear(8, 3, rng: rng));

    private static DataLoader Loader(Rng rng)
    {
        var data = new Rng(5);
        var x = Tensor.Uniform(new Shape(64, 6), -1, 1, data);
        var y = Tensor.Zeros(64);
        for (int i = 0; i < 64; i++) y.Span[i] = x.Span[i * 6] > 0 ? 1 : i % 3 == 0 ? 2 : 0;
        return new DataLoader(new Dataset(x, y, 3), 16, rng: rng);
    }

    private static Trainer NewTrainer(Module model) => new(model, new CrossEntropyLoss(), new Adam(model.Parameters(), 0.01f));

    [Fact]
    public void AUserLayerSavesAndLoadsWithItsLearnedWeights()
    {
        using var directory = new TempDirectory();
        var rng = new Rng(3);
        var model = Model(rng);
        NewTrainer(model).Fit(Loader(rng), 2);
        Assert.NotEqual(0.5f, ((ScaledResidual)model[2]).Scale.Item());

        new SavedModel(model, new Shape(6)).Save(directory.Path);
        Assert.Contains("\"type\": \"ScaledResidual\"", File.ReadAllText(Path.Combine(directory.Path, SavedModel.SpecFile)));
        var loaded = SavedModel.Load(directory.Path).Model;

        var residual = Assert.IsType<ScaledResidual>(((Sequential)loaded)[2]);
        Assert.Equal(0.5f, residual.InitialScale);
        Assert.Equal(((ScaledResidual)model[2]).Scale.Item(), residual.Scale.Item());
        var input = Tensor.Uniform(new Shape(5, 6), -1, 1, new Rng(9));
        Assert.Equal(Trainer.Predict(model, input).ToArray(), Trainer.Predict(loaded, input).ToArray());
    }

    [Fact]
    public void ARunWithAUserLayerResumesFromItsCheckpointBitwise()
    {
        using var directory = new TempDirectory();
        var wholeRng = new Rng(4);
        var whole = NewTrainer(Model(wholeRng));
        whole.Fit(Loader(wholeRng), 4);

        var firstRng = new Rng(4);
        var first = NewTrainer(Model(firstRng));
        first.Callbacks.Add(new CheckpointCallback(directory.Path, 2, new Dictionary<string, Rng> { ["run"] = firstRng }, new Shape(6)));
        first.Fit(Loader(firstRng), 2);

        // The resumed run rebuilds its model from the checkpoint's model.json: no code builds it.
        var checkpoint = Checkpoint.FindLatest(directory.Path);
        var secondRng = new Rng(0);
        var second = NewTrainer(checkpoint.Model.Model);
        var history = checkpoint.Restore(second, new Dictionary<string, Rng> { ["run"] = secondRng });
        second.Fit(Loader(secondRng), 4, null, history);

        Assert.Equal(whole.History.StepLosses, second.History.StepLosses);
        foreach (var ((name, a), (_, b)) in whole.Model.StateDict().Zip(second.Model.StateDict()))
            Assert.True(a.ToArray().SequenceEqual(b.ToArray()), name);
    }

    private sealed class Unregistered : Module, IConfigurable<Unregistered, EmptyConfig>
    {
        public EmptyConfig GetConfig() => new();
        public static Unregistered FromConfig(EmptyConfig config, Rng? rng) => new();
        protected override Tensor Forward(Tensor input) => input;
        public override Shape OutputShape(Shape input) => input;
    }

    [Fact]
    public void AnUnknownTypeNameIsAOneLineErrorNamingTheRegisteredTypes()
    {
        var error = Assert.Throws<InvalidDataException>(() => ModelSpec.FromJson(JsonNode.Parse("""{"type":"Sequential","layers":[{"type":"Unregistered"}]}"""), source: "m.json"));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("m.json: at model.layers[0]: unknown module type 'Unregistered'", error.Message);
        Assert.Contains("Linear", error.Message);
        Assert.Contains("ScaledResidual", error.Message);
        var unsaved = Assert.Throws<NotSupportedException>(() => ModelSpec.ToJson(new Sequential(new Relu(), new Unregistered())));
        Assert.DoesNotContain('\n', unsaved.Message);
        Assert.Contains("'1'", unsaved.Message);
        Assert.Contains("ModuleRegistry.Register", unsaved.Message);
    }

    [Fact]
    public void ANameTakenByAnotherTypeIsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => ModuleRegistry.Register<Unregistered, EmptyConfig>("Linear"));
        Assert.Contains("'Linear' is already registered for Sinapse.Layers.Linear", error.Message);
        Assert.Equal(typeof(Linear), ModelSpec.FromJson(JsonNode.Parse("""{"type":"Linear","inFeatures":2,"outFeatures":3}""")).GetType());
    }

    [Fact]
    public void EveryPublicLibraryModuleIsRegisteredUnderItsClassName()
    {
        var modules = typeof(Module).Assembly.GetExportedTypes().Where(t => !t.IsAbstract && t.IsSubclassOf(typeof(Module))).Select(t => t.Name).ToList();
        Assert.NotEmpty(modules);
        Assert.Empty(modules.Except(ModuleRegistry.Names));
    }
}
