using Sinapse.Tensors;

namespace Sinapse.Autograd;

/// <summary>
/// A differentiable op written as a forward computation and its gradient, like
/// torch.autograd.Function: the way to add an op to Sinapse from outside the library.
/// </summary>
/// <remarks>
/// <para>Subclass <see cref="Function"/> and override two methods:</para>
/// <list type="number">
/// <item><description><see cref="Forward"/> computes the output from the inputs and keeps what the
/// gradient will need: tensors with <see cref="FunctionContext.SaveForBackward"/>, other values
/// with <see cref="FunctionContext.Set"/>. It runs with gradient recording off, as in PyTorch, so it
/// may use any op of <c>F</c> or write the output's <see cref="Tensor.Span"/> directly; nothing it
/// does is recorded.</description></item>
/// <item><description><see cref="Backward"/> receives ∂L/∂output, the gradient of the loss with
/// respect to the output (it has the output's shape), and returns ∂L/∂input for each input, in the
/// order of the inputs: a tensor of exactly that input's shape, or null for an input that gets no
/// gradient (<see cref="FunctionContext.NeedsInputGrad"/> says which inputs need one). It also runs
/// with recording off: the returned gradients are values, not part of a graph, so gradients of
/// gradients (torch's create_graph) are not available through a Function.</description></item>
/// </list>
/// <para>Then call <see cref="Apply"/> with the input tensors. When gradients are being recorded and
/// an input requires one, Apply links the output to the inputs on the <see cref="Tape"/>, like
/// every built-in op: a later <c>Backward()</c> calls your Backward, checks each gradient's shape
/// and adds it into the input's gradient. Settings that are not tensors (a slope, a bound) belong
/// to the subclass: take them in its constructor.</para>
/// <para>Verify the gradient against finite differences with
/// <see cref="GradCheck.Check"/>: <c>GradCheck.Check(x => new Swish().Apply(x[0]), [input])</c>.</para>
/// <example>
/// Swish, x·σ(x), whose derivative is σ(x)·(1 + x·(1 − σ(x))):
/// <code>
/// sealed class Swish : Function
/// {
///     protected override Tensor Forward(FunctionContext context, Tensor[] inputs)
///     {
///         var x = inputs[0];
///         var sigmoid = F.Sigmoid(x);
///         context.SaveForBackward(x, sigmoid);
///         return F.Multiply(x, sigmoid);
///     }
///
///     protected override Tensor?[] Backward(FunctionContext context, Tensor gradOutput)
///     {
///         var x = context.SavedTensors[0].Span;
///         var sigmoid = context.SavedTensors[1].Span;
///         var dy = gradOutput.Span;
///         var gradient = Tensor.EmptyLike(gradOutput);
///         var dx = gradient.Span;
///         for (int i = 0; i &lt; dx.Length; i++) dx[i] = dy[i] * sigmoid[i] * (1 + x[i] * (1 - sigmoid[i]));
///         return [gradient];
///     }
/// }
///
/// var y = new Swish().Apply(x);
/// </code>
/// </example>
/// </remarks>
public abstract class Function
{
    /// <summary>The op's name on the tape, in error messages and in printed outputs (grad_fn=&lt;NameBackward&gt;): the class name unless overridden.</summary>
    public virtual string Name => GetType().Name;

    /// <summary>The output for <paramref name="inputs"/>, computed with gradient recording off.</summary>
    protected abstract Tensor Forward(FunctionContext context, Tensor[] inputs);

    /// <summary>One gradient per input, each of its input's shape or null, from the gradient of the output.</summary>
    protected abstract Tensor?[] Backward(FunctionContext context, Tensor gradOutput);

    /// <summary>Runs <see cref="Forward"/> on <paramref name="inputs"/> and, when any of them requires a gradient, records the output for backpropagation.</summary>
    public Tensor Apply(params Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is null) throw new ArgumentNullException(nameof(inputs), $"{Name}.Apply got null for input {i}.");
        var context = new FunctionContext(Name, inputs);
        Tensor output;
        using (GradMode.NoGrad()) output = Forward(context, inputs);
        context.EndForward();
        if (output is null) throw new InvalidOperationException($"{Name}.Forward returned null instead of its output tensor.");
        if (context.NonDifferentiableOutput is { } marked && !ReferenceEquals(marked, output))
            throw new InvalidOperationException($"{Name}.Forward marked a tensor {marked.Shape} non-differentiable that is not the output it returned.");
        // An existing tensor (an input returned as it is) becomes a view of its own: recording must
        // not rewrite how the input itself was made.
        if (output.RequiresGrad || Array.IndexOf(inputs, output) >= 0) output = output.Detach();
        if (context.NonDifferentiableOutput == null)
            Tape.Record(Name, output, gradOutput => Backpropagate(context, inputs, gradOutput), inputs);
        return output;
    }

    private void Backpropagate(FunctionContext context, Tensor[] inputs, Tensor gradOutput)
    {
        Tensor?[] gradients;
        using (GradMode.NoGrad()) gradients = Backward(context, gradOutput);
        if (gradients is null || gradients.Length != inputs.Length)
            throw new InvalidOperationException($"{Name}.Backward returned {(gradients is null ? "null" : $"{gradients.Length} gradients")} for {inputs.Length} inputs; it must return one per input (null where there is none).");
        // Every gradient is checked before any is added, so a failed pass leaves no partial sums.
        for (int i = 0; i < inputs.Length; i++)
            if (gradients[i] is { } gradient && gradient.Shape != inputs[i].Shape)
                throw new InvalidOperationException($"{Name}.Backward returned a gradient of shape {gradient.Shape} for input {i}, which has shape {inputs[i].Shape}.");
        for (int i = 0; i < inputs.Length; i++)
            if (gradients[i] is { } gradient && inputs[i].RequiresGrad) Tape.Accumulate(inputs[i], gradient.Span);
    }
}

/// <summary>
/// What a <see cref="Function"/>'s forward pass leaves for its backward pass (torch's ctx): saved
/// tensors, named values of any type, and which inputs need a gradient.
/// </summary>
public sealed class FunctionContext
{
    private readonly string function;
    private readonly bool[] needsInputGrad;
    private readonly Dictionary<string, object?> values = [];
    private Tensor[] saved = [];
    private bool inForward = true;

    internal FunctionContext(string function, Tensor[] inputs)
    {
        this.function = function;
        needsInputGrad = Array.ConvertAll(inputs, input => GradMode.Enabled && input.RequiresGrad);
    }

    /// <summary>The tensors given to <see cref="SaveForBackward"/>, in that order.</summary>
    public IReadOnlyList<Tensor> SavedTensors => saved;

    internal Tensor? NonDifferentiableOutput { get; private set; }

    /// <summary>Whether input <paramref name="index"/> will receive a gradient (torch's needs_input_grad); Backward may return null for the others.</summary>
    public bool NeedsInputGrad(int index)
    {
        if ((uint)index >= (uint)needsInputGrad.Length)
            throw new ArgumentOutOfRangeException(nameof(index), $"{function} has {needsInputGrad.Length} inputs, there is no input {index}.");
        return needsInputGrad[index];
    }

    /// <summary>Keeps tensors for Backward (inputs, the output, intermediates); call it in Forward.</summary>
    public void SaveForBackward(params Tensor[] tensors)
    {
        RequireForward(nameof(SaveForBackward));
        saved = (Tensor[])tensors.Clone();
    }

    /// <summary>Keeps a value of any type for Backward under <paramref name="name"/>.</summary>
    public void Set(string name, object? value) => values[name] = value;

    /// <summary>The value kept under <paramref name="name"/> by <see cref="Set"/>.</summary>
    public T Get<T>(string name)
    {
        if (!values.TryGetValue(name, out var value))
            throw new KeyNotFoundException($"{function} saved no value named '{name}' (it saved: {(values.Count == 0 ? "none" : string.Join(", ", values.Keys))}).");
        if (value is T typed) return typed;
        if (value is null && default(T) is null) return default!;
        throw new InvalidCastException($"{function} saved '{name}' as {value?.GetType().Name ?? "null"}, not {typeof(T).Name}.");
    }

    /// <summary>
    /// Declares the output not differentiable (an index, a rounding, a mask): it is not recorded,
    /// does not require a gradient, and Backward is never called. Call it in Forward with the
    /// tensor Forward returns.
    /// </summary>
    public void MarkNonDifferentiable(Tensor output)
    {
        RequireForward(nameof(MarkNonDifferentiable));
        NonDifferentiableOutput = output;
    }

    internal void EndForward() => inForward = false;

    private void RequireForward(string method)
    {
        if (!inForward) throw new InvalidOperationException($"{method} belongs in {function}.Forward; it was called after Forward returned.");
    }
}
