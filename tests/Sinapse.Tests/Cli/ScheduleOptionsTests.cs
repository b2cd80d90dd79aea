using System.CommandLine;
using Sinapse.Cli;
using Sinapse.Optimizers;
using Sinapse.Optimizers.Schedules;
using Sinapse.Tensors;

namespace Sinapse.Tests.Cli;

/// <summary>The schedule options of <c>sinapse train</c>: τ and α_τ of the course's linear decay.</summary>
public class ScheduleOptionsTests
{
    private static LearningRateScheduler Build(float rate, int epochs, int batchesPerEpoch, params string[] arguments)
    {
        var options = new ScheduleOptions();
        var command = new RootCommand();
        options.AddTo(command);
        var parse = command.Parse(arguments);
        Assert.Empty(parse.Errors);
        return options.Build(parse, new Sgd([Tensor.Zeros(3)], rate), epochs, batchesPerEpoch);
    }

    private static float RateAt(LearningRateScheduler scheduler, long update)
    {
        scheduler.LoadStateDict(new SchedulerState(update));
        return scheduler.Optimizer.LearningRate;
    }

    [Fact]
    public void LinearDecayReachesTheFinalRateAtTauAndStaysThere()
    {
        // α_j = (1 − j/τ)·α₀ + (j/τ)·α_τ with α₀ = 0.1, α_τ = 0.002, τ = 10, in a run of 50 updates.
        var scheduler = Build(0.1f, 5, 10, "--schedule", "linear", "--decay-steps", "10", "--final-lr", "0.002");
        Assert.Equal(0.1f, RateAt(scheduler, 0), 6);
        Assert.Equal(0.5f * 0.1f + 0.5f * 0.002f, RateAt(scheduler, 5), 6);
        Assert.Equal(0.002f, RateAt(scheduler, 10), 6);
        Assert.Equal(0.002f, RateAt(scheduler, 37), 6);
    }

    [Fact]
    public void LinearDecayDefaultsToOnePercentOverTheWholeRun()
    {
        var scheduler = Build(0.1f, 5, 10, "--schedule", "linear");
        Assert.Equal(0.5f * 0.1f + 0.5f * 0.001f, RateAt(scheduler, 25), 6);
        Assert.Equal(0.001f, RateAt(scheduler, 50), 6);
    }

    [Theory]
    [InlineData("--decay-steps and --final-lr set τ and α_τ of --schedule linear, not of 'cosine'", "--schedule", "cosine", "--decay-steps", "10")]
    [InlineData("--decay-steps and --final-lr set τ and α_τ of --schedule linear, not of 'step'", "--schedule", "step", "--final-lr", "0.01")]
    [InlineData("--decay-steps must be at least 1, got 0", "--schedule", "linear", "--decay-steps", "0")]
    [InlineData("--final-lr must be in [0, --lr = 0.1]", "--schedule", "linear", "--final-lr", "0.5")]
    [InlineData("--final-lr must be in [0, --lr = 0.1]", "--schedule", "linear", "--final-lr", "-0.01")]
    public void BadLinearDecayOptionsAreRefused(string message, params string[] arguments) =>
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => Build(0.1f, 5, 10, arguments)).Message);
}
