using System.Text.Json;
using Sinapse.Autograd;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Tensors;

public class TensorFormattingTests
{
    /// <summary>The tensor of a tensor_printing.json case, with its shape, values and requires_grad.</summary>
    public static Tensor FromCase(JsonElement c)
    {
        var shape = c.Ints("shape");
        var values = c.ExactFloats("values");
        var t = shape.Length == 0 ? Tensor.Scalar(values[0]) : Tensor.FromArray(values, shape);
        t.RequiresGrad = c.GetProperty("requires_grad").GetBoolean();
        return t;
    }

    public static TheoryData<string> PrintingCases => [.. Fixture.Cases("tensor_printing.json")
        .Where(c => !c.TryGetProperty("function", out _)).Select(c => c.GetProperty("name").GetString()!)];

    [Theory]
    [MemberData(nameof(PrintingCases))]
    public void PrintsWhatTorchPrints(string name)
    {
        var c = Fixture.Case("tensor_printing.json", name);
        Assert.Equal(c.GetProperty("text").GetString(), FromCase(c).ToString());
    }

    [Fact]
    public void TheFixtureCoversTheCasesThatChangeTheFormat()
    {
        var texts = Fixture.Cases("tensor_printing.json").Select(c => c.GetProperty("text").GetString()!).ToList();
        Assert.Contains(texts, t => t.Contains("e+0"));
        Assert.Contains(texts, t => t.Contains("e-0"));
        Assert.Contains(texts, t => t.Contains("..."));
        Assert.Contains(texts, t => t.Contains("nan") && t.Contains("inf"));
        Assert.Contains(texts, t => t.Contains("size=("));
        Assert.Contains(texts, t => t.Contains("requires_grad=True"));
        Assert.Contains(texts, t => t.Contains("[[[["));
        Assert.True(texts.Count >= 30, $"{texts.Count} cases");
    }

    [Fact]
    public void AViewPrintsItsOwnValues()
    {
        var rows = Tensor.FromArray([1f, 2f, 3f, 4.5f, 5f, 6f], 3, 2).Slice(1, 2);
        Assert.Equal("tensor([[3.0000, 4.5000],\n        [5.0000, 6.0000]])", rows.ToString());
    }

    [Fact]
    public void AnOpOutputNamesItsBackward()
    {
        var x = Tensor.FromArray([1f, 2f]);
        x.RequiresGrad = true;
        var y = Tensor.FromArray([2f, 4f]);
        Tape.Record("Double", y, dy => Tape.Accumulate(x, dy.Span), x);
        Assert.Equal("tensor([2., 4.], grad_fn=<DoubleBackward>)", y.ToString());
        Assert.Equal("tensor([2., 4.])", y.Detach().ToString());
    }

    [Fact]
    public void AReleasedTensorSaysSoInsteadOfThrowing()
    {
        Tensor inside;
        using (TensorScope.Begin()) inside = Tensor.Ones(2, 3);
        Assert.Equal("tensor(<released>, size=(2, 3))", inside.ToString());
    }
}
