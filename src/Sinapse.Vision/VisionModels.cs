using System.Runtime.CompilerServices;
using Sinapse.Serialization;

namespace Sinapse.Vision;

/// <summary>
/// Makes this package's models saveable: the core's <see cref="ModuleRegistry"/> knows only the
/// core's layers, so MobileNet and any other module of this assembly register themselves here.
/// </summary>
public static class VisionModels
{
    /// <summary>
    /// Registers this assembly's modules with <see cref="ModuleRegistry"/> (again, harmlessly, when
    /// called twice). It runs by itself the first time any type of Sinapse.Vision is used; call it
    /// at start-up in a program that loads a saved MobileNet before touching this package otherwise.
    /// </summary>
    public static void Register() => ModuleRegistry.RegisterAssembly(typeof(VisionModels).Assembly);

#pragma warning disable CA2255 // A saved MobileNet must load in any program that has used this package, without a call the user could forget.
    [ModuleInitializer]
    internal static void RegisterOnLoad() => Register();
#pragma warning restore CA2255
}
