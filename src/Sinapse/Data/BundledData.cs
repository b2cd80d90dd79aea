namespace Sinapse.Data;

/// <summary>
/// Finds the small datasets that ship with Sinapse under <c>data/</c>: first beside the running
/// program (the <c>sinapse</c> tool carries its copy there), then in a Sinapse repository
/// checkout containing the current directory or the program (a program built from the repository
/// runs from its bin/ folder). The core package carries no data: elsewhere, load a copy explicitly.
/// </summary>
public static class BundledData
{
    /// <summary>
    /// The full path of <paramref name="relativePath"/> (such as "mnist" or "images/china.jpg")
    /// under the first <c>data/</c> folder that holds it and, when given, that <paramref name="accept"/>
    /// takes (a folder holding the right files, say); null when there is none.
    /// </summary>
    public static string? TryFind(string relativePath, Func<string, bool>? accept = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(relativePath);
        return Candidates(relativePath).FirstOrDefault(candidate => (File.Exists(candidate) || Directory.Exists(candidate)) && (accept == null || accept(candidate)));
    }

    /// <summary>
    /// Like <see cref="TryFind"/>, but a missing file or folder is a one-line error naming it and
    /// <paramref name="instead"/>, the way to give a copy explicitly (for example "pass --data DIR").
    /// </summary>
    public static string Find(string relativePath, string instead, Func<string, bool>? accept = null) =>
        TryFind(relativePath, accept) ?? throw new FileNotFoundException(
            $"The bundled data/{relativePath} is neither beside this program nor in a Sinapse repository around the current directory; {instead}.",
            "data/" + relativePath);

    /// <summary>
    /// Where <paramref name="relativePath"/> is looked for, in order: beside the program (so the
    /// tool's own copy wins), then in each directory up from the current one and from the program's.
    /// </summary>
    public static IEnumerable<string> Candidates(string relativePath)
    {
        var relative = Path.Combine("data", relativePath);
        yield return Path.Combine(AppContext.BaseDirectory, relative);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            // A directory seen before means the rest of this walk was covered by the first one.
            for (var directory = new DirectoryInfo(start); directory != null && seen.Add(directory.FullName); directory = directory.Parent)
                yield return Path.Combine(directory.FullName, relative);
    }
}
