using Sinapse.Optimizers.Schedules;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Optimizers.Schedules;

public class LearningRateScheduleTests
{
    private static LearningRateSchedule FromFixture(System.Text.Json.JsonElement c) => c.GetProperty("name").GetString() switch
    {
        "step" => new StepSchedule(c.GetProperty("step_size").GetInt64(), c.Float("gamma")),
        "exponential" => new ExponentialSchedule(c.Float("gamma")),
        "cosine" => new CosineSchedule(c.GetProperty("t_max").GetInt64(), c.Float("eta_min_fraction")),
        "warmup_constant" => new WarmupSchedule(c.GetProperty("warmup").GetInt64(), new ConstantSchedule()),
        "warmup_cosine" => new WarmupSchedule(c.GetProperty("warmup").GetInt64(), new CosineSchedule(c.GetProperty("t_max").GetInt64())),
        var name => throw new InvalidDataException($"unknown schedule {name} in schedules.json"),
    };

    [Fact]
    public void StepExponentialCosineAndWarmupMatchPyTorchsSchedulers()
    {
        // StepLR, ExponentialLR, CosineAnnealingLR (up to T_max), LinearLR and SequentialLR(LinearLR, CosineAnnealingLR).
        var root = Fixture.Load("schedules.json");
        float baseRate = root.Float("base_rate");
        var names = new HashSet<string>();
        foreach (var c in root.GetProperty("cases").EnumerateArray())
        {
            var schedule = FromFixture(c);
            var expected = c.Floats("rates");
            for (int j = 0; j < expected.Length; j++)
                Expect.Close(expected[j], schedule.Rate(baseRate, j), 1e-5, $"{schedule} at {j}");
            names.Add(c.GetProperty("name").GetString()!);
        }
        Assert.Equal(5, names.Count);
    }

    [Fact]
    public void TheCoursesLinearDecayFollowsItsFormulaThenStaysAtTheFinalRate()
    {
        // α_j = (1 − j/τ)·α₀ + (j/τ)·α_τ for j ≤ τ, then α_τ; here α_τ = 1 % of α₀.
        const double alpha0 = 0.5, tau = 40, alphaTau = 0.01 * alpha0;
        var schedule = new LinearDecaySchedule(40, 0.01f);
        for (int j = 0; j <= 100; j++)
        {
            double expected = j <= tau ? (1 - j / tau) * alpha0 + j / tau * alphaTau : alphaTau;
            Expect.Close((float)expected, schedule.Rate((float)alpha0, j), 1e-6, $"α at {j}");
        }
    }

    [Fact]
    public void CosineStaysAtItsMinimumAfterTau()
    {
        // Unlike PyTorch's CosineAnnealingLR, which climbs back after T_max.
        var schedule = new CosineSchedule(10, 0.1f);
        Assert.Equal(0.1f, schedule.Rate(1f, 10), 6);
        Assert.Equal(0.1f, schedule.Rate(1f, 15), 6);
    }

    [Fact]
    public void InvalidSettingsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepSchedule(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialSchedule(1.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearDecaySchedule(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WarmupSchedule(0, new ConstantSchedule()));
    }
}
