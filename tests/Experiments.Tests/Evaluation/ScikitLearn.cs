using System.Text.Json;

namespace Experiments.Tests.Evaluation;

/// <summary>
/// Runs a Python snippet with Debian's scikit-learn (/usr/bin/python3) on JSON input and returns its JSON output:
/// the independent reference our metrics are checked against. `.ci/run` installs python3-sklearn.
/// </summary>
internal static class ScikitLearn
{
    public static JsonElement Run(string script, object input)
    {
        Python.Require("sklearn");
        return Python.Json(["-c", "import json, sys\nimport numpy as np\ndata = json.load(sys.stdin)\n" + script], input);
    }
}
