namespace Sinapse.Cli;

/// <summary>
/// An output directory made and proven writable before any work starts, so that a run whose
/// results could not be saved fails at once instead of after hours of training.
/// </summary>
internal static class OutputDirectory
{
    /// <summary>Creates <paramref name="path"/> (given as <paramref name="option"/>), writes and deletes a small file in it, and returns its full path.</summary>
    public static string Prepare(string path, string option = "--out")
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full)) throw new IOException($"{option} {path} is a file, not a directory: give a directory for the results.");
        var probe = Path.Combine(full, $".write-probe.{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(full);
            using (var file = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
                // A byte, flushed to the disk: a full disk or a read-only mount fails here rather than when the model is saved.
                file.WriteByte(0);
                file.Flush(flushToDisk: true);
            }
            return full;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{option} {path} cannot be written: {e.Message}", e);
        }
    }
}
