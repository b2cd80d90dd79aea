using System.Diagnostics;

namespace Sinapse.Tests.Kernels;

/// <summary>
/// The kernels' narrower paths (Vector256 without AVX-512, as on most laptops; Vector128, as on
/// Arm64's AdvSimd; scalar) stay correct: the kernel tests run again in a child process whose
/// environment turns the wider instruction sets off. The child reports what the JIT accelerates,
/// so a setting that no longer takes effect fails here instead of silently testing the wide path.
/// </summary>
public class InstructionSetFallbackTests
{
    // .NET 10 reads DOTNET_EnableAVX512; .NET 8 and 9 read DOTNET_EnableAVX512F.
    static readonly (string[] Variables, string Expected)[] Variants =
    [
        (["DOTNET_EnableAVX512", "DOTNET_EnableAVX512F"], "Vector512 False"),
        (["DOTNET_EnableAVX2"], "Vector256 False"),
        (["DOTNET_EnableHWIntrinsic"], "Vector128 False"),
    ];

    [Fact]
    public async Task KernelTestsPassWithInstructionSetsOff()
    {
        // The three children run at once: each is mostly JIT and single-threaded checks.
        var children = Variants.Select(variant => (variant, Start(variant.Variables))).ToList();
        foreach (var ((variables, expected), child) in children)
        {
            var error = child.StandardError.ReadToEndAsync();
            string output = await child.StandardOutput.ReadToEndAsync();
            await child.WaitForExitAsync();
            string setting = string.Join(", ", variables) + "=0";
            Assert.True(child.ExitCode == 0, $"kernel checks with {setting} failed:\n{output}\n{await error}");
            Assert.True(output.Contains(expected), $"with {setting} the child should report {expected}:\n{output}");
            Assert.Matches(@"passed: [1-9]\d*, failed: 0", output);
            child.Dispose();
        }
    }

    static Process Start(string[] variables)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "exec", typeof(KernelChecksProgram).Assembly.Location, KernelChecksProgram.Command })
            start.ArgumentList.Add(argument);
        foreach (var variable in variables) start.Environment[variable] = "0";
        return Process.Start(start)!;
    }
}
