using System.CommandLine;
using Sinapse.Optimizers;
using Sinapse.Optimizers.Schedules;

namespace Sinapse.Cli;

/// <summary>The learning-rate schedule options of <c>sinapse train</c>.</summary>
internal sealed class ScheduleOptions
{
    public Option<string> Schedule { get; } = new("--schedule") { Description = "Learning-rate schedule: constant, linear (the course's decay to 1% over the run), cosine (over the run), step or exponential (per epoch, by --gamma).", DefaultValueFactory = _ => "cosine" };
    public Option<float> Gamma { get; } = new("--gamma") { Description = "Decay factor of the step and exponential schedules.", DefaultValueFactory = _ => 0.5f };
    public Option<int> StepEpochs { get; } = new("--step-epochs") { Description = "Epochs between drops of the step schedule.", DefaultValueFactory = _ => 3 };
    public Option<int> Warmup { get; } = new("--warmup") { Description = "Updates of linear warm-up before the schedule starts.", DefaultValueFactory = _ => 0 };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Schedule, Gamma, StepEpochs, Warmup }) command.Options.Add(option);
    }

    public LearningRateScheduler Build(ParseResult parse, Optimizer optimizer, int epochs, int batchesPerEpoch)
    {
        int warmup = parse.GetValue(Warmup), stepEpochs = parse.GetValue(StepEpochs);
        float gamma = parse.GetValue(Gamma);
        if (stepEpochs < 1) throw new ArgumentException($"--step-epochs must be at least 1, got {stepEpochs}.");
        if (!(gamma >= 0 && gamma <= 1)) throw new ArgumentException($"--gamma must be in [0, 1], got {gamma}.");
        if (warmup < 0) throw new ArgumentException($"--warmup must be 0 or more, got {warmup}.");
        long iterations = Math.Max(1, (long)epochs * batchesPerEpoch - warmup);
        var name = parse.GetValue(Schedule)!.Trim().ToLowerInvariant();
        (LearningRateSchedule schedule, ScheduleUnit unit) = name switch
        {
            "constant" => (new ConstantSchedule(), ScheduleUnit.Iteration),
            "linear" => (new LinearDecaySchedule(iterations), ScheduleUnit.Iteration),
            "cosine" => (new CosineSchedule(iterations), ScheduleUnit.Iteration),
            "step" => (new StepSchedule(stepEpochs, gamma), ScheduleUnit.Epoch),
            "exponential" => ((LearningRateSchedule)new ExponentialSchedule(gamma), ScheduleUnit.Epoch),
            _ => throw new ArgumentException($"Unknown --schedule '{name}'. Expected constant, linear, cosine, step or exponential."),
        };
        if (warmup > 0)
        {
            if (unit == ScheduleUnit.Epoch) throw new ArgumentException($"--warmup counts updates and works with the per-update schedules (constant, linear, cosine), not '{name}'.");
            schedule = new WarmupSchedule(warmup, schedule);
        }
        return new LearningRateScheduler(optimizer, schedule, unit);
    }
}
