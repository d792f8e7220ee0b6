using Experiments.Datasets;

namespace Experiments.Tests.Datasets;

[TestClass]
public sealed class DataDirectoryTests
{
    [TestMethod]
    public void Option_then_environment_then_shared_then_cache()
    {
        using var work = new TempFolder();
        Directory.CreateDirectory(Path.Combine(work.Path, "shared", "datasets"));
        var project = Path.Combine(work.Path, "project");
        Directory.CreateDirectory(project);
        var locations = DataDirectory.Resolve("/opt/data", "/env/data", project);
        Assert.AreEqual("/opt/data", locations[0].Path);
        Assert.AreEqual("--data-dir option", locations[0].Origin);
        Assert.AreEqual("/env/data", locations[1].Path);
        Assert.AreEqual(Path.Combine(work.Path, "shared", "datasets"), locations[2].Path);
        Assert.AreEqual(DataDirectory.UserCache, locations[^1].Path);
    }

    [TestMethod]
    public void Without_option_or_environment_the_shared_folder_comes_first()
    {
        using var work = new TempFolder();
        var project = Path.Combine(work.Path, "project");
        Directory.CreateDirectory(project);
        var locations = DataDirectory.Resolve(null, "", project);
        Assert.AreEqual(DataDirectory.UserCache, locations[^1].Path);
        Assert.IsFalse(locations.Any(l => l.Origin.Contains("option") || l.Origin.Contains("environment")));
    }
}
