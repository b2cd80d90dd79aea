using Sinapse.Tensors;

namespace Sinapse.Optimizers.Schedules;

/// <summary>
/// Drives an optimizer's learning rates along a schedule: each parameter group follows the
/// schedule from its own base rate (the rate it had when the scheduler was made), as PyTorch's
/// LRScheduler does. Its state is the position, which a checkpoint saves.
/// </summary>
public sealed class LearningRateScheduler : IStateful<SchedulerState>
{
    private readonly float[] baseRates;

    public LearningRateScheduler(Optimizer optimizer, LearningRateSchedule schedule, ScheduleUnit unit = ScheduleUnit.Iteration)
    {
        Optimizer = optimizer;
        Schedule = schedule;
        Unit = unit;
        baseRates = optimizer.Groups.Select(g => g.LearningRate).ToArray();
        Apply();
    }

    public Optimizer Optimizer { get; }
    public LearningRateSchedule Schedule { get; }
    public ScheduleUnit Unit { get; }

    /// <summary>How many iterations or epochs the schedule has advanced.</summary>
    public long Position { get; private set; }

    public IReadOnlyList<float> BaseRates => baseRates;

    /// <summary>Advances one position when <paramref name="unit"/> is this scheduler's unit, and sets the new rates.</summary>
    public void Step(ScheduleUnit unit)
    {
        if (unit != Unit) return;
        Position++;
        Apply();
    }

    public SchedulerState StateDict() => new(Position);

    /// <summary>Restores a saved position and sets the rates it gives.</summary>
    public void LoadStateDict(SchedulerState state)
    {
        if (state.Position < 0) throw new ArgumentException($"A schedule position is 0 or more, got {state.Position}.");
        Position = state.Position;
        Apply();
    }

    private void Apply()
    {
        for (int g = 0; g < baseRates.Length; g++) Optimizer.Groups[g].LearningRate = Schedule.Rate(baseRates[g], Position);
    }
}

/// <summary>A <see cref="LearningRateScheduler"/>'s state: how many iterations or epochs it has advanced.</summary>
public readonly record struct SchedulerState(long Position);
