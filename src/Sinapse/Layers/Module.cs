using Sinapse.Autograd;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// A network or a piece of one: named parameters, named children, a train/eval switch, and a
/// forward computation built from the ops. Like torch.nn.Module, parameters are composed from
/// the children, so a model's parameters are its layers' parameters. A module that implements
/// <see cref="IConfigurable{TSelf, TConfig}"/> describes itself, so a model of such modules is
/// saved and rebuilt without code.
/// </summary>
public abstract partial class Module
{
    private readonly List<(string Name, Tensor Tensor)> parameters = [];
    private readonly List<(string Name, Module Module)> children = [];
    private readonly List<(string Name, Tensor Tensor)> buffers = [];

    /// <summary>Whether the module is in training mode (dropout active, batch statistics used).</summary>
    public bool Training { get; private set; } = true;

    /// <summary>
    /// The computation, which every module overrides (PyTorch's forward). It is called through
    /// <see cref="Call"/>, the one public way to run a module, as PyTorch calls forward through module(x).
    /// </summary>
    protected abstract Tensor Forward(Tensor input);

    /// <summary>The output shape for an input shape, computed without running any kernel (summary, shape errors).</summary>
    public abstract Shape OutputShape(Shape input);

    /// <summary>
    /// The spatial window (kernel extent, stride, dilation) for receptive-field arithmetic; null
    /// for layers that do not slide a window.
    /// </summary>
    public virtual (int Kernel, int Stride, int Dilation)? Window => null;

    /// <summary>
    /// The modules <see cref="Forward"/> applies one after another, each to the previous one's
    /// output, when this module is such a chain (a Sequential; a MobileNet's trunk, pooling,
    /// flattening and head); null otherwise. The summary walks into chains through it.
    /// </summary>
    public virtual IReadOnlyList<Module>? Stages => null;

    /// <summary>
    /// Receptive-field arithmetic: after a window of k taps with dilation d and stride s, one
    /// output sees r + (k − 1)·d·j input positions and neighbouring outputs are j·s apart, for
    /// r positions j apart before it.
    /// </summary>
    public static (long Extent, long Jump) Widen((long Extent, long Jump) field, (int Kernel, int Stride, int Dilation)? window) =>
        window is var (kernel, stride, dilation) ? (field.Extent + (kernel - 1L) * dilation * field.Jump, field.Jump * stride) : field;

    /// <summary>The one window that a chain of windowed layers amounts to; null when none of them slides a window.</summary>
    protected static (int Kernel, int Stride, int Dilation)? ChainWindow(IEnumerable<Module> chain)
    {
        (long Extent, long Jump) field = (1, 1);
        bool windowed = false;
        foreach (var module in chain)
        {
            windowed |= module.Window != null;
            field = Widen(field, module.Window);
        }
        return windowed ? (checked((int)field.Extent), checked((int)field.Jump), 1) : null;
    }

    /// <summary>The layer's kind and configuration, as printed by the summary ("Linear(784 -> 256)").</summary>
    public virtual string Describe() => GetType().Name;

    public override string ToString() => Describe();

    protected Tensor RegisterParameter(string name, Tensor tensor)
    {
        tensor.RequiresGrad = true;
        tensor.Name = name;
        parameters.Add((name, tensor));
        return tensor;
    }

    /// <summary>
    /// State that is not trained but belongs to the model and is saved with it, like batch norm's
    /// running statistics (PyTorch's register_buffer): never requires a gradient, never frozen or updated by an optimizer.
    /// </summary>
    protected Tensor RegisterBuffer(string name, Tensor tensor)
    {
        tensor.RequiresGrad = false;
        tensor.Name = name;
        buffers.Add((name, tensor));
        return tensor;
    }

    /// <summary>Every buffer with its dotted path ("1.running_mean"), as in a PyTorch state_dict.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> NamedBuffers(string prefix = "")
    {
        foreach (var (name, tensor) in buffers) yield return (prefix + name, tensor);
        foreach (var (name, child) in children)
            foreach (var entry in child.NamedBuffers(prefix + name + ".")) yield return entry;
    }

    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        children.Add((name, module));
        module.Parent = this;
        foreach (var (_, descendant) in module.NamedModules()) descendant.label = null;
        return module;
    }

    /// <summary>
    /// Puts <paramref name="module"/> in the place of the child called <paramref name="name"/>
    /// (a new classification head, say); the old child is detached from this module.
    /// </summary>
    protected T ReplaceModule<T>(string name, T module) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        int index = children.FindIndex(c => c.Name == name);
        if (index < 0) throw new ArgumentException($"{Describe()} has no child '{name}' to replace (it has {string.Join(", ", children.Select(c => c.Name))}).");
        children[index].Module.Parent = null;
        children[index] = (name, module);
        module.Parent = this;
        foreach (var (_, descendant) in module.NamedModules()) descendant.label = null;
        return module;
    }

    public IReadOnlyList<(string Name, Module Module)> Children => children;

    /// <summary>This module's own parameters, without its children's.</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> OwnParameters => parameters;

    /// <summary>Every parameter with its dotted path ("0.weight", "features.3.bias"), as in a PyTorch state_dict.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters(string prefix = "")
    {
        foreach (var (name, tensor) in parameters) yield return (prefix + name, tensor);
        foreach (var (name, child) in children)
            foreach (var entry in child.NamedParameters(prefix + name + ".")) yield return entry;
    }

    public List<Tensor> Parameters() => NamedParameters().Select(p => p.Tensor).ToList();

    /// <summary>This module and all its descendants with their dotted paths (the root's path is "").</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix.TrimEnd('.'), this);
        foreach (var (name, child) in children)
            foreach (var entry in child.NamedModules(prefix + name + ".")) yield return entry;
    }

    public long ParameterCount(bool trainableOnly = false) =>
        NamedParameters().Where(p => !trainableOnly || p.Tensor.RequiresGrad).Sum(p => (long)p.Tensor.Length);

    /// <summary>Clears every parameter's gradient (see <see cref="Autograd.Tape.ZeroGrad"/>).</summary>
    public void ZeroGrad()
    {
        foreach (var (_, p) in NamedParameters()) Autograd.Tape.ZeroGrad(p);
    }

    public Module Train(bool training = true)
    {
        foreach (var (_, module) in NamedModules()) module.Training = training;
        return this;
    }

    public Module Eval() => Train(false);

    /// <summary>Frozen parameters get no gradient and no update, yet gradients still flow through the layer to those before it.</summary>
    public Module Freeze()
    {
        foreach (var (_, p) in NamedParameters()) { p.RequiresGrad = false; p.Grad = null; }
        return this;
    }

    public Module Unfreeze()
    {
        foreach (var (_, p) in NamedParameters()) p.RequiresGrad = true;
        return this;
    }

    /// <summary>
    /// Runs the module on <paramref name="input"/>: <see cref="Forward"/>, with the ops it records
    /// attributed to this layer and, under <see cref="AnomalyDetection"/>, its output checked for
    /// NaN and infinity. Containers call their children through it.
    /// </summary>
    public Tensor Call(Tensor input)
    {
        var outer = AnomalyDetection.CurrentLayer;
        // Formatted once: the label is only read when something goes wrong.
        var layer = label ??= $"'{Path}' ({Describe()})";
        AnomalyDetection.CurrentLayer = layer;
        try
        {
            var output = Forward(input);
            if (AnomalyDetection.Enabled) AnomalyDetection.Check(output, Pass.Forward, layer, GetType().Name);
            return output;
        }
        finally
        {
            AnomalyDetection.CurrentLayer = outer;
        }
    }

    private string? label;

    /// <summary>The module that registered this one as a child, if any.</summary>
    public Module? Parent { get; private set; }

    /// <summary>The dotted path from the root module ("3", "features.0"); "" for a root.</summary>
    public string Path
    {
        get
        {
            if (Parent == null) return "";
            var name = Parent.children.First(c => ReferenceEquals(c.Module, this)).Name;
            return Parent.Parent == null ? name : Parent.Path + "." + name;
        }
    }

    /// <summary>Checks the input's features against what the layer needs, naming the layer and both shapes.</summary>
    protected void ExpectFeatures(Shape input, int axis, int expected, string what)
    {
        if (input.Rank <= axis || input[axis] != expected)
            throw new ArgumentException($"{Describe()} expects {what} = {expected} (axis {axis}), but the input has shape {input}.");
    }
}
