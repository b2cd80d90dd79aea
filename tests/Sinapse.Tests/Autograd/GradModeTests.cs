using Sinapse.Autograd;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Autograd;

public class GradModeTests
{
    static Tensor Loss(Tensor x, Tensor w) => F.Mean(F.Square(F.Tanh(F.Linear(x, w))));

    [Fact]
    public void NoGradRecordsNothing()
    {
        var w = Expect.Parameter([2, 3], 2);
        Tensor y;
        using (GradMode.NoGrad())
        {
            Assert.False(GradMode.Enabled);
            y = Loss(Expect.Random([4, 3], 1), w);
            using (GradMode.NoGrad()) { }
            Assert.False(GradMode.Enabled);   // an inner scope restores the outer state, not "enabled"
        }
        Assert.True(GradMode.Enabled);
        Assert.False(y.RequiresGrad);
        Assert.True(y.IsLeaf);
        var error = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("NoGrad", error.Message);
        Assert.Null(w.Grad);
    }

    [Fact]
    public void EnableGradRecordsInsideNoGradUntilDisposed()
    {
        var w = Expect.Parameter([2, 3], 2);
        using (GradMode.NoGrad())
        {
            using (GradMode.EnableGrad())
            {
                Assert.True(GradMode.Enabled);
                Loss(Expect.Random([4, 3], 1), w).Backward();
            }
            Assert.False(GradMode.Enabled);
        }
        Assert.NotNull(w.Grad);
    }

    [Fact]
    public void NoGradIsPerThread()
    {
        using (GradMode.NoGrad())
        {
            bool elsewhere = false;
            var thread = new Thread(() => elsewhere = GradMode.Enabled);
            thread.Start();
            thread.Join();
            Assert.True(elsewhere);
        }
    }
}
