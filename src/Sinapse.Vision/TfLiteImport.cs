using Sinapse.Layers;
using Sinapse.IO;
using Sinapse.Models;

namespace Sinapse.Vision;

/// <summary>
/// Imports ImageNet-trained MobileNets from TensorFlow Lite files (such as TensorFlow's
/// mobilenet_v1_0.25_224_float.tflite and mobilenet_v2_1.0_224_quant.tflite) into the zoo's
/// <see cref="MobileNet"/> models, built with batch norm folded into the convolutions' biases and
/// TensorFlow's "SAME" padding, as the files were trained. Quantised weights are dequantised to
/// float32. The file's graph is checked against the model operator by operator: an operator the
/// importer does not know is named in the error, as is any convolution whose shape, stride,
/// padding or fused activation does not fit.
/// </summary>
public static class TfLiteImport
{
    private static readonly HashSet<string> Supported = ["CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "AVERAGE_POOL_2D", "RESHAPE", "SQUEEZE", "SOFTMAX"];

    /// <summary>Reads a MobileNetV1 or V2 TFLite file (told apart by its residual additions) into a new model.</summary>
    public static MobileNet Load(string path) => Load(TfLiteModel.Load(path), path);

    public static MobileNet Load(TfLiteModel file, string source = "the TFLite model")
    {
        foreach (var (op, index) in file.Operators.Select((op, i) => (op, i)))
            if (!Supported.Contains(op.Name))
                throw new NotSupportedException($"{source}: operator {index} is {op.Name}, which the MobileNet importer does not support (it supports {string.Join(", ", Supported.Order())}).");
        var convolutions = file.Operators.Where(op => op.Name is "CONV_2D" or "DEPTHWISE_CONV_2D").ToList();
        if (convolutions.Count < 2) throw new InvalidDataException($"{source} has {convolutions.Count} convolutions; a MobileNet has dozens.");
        var input = file.Tensors[file.Inputs[0]];
        if (input.Shape.Length != 4 || input.Shape[3] != 3)
            throw new InvalidDataException($"{source}: the input {input} is not an NHWC batch of RGB images.");
        int stem = file.Tensors[convolutions[0].Inputs[1]].Shape[0];
        int classes = file.Tensors[convolutions[^1].Inputs[1]].Shape[0];
        var options = new ConvNormOptions(FoldedBatchNorm: true, TensorFlowPadding: true);
        bool residual = file.Operators.Any(op => op.Name == "ADD");
        // The stem has 32·α channels in both (V2 rounds to a multiple of 8).
        var model = residual ? MobileNet.V2(classes, stem / 32f, options: options) : MobileNet.V1(classes, stem / 32f, options: options);
        LoadInto(model, file, source);
        model.Eval();
        return model;
    }

    /// <summary>
    /// Copies the file's convolution weights and biases, in execution order, into the model's
    /// convolutions, and the last 1×1 convolution (TensorFlow's logits layer) into the classifier's
    /// Linear. TFLite keeps convolution weights as [out, kH, kW, in] and depthwise ones as
    /// [1, kH, kW, channels]; both become PyTorch's [out, in/groups, kH, kW]. Everything is checked
    /// before anything is copied.
    /// </summary>
    public static void LoadInto(MobileNet model, TfLiteModel file, string source = "the TFLite model")
    {
        var convolutions = file.Operators.Select((op, i) => (op, i)).Where(p => p.op.Name is "CONV_2D" or "DEPTHWISE_CONV_2D").ToList();
        var layers = model.Features.NamedModules().Select(m => m.Module).OfType<Conv2d>().ToList();
        var head = model.Classifier.Layers.OfType<Linear>().ToList();
        if (head.Count != 1 || layers.Count + 1 != convolutions.Count)
            throw new InvalidDataException($"{source} has {convolutions.Count} convolutions, but the {model.Architecture} needs {layers.Count} and one for the logits.");
        int additions = file.Operators.Count(op => op.Name == "ADD");
        int residuals = model.Features.Layers.OfType<InvertedResidual>().Count(block => block.UsesResidual);
        if (additions != residuals) throw new InvalidDataException($"{source} has {additions} residual additions, the {model.Architecture} {residuals}.");

        var copies = new List<Action>();
        for (int n = 0; n < layers.Count; n++)
        {
            var (op, index) = convolutions[n];
            var conv = layers[n];
            string where = $"{source}: operator {index} ({op.Name}, weight {file.Tensors[op.Inputs[1]]})";
            bool depthwise = conv.Groups > 1;
            if (depthwise != (op.Name == "DEPTHWISE_CONV_2D") || (depthwise && op.DepthMultiplier != 1))
                throw new InvalidDataException($"{where} does not fit the model's {conv.Path} {conv.Describe()}.");
            if (op.StrideHeight != conv.Stride || op.StrideWidth != conv.Stride || (conv.KernelSize > 1 && op.Padding != "SAME"))
                throw new InvalidDataException($"{where} has stride {op.StrideHeight}x{op.StrideWidth} and padding {op.Padding}; the model's {conv.Path} {conv.Describe()} needs stride {conv.Stride} and SAME.");
            var expected = FollowedByRelu6(conv) ? TfLiteActivation.Relu6 : TfLiteActivation.None;
            if (op.Activation != expected)
                throw new InvalidDataException($"{where} has the fused activation {op.Activation}; the model's {conv.Path} is followed by {expected}.");
            copies.Add(Convolution(file, op, conv, where));
        }
        var (logits, logitsIndex) = convolutions[^1];
        copies.Add(Logits(file, logits, head[0], $"{source}: operator {logitsIndex} (the logits, weight {file.Tensors[logits.Inputs[1]]})"));
        foreach (var copy in copies) copy();
    }

    private static bool FollowedByRelu6(Conv2d conv)
    {
        if (conv.Parent is not Sequential parent) return false;
        int at = parent.Layers.ToList().IndexOf(conv);
        return at + 1 < parent.Count && parent[at + 1] is Relu6;
    }

    private static Action Convolution(TfLiteModel file, TfLiteOperator op, Conv2d conv, string where)
    {
        var weight = file.Tensors[op.Inputs[1]];
        var shape = weight.Shape;
        int outChannels = conv.OutChannels, inPerGroup = conv.InChannels / conv.Groups, k = conv.KernelSize;
        int[] expected = conv.Groups > 1 ? [1, k, k, outChannels] : [outChannels, k, k, inPerGroup];
        if (!shape.SequenceEqual(expected))
            throw new InvalidDataException($"{where} has shape [{string.Join(", ", shape)}]; the model's {conv.Path} {conv.Describe()} needs [{string.Join(", ", expected)}].");
        var bias = op.Inputs.Length > 2 && op.Inputs[2] >= 0 ? file.Tensors[op.Inputs[2]] : null;
        if (bias == null || bias.ElementCount != outChannels || conv.Bias == null)
            throw new InvalidDataException($"{where} needs a bias of {outChannels} values (batch norm folded into it).");
        return () =>
        {
            var source = file.ReadFloats(weight);
            var target = conv.Weight.Span;
            // [O, kH, kW, I] (depthwise: [1, kH, kW, O] with I = 1 per group) → [O, I, kH, kW].
            for (int o = 0; o < outChannels; o++)
                for (int i = 0; i < inPerGroup; i++)
                    for (int h = 0; h < k; h++)
                        for (int w = 0; w < k; w++)
                            target[((o * inPerGroup + i) * k + h) * k + w] = conv.Groups > 1
                                ? source[(h * k + w) * outChannels + o]
                                : source[((o * k + h) * k + w) * inPerGroup + i];
            file.ReadFloats(bias).CopyTo(conv.Bias!.Span);
        };
    }

    private static Action Logits(TfLiteModel file, TfLiteOperator op, Linear linear, string where)
    {
        var weight = file.Tensors[op.Inputs[1]];
        var bias = op.Inputs.Length > 2 && op.Inputs[2] >= 0 ? file.Tensors[op.Inputs[2]] : null;
        int[] expected = [linear.Weight.Shape[0], 1, 1, linear.Weight.Shape[1]];
        if (!weight.Shape.SequenceEqual(expected) || bias == null || bias.ElementCount != expected[0] || linear.Bias == null)
            throw new InvalidDataException($"{where} does not fit the classifier {linear.Describe()}: it needs a 1×1 convolution [{string.Join(", ", expected)}] with a bias.");
        return () =>
        {
            file.ReadFloats(weight).CopyTo(linear.Weight.Span);
            file.ReadFloats(bias).CopyTo(linear.Bias!.Span);
        };
    }
}
