using System.Reflection;
using System.Runtime.Intrinsics;
using Xunit.Sdk;

namespace Sinapse.Tests.Kernels;

/// <summary>
/// The test assembly's entry point. `dotnet exec Sinapse.Tests.dll kernel-checks` runs every fact
/// and data row of the kernel tests in this process (their assertions throw on failure) and
/// prints which vector widths the JIT accelerates, so that a parent test can run the same checks
/// in a child whose environment turns instruction sets off (see <see cref="InstructionSetFallbackTests"/>).
/// The test runner never calls it.
/// </summary>
public static class KernelChecksProgram
{
    public const string Command = "kernel-checks";

    public static int Main(string[] args)
    {
        if (args is not [Command]) return 0;
        Console.WriteLine($"accelerated: Vector512 {Vector512.IsHardwareAccelerated}, Vector256 {Vector256.IsHardwareAccelerated}, Vector128 {Vector128.IsHardwareAccelerated}");
        int passed = 0, failed = 0;
        foreach (var (name, run) in Checks())
        {
            try
            {
                run();
                passed++;
            }
            catch (Exception error)
            {
                failed++;
                var cause = error is TargetInvocationException { InnerException: { } inner } ? inner : error;
                Console.WriteLine($"FAILED {name}: {cause.GetType().Name}: {cause.Message.Split('\n')[0]}");
            }
        }
        Console.WriteLine($"passed: {passed}, failed: {failed}");
        return failed == 0 && passed > 0 ? 0 : 1;
    }

    /// <summary>Every non-skipped fact, and every data row of every theory, of the kernel test classes
    /// (the worker pool's own tests aside: they test threads, not instruction sets).</summary>
    static IEnumerable<(string Name, Action Run)> Checks()
    {
        var classes = typeof(KernelChecksProgram).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(KernelChecksProgram).Namespace && t.IsClass && !t.IsAbstract && t.IsPublic
                        && t != typeof(InstructionSetFallbackTests) && !t.Name.StartsWith("Workers", StringComparison.Ordinal)
                        && t.GetConstructor(Type.EmptyTypes) != null)
            .OrderBy(t => t.Name);
        foreach (var type in classes)
        {
            foreach (var method in type.GetMethods().Where(m => m.GetCustomAttribute<FactAttribute>() is { Skip: null }))
            {
                var rows = method.GetCustomAttributes<DataAttribute>().SelectMany(data => data.GetData(method)).ToList();
                if (rows.Count == 0) rows.Add([]);
                foreach (var row in rows)
                    yield return ($"{type.Name}.{method.Name}({string.Join(", ", row)})", () => Invoke(type, method, row));
            }
        }
    }

    static void Invoke(Type type, MethodInfo method, object?[] row)
    {
        object instance = Activator.CreateInstance(type)!;
        try
        {
            if (method.Invoke(instance, row) is Task task) task.GetAwaiter().GetResult();
        }
        finally { (instance as IDisposable)?.Dispose(); }
    }
}
