using Sinapse.Data;
using Sinapse.Models;
using Sinapse.Vision;

namespace Sinapse.Tests.Vision;

public class PretrainedTests
{
    static readonly Lazy<MobileNet> V1 = new(Pretrained.MobileNetV1);
    static readonly Lazy<MobileNet> V2 = new(Pretrained.MobileNetV2);

    // TensorFlow's ImageNet-trained MobileNets, imported from the TFLite files in models/, on the
    // reference photos in data/photos (224×224, whole image, inputs in [−1, 1]).
    [Theory]
    [InlineData("mobilenet_v1_0.25", "cat.png", "Egyptian cat")]
    [InlineData("mobilenet_v1_0.25", "grace_hopper.png", "military uniform")]
    [InlineData("mobilenet_v1_0.25", "burger.jpg", "cheeseburger")]
    [InlineData("mobilenet_v2", "cat.png", "Egyptian cat")]
    [InlineData("mobilenet_v2", "grace_hopper.png", "military uniform")]
    [InlineData("mobilenet_v2", "burger.jpg", "cheeseburger")]
    public void ClassifiesTheReferencePhotos(string model, string photo, string expected)
    {
        var image = Images.Load(Path.Combine(AppContext.BaseDirectory, "Photos", photo));
        var top = Pretrained.Classify(model == "mobilenet_v2" ? V2.Value : V1.Value, image, 5);
        Assert.True(top[0].Label == expected, $"{model} on {photo}: {string.Join("; ", top.Select(t => $"{t.Label} {t.Probability:P1}"))}");
        Assert.InRange(top.Sum(t => t.Probability), 0f, 1.0001f);
    }

    [Fact]
    public void ModelsAndLabels()
    {
        Assert.Equal(1001, Pretrained.ImageNetLabels.Count);
        Assert.Equal("background", Pretrained.ImageNetLabels[0]);
        Assert.Equal(467_593, V1.Value.ParameterCount());
        Assert.Equal(3_489_097, V2.Value.ParameterCount());
        Assert.False(V2.Value.Training);
        Assert.Contains("mobilenet_v2", Assert.Throws<ArgumentException>(() => Pretrained.Load("resnet50")).Message);
    }
}
