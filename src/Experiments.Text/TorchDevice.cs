using System.Runtime.InteropServices;
using Experiments.Core;
using TorchSharp;

namespace Experiments.Text;

/// <summary>
/// Chooses where tensors live: "auto" (CUDA when TorchSharp sees a GPU, else CPU), "cpu", or "cuda[:n]"; and in which type
/// matrix products run ("auto": bfloat16 on CUDA, float32 on CPU).
/// </summary>
public static class TorchDevice
{
    /// <summary>Environment variable naming a libtorch folder (e.g. a PyTorch install's torch/lib) to load instead of the packaged one.</summary>
    public const string LibTorchVariable = "EXPERIMENTS_LIBTORCH";

    public static readonly IReadOnlyList<string> Precisions = ["auto", "float32", "bfloat16", "float16"];

    public static torch.Device Resolve(string name)
    {
        try
        {
            TorchNative.EnsureLoaded();
            if (name == "auto") return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
            if (name == "cpu") return torch.CPU;
            if (name.StartsWith("cuda", StringComparison.Ordinal))
            {
                if (!torch.cuda.is_available())
                    throw new ExperimentsException($"Device '{name}' was asked for, but TorchSharp sees no CUDA GPU. This build loads the CPU libtorch unless it was built with -p:LibTorchPackage=cuda, or {LibTorchVariable} names a CUDA libtorch folder (see docs/text.md); use \"auto\" or \"cpu\".");
                var device = new torch.Device(name);
                var count = torch.cuda.device_count();
                if (device.index >= count)
                    throw new ExperimentsException($"Device '{name}' was asked for, but TorchSharp sees {count} CUDA GPU(s) (cuda:0 … cuda:{count - 1}).");
                return device;
            }
        }
        catch (TypeInitializationException e)
        {
            throw new ExperimentsException($"TorchSharp's native library could not be loaded: {e.InnerException?.Message ?? e.Message}", e);
        }
        catch (NotSupportedException e)
        {
            throw new ExperimentsException($"TorchSharp's native library could not be loaded: {e.Message.Split('\n')[0]} A build with -p:LibTorchPackage=none needs {LibTorchVariable} to name a libtorch folder (docs/text.md).", e);
        }
        throw new ExperimentsException($"Unknown device '{name}'; allowed: auto, cpu, cuda, cuda:N.");
    }

    /// <summary>The compute type for mixed precision: null means float32 throughout.</summary>
    public static torch.ScalarType? ComputeType(string precision, torch.Device device) => precision switch
    {
        "auto" => device.type == DeviceType.CUDA ? torch.ScalarType.BFloat16 : null,
        "float32" => null,
        "bfloat16" => torch.ScalarType.BFloat16,
        "float16" => torch.ScalarType.Float16,
        _ => throw new ExperimentsException(Core.Definitions.DefinitionValidator.UnknownValue($"precision '{precision}'", precision, Precisions)),
    };

    /// <summary>
    /// Loads libtorch from a folder before TorchSharp does: its libraries, loaded by full path, satisfy
    /// libLibTorchSharp's needs by name, so a machine with PyTorch installed (CUDA included) needs no libtorch package.
    /// It must run before the first TorchSharp call: <see cref="TorchNative.EnsureLoaded"/> does it (from the variable, or
    /// from the packaged libtorch), and a notebook may call <see cref="Load"/> in its first cell.
    /// </summary>
    public static class LibTorch
    {
        private static string? _loaded;

        public static bool IsLoaded => _loaded is not null;

        public static void LoadFromEnvironment()
        {
            if (Environment.GetEnvironmentVariable(LibTorchVariable) is { Length: > 0 } folder) Load(folder);
        }

        public static void Load(string folder)
        {
            if (_loaded == folder) return;
            // A PyTorch install may be named by its package folder (…/site-packages/torch) instead of its lib folder.
            var lib = File.Exists(Path.Combine(folder, "libtorch.so")) ? folder : Path.Combine(folder, "lib");
            if (!File.Exists(Path.Combine(lib, "libtorch.so")))
                throw new ExperimentsException($"{LibTorchVariable}={folder}: no libtorch.so there or in its lib folder; name a libtorch 'lib' folder or a PyTorch install's 'torch' folder.");
            foreach (var name in new[] { "libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so" })
            {
                var path = Path.Combine(lib, name);
                if (File.Exists(path) && !NativeLibrary.TryLoad(path, out _))
                    throw new ExperimentsException($"{path}: the library exists but could not be loaded (a missing dependency, or a libtorch built for another platform).");
            }
            _loaded = folder;
        }
    }
}
