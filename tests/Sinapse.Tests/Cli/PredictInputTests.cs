using Sinapse.Cli.Commands;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary>predict's inputs are checked as training data is: a NaN is named, not turned into NaN probabilities.</summary>
public class PredictInputTests
{
    [Fact]
    public void ANaNInANpyInputIsNamedWithItsExample()
    {
        using var run = new TempDirectory();
        var inputs = Tensor.Zeros(3, 4);
        inputs.Span[2 * 4 + 1] = float.NaN;
        Npy.Write(run.File("in.npy"), inputs);

        var error = Assert.Throws<InvalidDataException>(() => PredictCommand.ReadInputs(run.File("in.npy"), new Shape(4)));
        Assert.Contains("example 2", error.Message);
        Assert.Contains("position 1", error.Message);
    }

    [Fact]
    public void AnInfinityInACsvInputIsNamed()
    {
        using var run = new TempDirectory();
        File.WriteAllText(run.File("in.csv"), "a,b\n1,2\n3,Infinity\n");

        var error = Assert.Throws<InvalidDataException>(() => PredictCommand.ReadInputs(run.File("in.csv"), new Shape(2)));
        Assert.Contains("example 1", error.Message);
    }
}
