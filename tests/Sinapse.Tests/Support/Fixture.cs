using System.Globalization;
using System.Text.Json;

namespace Sinapse.Tests.Support;

/// <summary>Reads the PyTorch reference files that tools/make_fixtures.py writes into Fixtures/.</summary>
public static class Fixture
{
    public static IEnumerable<JsonElement> Cases(string file) => Load(file).GetProperty("cases").EnumerateArray();

    /// <summary>The cases' names, one theory row each.</summary>
    public static TheoryData<string> CaseNames(string file)
    {
        var names = new TheoryData<string>();
        foreach (var c in Cases(file)) names.Add(c.GetProperty("name").GetString()!);
        return names;
    }

    public static JsonElement Load(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", file);
        if (!File.Exists(path)) throw new FileNotFoundException($"Fixture {file} is missing from the test output; regenerate it with /usr/bin/python3 tools/make_fixtures.py.", path);
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.Clone();
    }

    public static JsonElement Case(string file, string name, Func<JsonElement, bool>? where = null) =>
        Cases(file).Single(c => c.GetProperty("name").GetString() == name && (where == null || where(c)));

    public static float[] Floats(this JsonElement element, string property) =>
        element.GetProperty(property).EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    /// <summary>
    /// Float32 values written as the shortest decimals that round-trip them, parsed straight to
    /// float32 (no detour through double), with nan and infinities as the strings "NaN",
    /// "Infinity" and "-Infinity".
    /// </summary>
    public static float[] ExactFloats(this JsonElement element, string property) =>
        element.GetProperty(property).EnumerateArray()
            .Select(v => float.Parse(v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText(), CultureInfo.InvariantCulture)).ToArray();

    public static int[] Ints(this JsonElement element, string property) =>
        element.GetProperty(property).EnumerateArray().Select(v => v.GetInt32()).ToArray();

    public static float Float(this JsonElement element, string property) => (float)element.GetProperty(property).GetDouble();

    public static float Parameter(this JsonElement element, string name, float fallback)
    {
        var parameters = element.GetProperty("parameters");
        return parameters.TryGetProperty(name, out var value) ? (float)value.GetDouble() : fallback;
    }

    public static bool Flag(this JsonElement element, string name) =>
        element.GetProperty("parameters").TryGetProperty(name, out var value) && value.GetBoolean();
}
