using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>Keeps the batch axis and flattens the rest: [N, C, H, W] → [N, C·H·W]. No parameters.</summary>
public sealed class Flatten : Module, IConfigless<Flatten>
{
    protected override Tensor Forward(Tensor input) => F.Flatten(input);

    public override Shape OutputShape(Shape input)
    {
        if (input.Rank < 1) throw new ArgumentException("Flatten needs a batch axis, got a scalar shape.");
        return new Shape(input[0], input.Rank == 1 ? 1 : input.Features.Size);
    }
}
