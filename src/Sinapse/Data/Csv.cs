using System.Globalization;
using Sinapse.IO;
using Sinapse.Tensors;

namespace Sinapse.Data;

/// <summary>
/// Loads a numeric CSV table into a <see cref="Dataset"/>: one example per line, one column holding
/// the target, every other column a feature. Numbers are read in the invariant culture ("1.5",
/// never "1,5"). Fields are trimmed and may be wrapped in double quotes, but a quoted field cannot
/// contain the separator: this reads numeric tables, not arbitrary CSV.
/// </summary>
public static class Csv
{
    /// <summary>Loads <paramref name="path"/>, whose first line is a header naming <paramref name="labelColumn"/>.</summary>
    /// <param name="regression">Read the target as a number (targets [N, 1]) rather than a class (labels [N]).</param>
    public static Dataset Load(string path, string labelColumn, char separator = ',', bool regression = false)
    {
        ArgumentNullException.ThrowIfNull(labelColumn);
        return Load(path, header => FindColumn(path, header, labelColumn), hasHeader: true, separator, regression);
    }

    /// <summary>
    /// Loads <paramref name="path"/> with the target in column <paramref name="labelColumn"/> (0-based;
    /// negative counts from the end, so -1 is the last column). Without <paramref name="hasHeader"/>,
    /// the first line is taken as a header when one of its feature fields is not a number.
    /// </summary>
    /// <param name="regression">Read the target as a number (targets [N, 1]) rather than a class (labels [N]).</param>
    public static Dataset Load(string path, int labelColumn, bool? hasHeader = null, char separator = ',', bool regression = false) =>
        Load(path, header => labelColumn < 0 ? header.Length + labelColumn : labelColumn, hasHeader, separator, regression);

    static Dataset Load(string path, Func<string[], int> chooseLabelColumn, bool? hasHeader, char separator, bool regression)
    {
        ArgumentNullException.ThrowIfNull(path);
        string name = Path.GetFileName(path);

        string[]? header = null;
        int labelIndex = -1, columns = 0, firstLine = 0, lineNumber = 0;
        var features = new List<float>();
        var labels = new List<string>();
        var rowLines = new List<int>(); // for messages about the label column, which is parsed after the whole file
        foreach (var line in InputFile.ReadLines(path, "CSV file", InputFile.MaxCsvBytes, InputFile.MaxCsvLineLength))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var fields = Split(line, separator);
            if (firstLine == 0)
            {
                firstLine = lineNumber;
                columns = fields.Length;
                labelIndex = chooseLabelColumn(fields);
                if ((uint)labelIndex >= (uint)columns)
                    throw new ArgumentOutOfRangeException("labelColumn",
                        $"{name} has {columns} columns (line {lineNumber}), so there is no label column {labelIndex}.");
                if (columns < 2) throw new InvalidDataException($"{name} has one column (line {lineNumber}); it needs features and a label.");
                if (hasHeader ?? LooksLikeHeader(fields, labelIndex))
                {
                    header = fields;
                    continue;
                }
            }
            if (fields.Length != columns)
                throw new InvalidDataException(
                    $"{name} line {lineNumber} has {fields.Length} fields, but line {firstLine} has {columns}; every line needs the same columns.");
            for (int column = 0; column < columns; column++)
            {
                if (column == labelIndex) labels.Add(fields[column]);
                else features.Add(ParseNumber(fields[column], name, lineNumber, column, header));
            }
            rowLines.Add(lineNumber);
        }
        if (labels.Count == 0) throw new InvalidDataException($"{name} holds no data rows.");

        var featureTensor = Dataset.NewTensor(new Shape(labels.Count, columns - 1));
        features.CopyTo(featureTensor.Span);
        if (regression)
        {
            var targets = Dataset.NewTensor(new Shape(labels.Count, 1));
            var span = targets.Span;
            for (int row = 0; row < labels.Count; row++)
                span[row] = ParseNumber(labels[row], name, rowLines[row], labelIndex, header);
            return new Dataset(featureTensor, targets);
        }
        return Labelled(featureTensor, labels, rowLines, name, labelIndex, header);
    }

    /// <summary>Whole-number labels are class indices; text labels become classes numbered in sorted order.</summary>
    static Dataset Labelled(Tensor features, List<string> labels, List<int> rowLines, string name, int labelIndex, string[]? header)
    {
        var targets = Dataset.NewTensor(new Shape(labels.Count));
        var span = targets.Span;
        bool numeric = labels.TrueForAll(l => float.TryParse(l, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        if (!numeric)
        {
            var classNames = labels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            var index = classNames.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
            for (int row = 0; row < labels.Count; row++) span[row] = index[labels[row]];
            return new Dataset(features, targets, classNames.Length, classNames);
        }
        for (int row = 0; row < labels.Count; row++)
        {
            float value = float.Parse(labels[row], NumberStyles.Float, CultureInfo.InvariantCulture);
            if (!(value >= 0 && value == MathF.Floor(value) && value < 1 << 24))
                throw new InvalidDataException(
                    $"{name} line {rowLines[row]}, column {Describe(labelIndex, header)}: a class label must be a whole number 0 or more " +
                    $"(or a class name), found {InputFile.Quote(labels[row])}. For a numeric target, load with regression: true.");
            span[row] = value;
        }
        return new Dataset(features, targets);
    }

    static string[] Split(string line, char separator)
    {
        var fields = line.Split(separator);
        for (int i = 0; i < fields.Length; i++)
        {
            var field = fields[i].Trim();
            if (field.Length >= 2 && field[0] == '"' && field[^1] == '"') field = field[1..^1].Trim();
            fields[i] = field;
        }
        return fields;
    }

    static bool LooksLikeHeader(string[] fields, int labelIndex)
    {
        for (int column = 0; column < fields.Length; column++)
            if (column != labelIndex && !float.TryParse(fields[column], NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return true;
        return false;
    }

    static float ParseNumber(string field, string name, int line, int column, string[]? header)
    {
        if (float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && float.IsFinite(value)) return value;
        string found = field.Length == 0 ? "an empty field" : InputFile.Quote(field);
        throw new InvalidDataException($"{name} line {line}, column {Describe(column, header)}: expected a finite number, found {found}.");
    }

    /// <summary>"3 ('petal_length')": 1-based like the line numbers, with the header's name when there is one.</summary>
    static string Describe(int column, string[]? header) =>
        header == null ? $"{column + 1}" : $"{column + 1} ({InputFile.Quote(header[column])})";

    static int FindColumn(string path, string[] header, string labelColumn)
    {
        int index = Array.IndexOf(header, labelColumn);
        if (index < 0)
            throw new ArgumentException(
                InputFile.OneLine($"{Path.GetFileName(path)} has no column '{labelColumn}'; its header names: {string.Join(", ", header.Select(h => InputFile.Quote(h)))}."),
                nameof(labelColumn));
        return index;
    }
}
