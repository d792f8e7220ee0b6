using System.CommandLine;
using Experiments.Cli;
using Experiments.Core;

var root = new RootCommand("Experiments: define, run, evaluate and compare recommendation and search experiments.");
RunCommands.Add(root);
StoreCommands.Add(root);
DatasetCommands.Add(root);
EvaluateCommands.Add(root);
SearchCommands.Add(root);

// Ctrl+C cancels the token the commands receive; they stop at the next safe point and keep what finished.
var configuration = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30), EnableDefaultExceptionHandler = false };
try
{
    // A libtorch named by EXPERIMENTS_LIBTORCH (e.g. a CUDA PyTorch's) must be loaded before TorchSharp loads its own.
    Experiments.Text.TorchDevice.LibTorch.LoadFromEnvironment();
    return await root.Parse(args).InvokeAsync(configuration);
}
catch (ExperimentsException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return ExitCodes.InvalidInput;
}
