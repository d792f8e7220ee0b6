using Experiments.Text;
using TorchSharp;

namespace Experiments.Tests.Text;

[TestClass]
[DoNotParallelize] // libtorch's random generator is global: see TestDevice.
public sealed class TorchSharpTests
{
    [TestMethod]
    public void TorchSharp_loads_and_computes_on_the_test_device()
    {
        // On Debian 12 this passes only because TorchNative loads a copy of libLibTorchSharp.so whose GLIBCXX_3.4.32 need is weak.
        var device = TorchDevice.Resolve(TestDevice.Name);
        using var a = torch.arange(6, dtype: torch.float32, device: device).reshape(2, 3);
        using var b = torch.ones(3, 2, device: device);
        using var product = a.matmul(b);
        CollectionAssert.AreEqual(new float[] { 3, 3, 12, 12 }, product.cpu().data<float>().ToArray());
        Assert.AreEqual(TestDevice.IsCuda ? DeviceType.CUDA : DeviceType.CPU, TorchDevice.Resolve("auto").type, "auto is CUDA exactly when the tests run on a GPU");
        Assert.AreEqual(TestDevice.IsCuda ? torch.ScalarType.BFloat16 : null, TorchDevice.ComputeType("auto", TorchDevice.Resolve("auto")), "auto precision: bfloat16 on CUDA, float32 on CPU");
    }

    [TestMethod]
    public void Unknown_or_missing_devices_are_clear_errors()
    {
        StringAssert.Contains(Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => TorchDevice.Resolve("tpu")).Message, "allowed: auto, cpu, cuda, cuda:N");
        if (!torch.cuda.is_available())
            StringAssert.Contains(Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => TorchDevice.Resolve("cuda:0")).Message, "sees no CUDA GPU");
        else
            StringAssert.Contains(Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => TorchDevice.Resolve("cuda:99")).Message, "cuda:0 … cuda:");
        StringAssert.Contains(Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => TorchDevice.ComputeType("half", torch.CPU)).Message, "allowed: auto, float32, bfloat16, float16");
        using var folder = new TempFolder();
        StringAssert.Contains(Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => TorchDevice.LibTorch.Load(folder.Path)).Message, "no libtorch.so there or in its lib folder");
    }
}
