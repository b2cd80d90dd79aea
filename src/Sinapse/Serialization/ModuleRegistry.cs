using System.Reflection;
using Module = Sinapse.Layers.Module;
using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Serialization;

/// <summary>
/// The module types that model.json can name (Keras's register_keras_serializable): each type name
/// maps to a module type and its config record. The library's own layers register themselves;
/// a layer defined elsewhere needs one <see cref="Register{TModule, TConfig}"/> call before a
/// model holding it is saved or loaded.
/// </summary>
public static class ModuleRegistry
{
    internal sealed record Entry(string Name, Type ModuleType, Type ConfigType, Func<Module, object> GetConfig, Func<object, Rng?, Module> FromConfig);

    private static readonly Dictionary<string, Entry> byName = new(StringComparer.Ordinal);
    private static readonly Dictionary<Type, Entry> byType = [];
    private static readonly Lock registration = new();

    static ModuleRegistry() => RegisterAssembly(typeof(Module).Assembly);

    /// <summary>
    /// Makes <typeparamref name="TModule"/> saveable and loadable under <paramref name="name"/>
    /// (default: the class name). Registering a type again is harmless; a name already taken by
    /// another type is an error.
    /// </summary>
    public static void Register<TModule, TConfig>(string? name = null)
        where TModule : Module, IConfigurable<TModule, TConfig>
        where TConfig : notnull
    {
        name ??= typeof(TModule).Name;
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var entry = new Entry(name, typeof(TModule), typeof(TConfig), module => ((TModule)module).GetConfig(), (config, rng) => TModule.FromConfig((TConfig)config, rng));
        lock (registration)
        {
            if (byName.TryGetValue(name, out var taken) && taken.ModuleType != typeof(TModule))
                throw new ArgumentException($"The module type name '{name}' is already registered for {taken.ModuleType.FullName}; register {typeof(TModule).FullName} under another name.", nameof(name));
            if (byType.TryGetValue(typeof(TModule), out var previous)) byName.Remove(previous.Name);
            byName[name] = entry;
            byType[typeof(TModule)] = entry;
        }
    }

    /// <summary>Registers, under their class names, the modules of <paramref name="assembly"/> that implement <see cref="IConfigurable{TSelf, TConfig}"/>.</summary>
    public static void RegisterAssembly(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var register = typeof(ModuleRegistry).GetMethod(nameof(Register))!;
        foreach (var type in assembly.GetTypes())
        {
            if (type.IsAbstract || type.ContainsGenericParameters || !type.IsSubclassOf(typeof(Module))) continue;
            foreach (var face in type.GetInterfaces())
                if (face.IsGenericType && face.GetGenericTypeDefinition() == typeof(IConfigurable<,>) && face.GenericTypeArguments[0] == type)
                    register.MakeGenericMethod(type, face.GenericTypeArguments[1]).Invoke(null, [null]);
        }
    }

    /// <summary>The registered type names, in order.</summary>
    public static IReadOnlyList<string> Names
    {
        get { lock (registration) return byName.Keys.Order(StringComparer.Ordinal).ToList(); }
    }

    internal static Entry? Find(string name)
    {
        lock (registration) return byName.GetValueOrDefault(name);
    }

    internal static Entry? Find(Type moduleType)
    {
        lock (registration) return byType.GetValueOrDefault(moduleType);
    }
}
