using System.Text.Json;

namespace Experiments.Tests.Evaluation;

/// <summary>
/// Runs a Python snippet with Debian's scikit-learn or numpy (/usr/bin/python3) on JSON input and returns its JSON
/// output: the independent reference our metrics and solvers are checked against. `.ci/run` installs python3-sklearn and
/// python3-numpy.
/// </summary>
internal static class ScikitLearn
{
    /// <param name="module">The Python module the snippet needs: sklearn or numpy.</param>
    public static JsonElement Run(string script, object input, string module = "sklearn")
    {
        Python.Require(module);
        return Python.Json(["-c", "import json, sys\nimport numpy as np\ndata = json.load(sys.stdin)\n" + script], input);
    }
}
