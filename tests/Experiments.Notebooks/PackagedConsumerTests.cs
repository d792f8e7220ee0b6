using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Experiments.Notebooks;

/// <summary>
/// A console program outside the repository, referencing the packed Experiments.Text from artifacts/packages the way
/// any consumer would, loads TorchSharp's native library and trains a tiny encoder.
/// </summary>
[TestClass]
public sealed class PackagedConsumerTests
{
    private const string Program = """
        using Experiments.Text;

        TorchNative.EnsureLoaded();
        TorchSharp.torch.manual_seed(1);
        string[] titles = ["red running shoe size 42", "red running shoes 42", "blue denim jacket", "denim jacket blue",
            "usb c charger 65w", "65w usb-c charger", "wireless mouse black", "black wireless mouse"];
        var vocabulary = TextTokenizer.LearnVocabulary(titles, 200);
        var encoder = new BertEncoder(new EncoderOptions { VocabularySize = vocabulary.Count, HiddenSize = 32, Layers = 1, AttentionHeads = 2, IntermediateSize = 64, MaxPositions = 16 });
        var pairs = Enumerable.Range(0, titles.Length / 2).Select(i => (titles[2 * i], titles[2 * i + 1])).ToList();
        var history = new EncoderTrainer(encoder, new TextTokenizer(vocabulary), new EncoderTrainingOptions { Epochs = 12, BatchSize = 4, LearningRate = 3e-3, MaxLength = 16, Device = "cpu" })
            .TrainContrastive(pairs);
        Console.WriteLine($"libLibTorchSharp: {TorchNative.LibTorchSharpPath}");
        foreach (var epoch in history) Console.WriteLine($"epoch {epoch.Epoch}: loss {epoch.TrainLoss:R}");
        """;

    [TestMethod]
    public void A_program_referencing_the_packages_loads_TorchSharp_and_trains_an_encoder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "experiments-packaged-consumer", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, "Consumer.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                    <NoWarn>NU1603</NoWarn>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Experiments.Text" Version="{LocalPackages.Version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
                <configuration>
                  <packageSources>
                    <add key="experiments-local" value="{LocalPackages.Folder}" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(folder, "Program.cs"), Program);
            var packaged = PackagedLibTorchSharp();
            var before = packaged is null ? null : SHA256.HashData(File.ReadAllBytes(packaged));

            var (code, output) = LocalPackages.Dotnet(folder, LocalPackages.NuGetEnvironment, TimeSpan.FromMinutes(10), "run", "-c", "Release");
            Assert.AreEqual(0, code, output);

            var losses = Regex.Matches(output, @"epoch (\d+): loss (\S+)").Select(m => double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.HasCount(12, losses, output);
            Assert.IsTrue(losses.All(double.IsFinite), output);
            Assert.IsLessThan(losses[0], losses[^1], $"training lowers the contrastive loss on its own pairs:\n{output}");
            var loaded = Regex.Match(output, "libLibTorchSharp: (.+)").Groups[1].Value.Trim();
            Assert.IsTrue(File.Exists(loaded), output);
            Assert.IsFalse(loaded.StartsWith(LocalPackages.RepositoryRoot, StringComparison.Ordinal), $"loaded from the repository's build outputs: {loaded}");
            if (packaged is not null)
                CollectionAssert.AreEqual(before, SHA256.HashData(File.ReadAllBytes(packaged)), "the NuGet cache's libLibTorchSharp.so is never changed");
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>TorchSharp's native library as the package folders hold it (the tests' own, or the user's as a fallback).</summary>
    private static string? PackagedLibTorchSharp() =>
        LocalPackages.NuGetEnvironment.Values.SelectMany(root => root.Split(Path.PathSeparator))
            .Select(root => Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so"))
            .FirstOrDefault(File.Exists);
}
