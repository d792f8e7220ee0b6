using System.Diagnostics;
using System.Text.RegularExpressions;
using Experiments.Text;

namespace Experiments.Tests.Text;

/// <summary>
/// The load-time GLIBCXX handling, checked against binutils' readelf (an independent reader of the same ELF sections).
/// </summary>
[TestClass]
public sealed class TorchNativeTests
{
    private static string PackagedLibTorchSharp =>
        TorchNative.NativeFolders(typeof(TorchSharp.torch).Assembly).Select(f => Path.Combine(f, "libLibTorchSharp.so")).First(File.Exists);

    [TestMethod]
    public void Marking_the_version_need_weak_changes_that_flag_alone()
    {
        var bytes = File.ReadAllBytes(PackagedLibTorchSharp);
        using var folder = new TempFolder();
        var before = Path.Combine(folder.Path, "before.so");
        File.WriteAllBytes(before, bytes);
        var needs = VersionNeeds(before);
        Assert.AreEqual("none", Flags(needs), "TorchSharp 0.107's library needs GLIBCXX_3.4.32 strongly");
        Assert.IsTrue(ElfVersions.Requires(bytes, TorchNative.GlibcxxVersion));

        Assert.IsTrue(ElfVersions.MarkWeak(bytes, TorchNative.GlibcxxVersion));
        var after = Path.Combine(folder.Path, "after.so");
        File.WriteAllBytes(after, bytes);
        var patched = VersionNeeds(after);
        Assert.AreEqual("WEAK", Flags(patched));
        CollectionAssert.AreEqual(needs.Where(n => n.Key != TorchNative.GlibcxxVersion).ToList(), patched.Where(n => n.Key != TorchNative.GlibcxxVersion).ToList(), "every other need keeps its flags");
        Assert.IsFalse(ElfVersions.Requires(bytes, TorchNative.GlibcxxVersion));
        Assert.IsFalse(ElfVersions.MarkWeak(bytes, TorchNative.GlibcxxVersion), "nothing left to mark");
        Assert.AreEqual(File.ReadAllBytes(before).Length, bytes.Length);
    }

    [TestMethod]
    public void The_versions_libstdcxx_defines_are_those_readelf_lists()
    {
        var libstdcxx = SystemLibStdCxx();
        var bytes = File.ReadAllBytes(libstdcxx);
        var defined = VersionDefinitions(libstdcxx);
        Assert.IsTrue(defined.Contains("GLIBCXX_3.4"), "readelf lists libstdc++'s versions");
        foreach (var version in new[] { "GLIBCXX_3.4", "GLIBCXX_3.4.21", "GLIBCXX_3.4.30", "GLIBCXX_3.4.31", TorchNative.GlibcxxVersion, "CXXABI_1.3", "GLIBCXX_9.9" })
            Assert.AreEqual(defined.Contains(version), ElfVersions.Defines(bytes, version), version);
    }

    [TestMethod]
    public void The_patched_copy_is_loaded_exactly_when_libstdcxx_lacks_the_version()
    {
        TorchNative.EnsureLoaded();
        using var tensor = TorchSharp.torch.ones(2);
        var lacking = !VersionDefinitions(SystemLibStdCxx()).Contains(TorchNative.GlibcxxVersion);
        var loaded = TorchNative.LibTorchSharpPath!;
        Assert.AreEqual(lacking, loaded.StartsWith(TorchNative.CacheFolder, StringComparison.Ordinal), $"loaded {loaded}");
        if (lacking) Assert.AreEqual("WEAK", Flags(VersionNeeds(loaded)));
        Assert.AreEqual("none", Flags(VersionNeeds(PackagedLibTorchSharp)), "the original file is left as it was");
    }

    private static string SystemLibStdCxx() =>
        new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" }.First(File.Exists);

    /// <summary>readelf's version-needs listing: each needed version with its flags ("none", "WEAK", …).</summary>
    private static List<KeyValuePair<string, string>> VersionNeeds(string path) =>
        Regex.Matches(ReadElf(path), @"Name: (\S+)\s+Flags: (\S+)\s+Version:").Select(m => KeyValuePair.Create(m.Groups[1].Value, m.Groups[2].Value)).ToList();

    private static string Flags(List<KeyValuePair<string, string>> needs) => needs.Single(n => n.Key == TorchNative.GlibcxxVersion).Value;

    /// <summary>readelf's version-definition listing: the names defined (the "Name:" of each definition).</summary>
    private static HashSet<string> VersionDefinitions(string path)
    {
        var text = ReadElf(path);
        var start = text.IndexOf("Version definition section", StringComparison.Ordinal);
        var end = text.IndexOf("Version needs section", start, StringComparison.Ordinal);
        var section = text[start..(end < 0 ? text.Length : end)];
        return Regex.Matches(section, @"Name: (\S+)").Select(m => m.Groups[1].Value).ToHashSet();
    }

    private static string ReadElf(string path)
    {
        var info = new ProcessStartInfo("readelf", ["-V", "--wide", path]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.AreEqual(0, process.ExitCode, $"readelf -V {path}");
        return output;
    }
}
