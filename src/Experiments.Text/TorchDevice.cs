using Experiments.Core;
using TorchSharp;

namespace Experiments.Text;

/// <summary>Chooses where tensors live: "auto" (CUDA when TorchSharp sees a GPU, else CPU), "cpu", or "cuda[:n]".</summary>
public static class TorchDevice
{
    public static torch.Device Resolve(string name)
    {
        try
        {
            if (name == "auto") return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
            if (name == "cpu") return torch.CPU;
            if (name.StartsWith("cuda", StringComparison.Ordinal))
            {
                if (!torch.cuda.is_available())
                    throw new ExperimentsException($"Device '{name}' was asked for, but TorchSharp sees no CUDA GPU (this build uses the {(typeof(torch).Assembly.GetName().Name)} CPU libtorch unless built with -p:LibTorchPackage=cuda); use \"auto\" or \"cpu\".");
                return new torch.Device(name);
            }
        }
        catch (TypeInitializationException e)
        {
            throw new ExperimentsException($"TorchSharp's native library could not be loaded: {e.InnerException?.Message ?? e.Message}", e);
        }
        throw new ExperimentsException($"Unknown device '{name}'; allowed: auto, cpu, cuda, cuda:N.");
    }
}
