using System.Globalization;
using System.Numerics;
using System.Text;

namespace Sinapse.Tensors;

/// <summary>
/// Printing, character for character as PyTorch prints a float32 tensor with its default options
/// (torch/_tensor_str.py): 4 decimals, integer-valued tensors as "1., 2.", scientific notation
/// when the nonzero magnitudes span more than a factor of 1000 or reach beyond 1e8 (or, unless all
/// are integers, below 1e-4), aligned columns, rows wrapped at 80 characters, and beyond 1000
/// elements only the first and last 3 entries of each axis around "...".
/// </summary>
public sealed partial class Tensor
{
    private const int PrintPrecision = 4, PrintThreshold = 1000, PrintEdgeItems = 3, PrintLineWidth = 80;
    private const string PrintPrefix = "tensor(";

    public override string ToString()
    {
        var suffixes = new List<string>();
        if (Length == 0 && Rank != 1 || (viewOf ?? this).buffer == null) suffixes.Add("size=(" + string.Join(", ", Shape.ToArray()) + (Rank == 1 ? ",)" : ")"));
        if (Node != null) suffixes.Add($"grad_fn=<{Node.Op}Backward>");
        else if (RequiresGrad) suffixes.Add("requires_grad=True");

        string body;
        if ((viewOf ?? this).buffer == null) body = "<released>";
        else if (Length == 0) body = "[]";
        else
        {
            bool summarize = Length > PrintThreshold;
            var format = new PrintFormat(summarize ? SummarizedValues() : Span.ToArray());
            var text = new StringBuilder();
            AppendPrinted(text, format, summarize, 0, 0, PrintPrefix.Length);
            body = text.ToString();
        }
        return AppendSuffixes(PrintPrefix + body, suffixes);
    }

    /// <summary>The suffixes after ", ", each moved to a line of its own when it would pass the line width.</summary>
    private static string AppendSuffixes(string text, List<string> suffixes)
    {
        var result = new StringBuilder(text);
        // torch's count: the last line's length plus 2 (plus 1 more when there is no line break).
        int lastLineLength = text.Length - text.LastIndexOf('\n') + 1;
        foreach (var suffix in suffixes)
        {
            if (lastLineLength + suffix.Length + 2 > PrintLineWidth)
            {
                result.Append(",\n").Append(' ', PrintPrefix.Length).Append(suffix);
                lastLineLength = PrintPrefix.Length + suffix.Length;
            }
            else
            {
                result.Append(", ").Append(suffix);
                lastLineLength += suffix.Length + 2;
            }
        }
        return result.Append(')').ToString();
    }

    /// <summary>The indices of an axis that get printed: all, or the first and last few when summarising.</summary>
    private static IEnumerable<int> PrintedIndices(int size, bool summarize) =>
        summarize && size > 2 * PrintEdgeItems
            ? Enumerable.Range(0, PrintEdgeItems).Concat(Enumerable.Range(size - PrintEdgeItems, PrintEdgeItems))
            : Enumerable.Range(0, size);

    /// <summary>The values a summarised print shows; their widths and magnitudes alone set the format.</summary>
    private float[] SummarizedValues()
    {
        var values = new List<float>();
        void Collect(int axis, int start)
        {
            if (axis == Rank) { values.Add(Span[start]); return; }
            int stride = PrintStride(axis);
            foreach (int i in PrintedIndices(Shape[axis], true)) Collect(axis + 1, start + i * stride);
        }
        Collect(0, 0);
        return values.ToArray();
    }

    private int PrintStride(int axis)
    {
        int stride = 1;
        for (int a = axis + 1; a < Rank; a++) stride *= Shape[a];
        return stride;
    }

    private void AppendPrinted(StringBuilder text, PrintFormat format, bool summarize, int axis, int start, int indent)
    {
        if (Rank == 0) { text.Append(format.Format(Span[0])); return; }
        int size = Shape[axis], stride = PrintStride(axis);
        bool elided = summarize && size > 2 * PrintEdgeItems;
        text.Append('[');
        if (axis == Rank - 1)
        {
            var entries = PrintedIndices(size, summarize).Select(i => format.Format(Span[start + i])).ToList();
            if (elided) entries.Insert(PrintEdgeItems, " ...");
            int perLine = Math.Max(1, (PrintLineWidth - indent) / (format.Width + 2));
            for (int i = 0; i < entries.Count; i++)
            {
                if (i > 0) text.Append(i % perLine == 0 ? ",\n" + new string(' ', indent + 1) : ", ");
                text.Append(entries[i]);
            }
        }
        else
        {
            // Sub-tensors of rank r are separated by r − 1 blank lines.
            string separator = "," + new string('\n', Rank - axis - 1) + new string(' ', indent + 1);
            bool first = true;
            foreach (int i in PrintedIndices(size, summarize))
            {
                if (!first) text.Append(separator);
                if (elided && i == size - PrintEdgeItems) text.Append("...").Append(separator);
                AppendPrinted(text, format, summarize, axis + 1, start + i * stride, indent + 1);
                first = false;
            }
        }
        text.Append(']');
    }

    /// <summary>torch's _Formatter: one notation and one width for every value of a tensor.</summary>
    private sealed class PrintFormat
    {
        private readonly bool integers = true, scientific;

        public int Width { get; } = 1;

        public PrintFormat(float[] values)
        {
            var shown = values.Where(v => float.IsFinite(v) && v != 0).ToArray();
            if (shown.Length == 0) return;
            double smallest = shown.Min(v => Math.Abs((double)v)), largest = shown.Max(v => Math.Abs((double)v));
            integers = shown.All(v => v == MathF.Ceiling(v));
            scientific = largest / smallest > 1000 || largest > 1e8 || !integers && smallest < 1e-4;
            // An integer-valued tensor's entries get a "." after their digits.
            Width = shown.Max(v => Format(v).Length);
        }

        public string Format(float value)
        {
            string text = scientific ? Scientific(value, PrintPrecision)
                : integers ? Fixed(value, 0) + (float.IsFinite(value) ? "." : "")
                : Fixed(value, PrintPrecision);
            return text.PadLeft(Width);
        }
    }

    /// <summary>Python's "{:.Nf}": N decimals, rounded half to even from the exact binary value.</summary>
    private static string Fixed(double value, int decimals)
    {
        if (!double.IsFinite(value)) return NonFinite(value);
        var digits = RoundedDigits(Math.Abs(value), decimals).ToString(CultureInfo.InvariantCulture).PadLeft(decimals + 1, '0');
        var text = decimals == 0 ? digits : digits[..^decimals] + "." + digits[^decimals..];
        return double.IsNegative(value) ? "-" + text : text;
    }

    /// <summary>Python's "{:.Ne}": one digit, N decimals and a signed exponent of at least two digits.</summary>
    private static string Scientific(double value, int decimals)
    {
        if (!double.IsFinite(value)) return NonFinite(value);
        double magnitude = Math.Abs(value);
        int exponent = magnitude == 0 ? 0 : (int)Math.Floor(Math.Log10(magnitude));
        var digits = RoundedDigits(magnitude, decimals - exponent);
        // The logarithm can be off by one next to a power of ten, and rounding can carry into a new digit.
        var lower = BigInteger.Pow(10, decimals);
        while (magnitude != 0 && (digits < lower || digits >= 10 * lower))
        {
            exponent += digits < lower ? -1 : 1;
            digits = RoundedDigits(magnitude, decimals - exponent);
        }
        var mantissa = digits.ToString(CultureInfo.InvariantCulture).PadLeft(decimals + 1, '0');
        var text = mantissa[..1] + "." + mantissa[1..] + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
        return double.IsNegative(value) ? "-" + text : text;
    }

    private static string NonFinite(double value) => double.IsNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";

    /// <summary>magnitude·10^decimals rounded half to even, in exact arithmetic (magnitude = m·2^e exactly).</summary>
    private static BigInteger RoundedDigits(double magnitude, int decimals)
    {
        long bits = BitConverter.DoubleToInt64Bits(magnitude);
        int biasedExponent = (int)(bits >> 52) & 0x7FF;
        long mantissa = bits & ((1L << 52) - 1);
        if (biasedExponent == 0) biasedExponent = 1;
        else mantissa |= 1L << 52;
        int exponent = biasedExponent - 1075;
        BigInteger numerator = mantissa, denominator = BigInteger.One;
        if (exponent > 0) numerator <<= exponent;
        else denominator <<= -exponent;
        if (decimals > 0) numerator *= BigInteger.Pow(10, decimals);
        else denominator *= BigInteger.Pow(10, -decimals);
        var quotient = BigInteger.DivRem(numerator, denominator, out var remainder);
        var twice = remainder << 1;
        if (twice > denominator || twice == denominator && !quotient.IsEven) quotient += 1;
        return quotient;
    }
}
