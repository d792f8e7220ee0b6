using System.Text.Json;

namespace Experiments.Tests.Text;

/// <summary>
/// The reference scripts in tests/Experiments.Tests/Text/Reference (BERT's tokenizer from Google's algorithm, BERT in
/// PyTorch from Hugging Face's definition), run by Debian's Python (<see cref="Python"/>); `.ci/run` installs
/// python3-torch.
/// </summary>
internal static class ReferencePython
{
    public static JsonElement Run(string script, object input, params string[] modules)
    {
        Python.Require(modules);
        return Python.Json([Path.Combine(CliProcess.RepositoryRoot, "tests", "Experiments.Tests", "Text", "Reference", script)], input);
    }
}
