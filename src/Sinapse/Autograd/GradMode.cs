namespace Sinapse.Autograd;

/// <summary>Whether ops record themselves for backpropagation on this thread (like torch.no_grad).</summary>
public static class GradMode
{
    [ThreadStatic] private static bool disabled;

    public static bool Enabled => !disabled;

    /// <summary>Inference: <c>using (GradMode.NoGrad()) { ... }</c> records nothing and keeps no graph alive.</summary>
    public static Restore NoGrad()
    {
        var previous = disabled;
        disabled = true;
        return new Restore(previous);
    }

    /// <summary>Recording on, even inside <see cref="NoGrad"/> (torch.enable_grad), until disposed.</summary>
    public static Restore EnableGrad()
    {
        var previous = disabled;
        disabled = false;
        return new Restore(previous);
    }

    public readonly struct Restore(bool previous) : IDisposable
    {
        public void Dispose() => disabled = previous;
    }
}
