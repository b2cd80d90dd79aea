using System.CommandLine;
using Sinapse.Optimizers;
using Sinapse.Optimizers.Schedules;

namespace Sinapse.Cli;

/// <summary>The learning-rate schedule options of <c>sinapse train</c>.</summary>
internal sealed class ScheduleOptions
{
    public Option<string> Schedule { get; } = new("--schedule") { Description = "Learning-rate schedule: constant, linear (the course's decay to --final-lr over --decay-steps updates, then flat; by default to 1% of α₀ over the run), cosine (over the run), step or exponential (per epoch, by --gamma).", DefaultValueFactory = _ => "cosine" };
    public Option<float> Gamma { get; } = new("--gamma") { Description = "Decay factor of the step and exponential schedules.", DefaultValueFactory = _ => 0.5f };
    public Option<int> StepEpochs { get; } = new("--step-epochs") { Description = "Epochs between drops of the step schedule.", DefaultValueFactory = _ => 3 };
    public Option<long?> DecaySteps { get; } = new("--decay-steps") { Description = "τ of the linear schedule: updates over which the rate falls from α₀ to α_τ, staying at α_τ after (default: the whole run)." };
    public Option<float?> FinalRate { get; } = new("--final-lr") { Description = "α_τ of the linear schedule: the rate reached at update τ and kept after it (default 0.01·α₀, the course's suggestion)." };
    public Option<int> Warmup { get; } = new("--warmup") { Description = "Updates of linear warm-up before the schedule starts.", DefaultValueFactory = _ => 0 };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Schedule, DecaySteps, FinalRate, Gamma, StepEpochs, Warmup }) command.Options.Add(option);
    }

    /// <summary>Every schedule option's error, before any data is loaded.</summary>
    public void Validate(ParseResult parse, Optimizer optimizer, int epochs) => Build(parse, optimizer, epochs, batchesPerEpoch: 1);

    public LearningRateScheduler Build(ParseResult parse, Optimizer optimizer, int epochs, int batchesPerEpoch)
    {
        int warmup = parse.GetValue(Warmup), stepEpochs = parse.GetValue(StepEpochs);
        float gamma = parse.GetValue(Gamma);
        if (stepEpochs < 1) throw new ArgumentException($"--step-epochs must be at least 1, got {stepEpochs}.");
        if (!(gamma >= 0 && gamma <= 1)) throw new ArgumentException($"--gamma must be in [0, 1], got {gamma}.");
        if (warmup < 0) throw new ArgumentException($"--warmup must be 0 or more, got {warmup}.");
        long iterations = Math.Max(1, (long)epochs * batchesPerEpoch - warmup);
        var name = parse.GetValue(Schedule)!.Trim().ToLowerInvariant();
        var (decaySteps, finalRate) = (parse.GetValue(DecaySteps), parse.GetValue(FinalRate));
        if ((decaySteps != null || finalRate != null) && name != "linear")
            throw new ArgumentException($"--decay-steps and --final-lr set τ and α_τ of --schedule linear, not of '{name}'.");
        if (decaySteps is <= 0) throw new ArgumentException($"--decay-steps must be at least 1, got {decaySteps}.");
        float baseRate = optimizer.Groups[0].LearningRate;
        if (finalRate is float last && !(last >= 0 && last <= baseRate))
            throw new ArgumentException($"--final-lr must be in [0, --lr = {baseRate}] (the linear schedule decays), got {last}.");
        (LearningRateSchedule schedule, ScheduleUnit unit) = name switch
        {
            "constant" => (new ConstantSchedule(), ScheduleUnit.Iteration),
            "linear" => (new LinearDecaySchedule(decaySteps ?? iterations, finalRate is float rate ? rate / baseRate : 0.01f), ScheduleUnit.Iteration),
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
