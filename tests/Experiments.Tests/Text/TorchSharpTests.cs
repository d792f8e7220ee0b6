using Experiments.Text;
using TorchSharp;

namespace Experiments.Tests.Text;

[TestClass]
public sealed class TorchSharpTests
{
    [TestMethod]
    public void TorchSharp_loads_and_computes_on_the_cpu()
    {
        // On Debian 12 this passes only because the build marks libLibTorchSharp.so's GLIBCXX_3.4.32 need weak.
        var device = TorchDevice.Resolve("cpu");
        using var a = torch.arange(6, dtype: torch.float32, device: device).reshape(2, 3);
        using var b = torch.ones(3, 2, device: device);
        using var product = a.matmul(b);
        CollectionAssert.AreEqual(new float[] { 3, 3, 12, 12 }, product.data<float>().ToArray());
        Assert.AreEqual(torch.CPU.type, TorchDevice.Resolve("auto").type, "no GPU on this machine: auto is the CPU");
    }

    [TestMethod]
    public void Unknown_or_missing_devices_are_clear_errors()
    {
        StringAssert.Contains(Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => TorchDevice.Resolve("tpu")).Message, "allowed: auto, cpu, cuda, cuda:N");
        if (!torch.cuda.is_available())
            StringAssert.Contains(Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => TorchDevice.Resolve("cuda:0")).Message, "sees no CUDA GPU");
    }
}
