using Sinapse.Autograd;

namespace Sinapse.Tensors;

public sealed partial class Tensor
{
    /// <summary>Backpropagates from this scalar (a loss) into every tensor that requires a gradient.</summary>
    public void Backward() => Tape.Backward(this);

    /// <summary>Backpropagates from this tensor, seeded with the gradient of some scalar with respect to it.</summary>
    public void Backward(Tensor gradient, bool retainGraph = false) => Tape.Backward(this, gradient, retainGraph);
}
