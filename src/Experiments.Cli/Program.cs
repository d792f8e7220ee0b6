using Experiments.Cli;

// A libtorch named by EXPERIMENTS_LIBTORCH (e.g. a CUDA PyTorch's) must be loaded before TorchSharp loads its own.
return await CommandLine.Run(args, () => Experiments.Text.TorchDevice.LibTorch.LoadFromEnvironment());
