namespace Sinapse.Tests.Support;

/// <summary>
/// Tests that pack, install and run whole programs (dotnet pack, the installed tool training on
/// MNIST): they run alone, after the parallel tests, so their processes' memory and cores do not
/// add to everyone else's at the peak.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OutOfProcessCollection
{
    public const string Name = "Out-of-process programs";
}
