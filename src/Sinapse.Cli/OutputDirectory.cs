namespace Sinapse.Cli;

/// <summary>
/// A command's output directory, created and written to once before any work starts, so that a
/// read-only, full or mistyped location (a file, /dev/null) is an error in the first second
/// instead of after the training whose results it was to hold.
/// </summary>
internal static class OutputDirectory
{
    /// <summary>Creates <paramref name="path"/> (given by <paramref name="option"/>), proves a file can be written in it, and returns it as given.</summary>
    public static string Prepare(string path, string option = "--out")
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException($"{option}: expected a directory, found an empty path.");
        if (File.Exists(path)) throw new ArgumentException($"{option} {path} is unusable: expected a directory, found a file (or device).");
        try
        {
            Directory.CreateDirectory(path);
            // The probe is a real write: permissions alone do not show a read-only mount or a full disk.
            var probe = Path.Combine(path, $".write-probe-{Environment.ProcessId}");
            using (var stream = new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
                stream.WriteByte(0);
                stream.Flush(flushToDisk: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{option} {path} is unusable: expected a directory Sinapse can write to, found that writing there fails ({e.Message.TrimEnd('.')}).");
        }
        return path;
    }

    /// <summary>
    /// A command's default output directory: runs/<paramref name="name"/> for the first run, then
    /// runs/<paramref name="name"/>2, 3… (as Ultralytics numbers its runs), so that a new run never
    /// overwrites the results of an earlier one; an explicit --out is used as given.
    /// </summary>
    public static string NextRun(string name)
    {
        var first = Path.Combine("runs", name);
        if (!Path.Exists(first)) return first;
        for (int number = 2; ; number++)
        {
            var next = first + number.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!Path.Exists(next)) return next;
        }
    }
}
