using System.Globalization;
using System.Text.Json.Serialization;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// What a step of a <see cref="Graph"/> does: run a layer on one value, add or multiply two values
/// elementwise, join values along an axis, or apply a function of the ops to its values.
/// </summary>
public enum GraphOperation { Layer, Add, Multiply, Concat, Function }

/// <summary>
/// One step of a <see cref="Graph"/>: <see cref="Operation"/> applied to the named
/// <see cref="Inputs"/> (the graph's input, earlier steps' outputs or constants), giving the value
/// named <see cref="Output"/>. A layer step has one input and its <see cref="Layer"/>; a
/// concatenation joins one or more inputs along <see cref="Axis"/> (1: channels); a function step
/// applies <see cref="Function"/>, named <see cref="FunctionName"/>, to its inputs' values.
/// </summary>
public sealed record GraphStep(GraphOperation Operation, IReadOnlyList<string> Inputs, string Output, Module? Layer = null, int Axis = 1,
    [property: JsonIgnore] Func<IReadOnlyList<Tensor>, Tensor>? Function = null, [property: JsonIgnore] string? FunctionName = null);

/// <summary>A graph constant as the spec names it: its values are a buffer, saved with the weights, so the config holds only its shape.</summary>
public sealed record GraphConstant(string Name, IReadOnlyList<int> Shape);

/// <summary>The arguments of a <see cref="Graph"/>; its constants come back as zeros of their shapes until the weights are loaded.</summary>
public sealed record GraphConfig(string Input, string Output, IReadOnlyList<GraphConstant> Constants, IReadOnlyList<GraphStep> Steps);

/// <summary>
/// Layers wired by named values rather than one after another: what an imported ONNX graph
/// becomes when it is not a plain chain (residual additions, squeeze-and-excitation gates,
/// a bias added to a matrix product, channel concatenations). Steps run in order, each reading values defined before it;
/// layers are children named by their step's position ("3.weight"), constants are buffers
/// ("constant_0"), so the graph saves and loads like any model.
/// </summary>
/// <remarks>
/// Add and Multiply broadcast as NumPy does, and every operand gets its gradient, summed back
/// over the axes it was broadcast along.
/// </remarks>
public sealed class Graph : Module, IConfigurable<Graph, GraphConfig>
{
    /// <exception cref="NotSupportedException">A step applies a function, which a config cannot describe.</exception>
    public GraphConfig GetConfig() => steps.FirstOrDefault(step => step.Operation == GraphOperation.Function) is { } function
        ? throw new NotSupportedException($"the graph step '{function.Output}' applies {function.FunctionName}, a function of the ops that model.json cannot describe; keep the model as its ONNX file")
        : new(Input, Output, ConstantNames.Select(name => new GraphConstant(name, constants[name].Shape.ToArray())).ToList(), steps);
    public static Graph FromConfig(GraphConfig c, Rng? rng) => new(c.Input, c.Output, c.Constants.Select(k => (k.Name, Tensor.Zeros([.. k.Shape]))), c.Steps);

    private readonly List<GraphStep> steps = [];
    private readonly Dictionary<string, Tensor> constants = new(StringComparer.Ordinal);

    public Graph(string input, string output, IEnumerable<(string Name, Tensor Value)> constants, IEnumerable<GraphStep> steps)
    {
        ArgumentException.ThrowIfNullOrEmpty(input);
        ArgumentException.ThrowIfNullOrEmpty(output);
        Input = input;
        Output = output;
        var defined = new HashSet<string>(StringComparer.Ordinal) { input };
        int index = 0;
        foreach (var (name, value) in constants)
        {
            if (!defined.Add(name)) throw new ArgumentException($"Graph: the constant '{name}' is defined twice.");
            this.constants[name] = RegisterBuffer(ConstantBufferName(index++), value);
            ConstantNames.Add(name);
        }
        foreach (var step in steps)
        {
            int expected = step.Operation switch { GraphOperation.Layer => 1, GraphOperation.Concat or GraphOperation.Function => Math.Max(step.Inputs.Count, 1), _ => 2 };
            if (step.Inputs.Count != expected)
                throw new ArgumentException($"Graph: step {this.steps.Count} ({step.Operation}) needs {(step.Operation == GraphOperation.Concat ? "at least one input" : $"{expected} input(s)")}, got {step.Inputs.Count}.");
            if ((step.Operation == GraphOperation.Layer) != (step.Layer != null))
                throw new ArgumentException($"Graph: step {this.steps.Count} ({step.Operation}) {(step.Layer == null ? "has no layer" : "must not have a layer")}.");
            if ((step.Operation == GraphOperation.Function) != (step.Function != null))
                throw new ArgumentException($"Graph: step {this.steps.Count} ({step.Operation}) {(step.Function == null ? "has no function" : "must not have a function")}.");
            foreach (var name in step.Inputs)
                if (!defined.Contains(name)) throw new ArgumentException($"Graph: step {this.steps.Count} ({step.Operation}) reads '{name}', which no earlier step, constant or the input defines.");
            if (!defined.Add(step.Output)) throw new ArgumentException($"Graph: step {this.steps.Count} ({step.Operation}) writes '{step.Output}', which is already defined.");
            if (step.Layer != null) RegisterModule(this.steps.Count.ToString(CultureInfo.InvariantCulture), step.Layer);
            this.steps.Add(step);
        }
        if (!defined.Contains(output)) throw new ArgumentException($"Graph: the output '{output}' is never computed.");
    }

    /// <summary>The name of the value the input is bound to.</summary>
    public string Input { get; }

    /// <summary>The name of the value returned.</summary>
    public string Output { get; }

    public IReadOnlyList<GraphStep> Steps => steps;

    /// <summary>The constants' value names, in the order of their buffers ("constant_0", "constant_1", …).</summary>
    public List<string> ConstantNames { get; } = [];

    public Tensor Constant(string name) => constants[name];

    public static string ConstantBufferName(int index) => "constant_" + index.ToString(CultureInfo.InvariantCulture);

    protected override Tensor Forward(Tensor input)
    {
        var values = new Dictionary<string, Tensor>(constants, StringComparer.Ordinal) { [Input] = input };
        foreach (var step in steps)
            values[step.Output] = step.Operation switch
            {
                GraphOperation.Layer => step.Layer!.Call(values[step.Inputs[0]]),
                GraphOperation.Concat => F.Concat(step.Inputs.Select(name => values[name]).ToList(), step.Axis),
                GraphOperation.Function => step.Function!(step.Inputs.Select(name => values[name]).ToList()),
                _ => Binary(step.Operation, values[step.Inputs[0]], values[step.Inputs[1]]),
            };
        return values[Output];
    }

    public override Shape OutputShape(Shape input)
    {
        var shapes = constants.ToDictionary(c => c.Key, c => c.Value.Shape, StringComparer.Ordinal);
        shapes[Input] = input;
        foreach (var step in steps)
            shapes[step.Output] = step.Operation switch
            {
                GraphOperation.Layer => step.Layer!.OutputShape(shapes[step.Inputs[0]]),
                GraphOperation.Concat => F.ConcatShape(step.Inputs.Select(name => shapes[name]).ToList(), step.Axis),
                GraphOperation.Function => FunctionShape(step, step.Inputs.Select(name => shapes[name]).ToList()),
                _ => Shape.Broadcast(shapes[step.Inputs[0]], shapes[step.Inputs[1]], step.Operation.ToString()),
            };
        return shapes[Output];
    }

    public override string Describe() => $"Graph({steps.Count} steps)";

    /// <summary>The shape a function step gives for inputs of <paramref name="shapes"/>: it runs once on zeros, without recording.</summary>
    public static Shape FunctionShape(GraphStep step, IReadOnlyList<Shape> shapes)
    {
        using var noGrad = Autograd.GradMode.NoGrad();
        return step.Function!(shapes.Select(shape => Tensor.Zeros(shape)).ToList()).Shape;
    }

    /// <summary>a + b or a ⊙ b with NumPy broadcasting; both operands get their gradient.</summary>
    public static Tensor Binary(GraphOperation operation, Tensor a, Tensor b)
    {
        if (operation == GraphOperation.Multiply)
        {
            // A squeeze-and-excitation gate has its own kernel, which sums its gradient without a full-size temporary.
            if (IsChannelGate(a.Shape, b.Shape)) return F.MultiplyChannels(a, b);
            if (IsChannelGate(b.Shape, a.Shape)) return F.MultiplyChannels(b, a);
        }
        return operation == GraphOperation.Add ? F.Add(a, b) : F.Multiply(a, b);
    }

    private static bool IsChannelGate(Shape x, Shape scale) =>
        x.Rank == 4 && scale.Rank == 4 && scale[0] == x[0] && scale[1] == x[1] && scale[2] == 1 && scale[3] == 1 && (x[2] != 1 || x[3] != 1);
}
