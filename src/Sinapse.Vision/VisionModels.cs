using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Sinapse.Serialization;

namespace Sinapse.Vision;

/// <summary>
/// Makes this package's models saveable through <see cref="ModelSpec"/>: the core knows no model
/// of this assembly, so MobileNet registers itself here.
/// </summary>
public static class VisionModels
{
    /// <summary>
    /// Registers <see cref="MobileNet"/> with <see cref="ModelSpec"/> (again, harmlessly, when
    /// called twice). It runs by itself the first time any type of Sinapse.Vision is used; call it
    /// at start-up in a program that loads a saved MobileNet before touching this package otherwise.
    /// </summary>
    public static void Register() =>
        ModelSpec.Register<MobileNet>("MobileNet",
            m => new JsonObject { ["architecture"] = m.Architecture, ["features"] = ModelSpec.ToJson(m.Features), ["classifier"] = ModelSpec.ToJson(m.Classifier) },
            (j, r) => new MobileNet(r.Text(j, "architecture"), r.Sequential(j, "features"), r.Sequential(j, "classifier")));

#pragma warning disable CA2255 // A saved MobileNet must load in any program that has used this package, without a call the user could forget.
    [ModuleInitializer]
    internal static void RegisterOnLoad() => Register();
#pragma warning restore CA2255
}
