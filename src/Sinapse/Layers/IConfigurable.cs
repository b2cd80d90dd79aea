using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// A module that describes itself, like Keras's get_config / from_config: <see cref="GetConfig"/>
/// gives the record of its constructor arguments and <see cref="FromConfig"/> builds an equal module
/// (with fresh weights) from one. model.json stores the record's properties beside the module's
/// registered type name (Serialization.ModuleRegistry); a property that holds a module, as a
/// container's children, is written the same way, so containers need nothing more.
/// </summary>
/// <typeparam name="TSelf">The module type itself.</typeparam>
/// <typeparam name="TConfig">A record that System.Text.Json can read and write (primitives, arrays, lists, modules, <see cref="Padding"/>, (int, int) pairs).</typeparam>
public interface IConfigurable<TSelf, TConfig>
    where TSelf : Module, IConfigurable<TSelf, TConfig>
    where TConfig : notnull
{
    /// <summary>The arguments that rebuild this module.</summary>
    TConfig GetConfig();

    /// <summary>A module built from <paramref name="config"/>.</summary>
    /// <param name="rng">The generator for the initial weights and the dropout masks (null: <see cref="Rng.Global"/>).</param>
    static abstract TSelf FromConfig(TConfig config, Rng? rng);
}

/// <summary>The config of a module that has nothing to configure.</summary>
public sealed record EmptyConfig
{
    internal static readonly EmptyConfig Instance = new();
}

/// <summary>A module with nothing to configure (Relu, Flatten): its config is empty and it is rebuilt by its parameterless constructor.</summary>
public interface IConfigless<TSelf> : IConfigurable<TSelf, EmptyConfig>
    where TSelf : Module, IConfigless<TSelf>, new()
{
    EmptyConfig IConfigurable<TSelf, EmptyConfig>.GetConfig() => EmptyConfig.Instance;

    static TSelf IConfigurable<TSelf, EmptyConfig>.FromConfig(EmptyConfig config, Rng? rng) => new();
}
