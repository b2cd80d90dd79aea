using System.Runtime.CompilerServices;
using Sinapse.Vision;

namespace Sinapse.Tests.Support;

/// <summary>Tests load saved MobileNets through the core's ModelSpec, sometimes before touching any Sinapse.Vision type.</summary>
static class VisionRegistration
{
    [ModuleInitializer]
    internal static void Register() => VisionModels.Register();
}
