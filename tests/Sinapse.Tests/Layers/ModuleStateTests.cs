using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Tests.Layers;

public class ModuleStateTests
{
    private static Sequential Model(ulong seed) =>
        new(new Linear(4, 3, rng: new Rng(seed)), new BatchNorm1d(3), new Relu(), new Linear(3, 2, rng: new Rng(seed + 1)));

    [Fact]
    public void TheStateDictHasPyTorchsNamesParametersFirstAndLiveTensors()
    {
        var model = Model(1);
        var state = model.StateDict();
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"], state.Keys);
        // As PyTorch's state_dict, the tensors are the module's own: a change shows through.
        Assert.Same(((Linear)model[0]).Weight, state["0.weight"]);
    }

    [Fact]
    public void LoadingCopiesEveryValueBitwise()
    {
        var (source, target) = (Model(1), Model(7));
        foreach (var (_, buffer) in source.NamedBuffers()) new Rng(2).FillUniform(buffer.Span, 0.5f, 2f);
        var result = target.LoadStateDict(source.StateDict());
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        foreach (var ((name, a), (_, b)) in source.StateDict().Zip(target.StateDict()))
        {
            Assert.NotSame(a, b);
            Assert.True(a.ToArray().SequenceEqual(b.ToArray()), name);
        }
    }

    [Fact]
    public void StrictLoadingNamesEveryMissingAndUnexpectedKeyInOneLineAndChangesNothing()
    {
        var target = Model(7);
        var before = target.StateDict().Values.Select(t => t.ToArray()).ToList();
        var state = Model(1).StateDict().Where(p => p.Key != "0.bias" && p.Key != "1.running_var")
            .Append(new("head.weight", Tensor.Ones(2))).ToDictionary();
        var error = Assert.Throws<ArgumentException>(() => target.LoadStateDict(state));
        Assert.Equal("Error(s) in loading state_dict for Sequential: Missing key(s) in state_dict: \"0.bias\", \"1.running_var\". Unexpected key(s) in state_dict: \"head.weight\".", error.Message);
        Assert.Equal(before, target.StateDict().Values.Select(t => t.ToArray()).ToList());

        var result = target.LoadStateDict(state, strict: false);
        Assert.Equal(["0.bias", "1.running_var"], result.MissingKeys);
        Assert.Equal(["head.weight"], result.UnexpectedKeys);
        Assert.Equal(state["0.weight"].ToArray(), target.StateDict()["0.weight"].ToArray());
        Assert.Equal(before[1], target.StateDict()["0.bias"].ToArray());
    }

    [Fact]
    public void ASizeMismatchIsAnErrorEvenWhenNotStrictAndChangesNothing()
    {
        var target = Model(7);
        var before = target.StateDict().Values.Select(t => t.ToArray()).ToList();
        var state = Model(1).StateDict().ToDictionary();
        state["3.weight"] = Tensor.Ones(3, 2);
        var error = Assert.Throws<ArgumentException>(() => target.LoadStateDict(state, strict: false));
        Assert.Contains("size mismatch for 3.weight: copying a tensor with shape [3, 2], the shape in the current model is [2, 3]", error.Message);
        Assert.Equal(before, target.StateDict().Values.Select(t => t.ToArray()).ToList());
    }

    [Fact]
    public void AOneElementTensorLoadsIntoAScalarBufferAsPyTorchsNumBatchesTracked()
    {
        var target = Model(7);
        var state = Model(1).StateDict().ToDictionary();
        state["1.num_batches_tracked"] = Tensor.Full(new Shape(1), 5f);
        target.LoadStateDict(state);
        Assert.Equal(5f, target.StateDict()["1.num_batches_tracked"].Item());
    }
}
