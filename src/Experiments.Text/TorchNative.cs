using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Experiments.Core;
using TorchSharp;

namespace Experiments.Text;

/// <summary>
/// Loads TorchSharp's native libraries for any consumer — this repository's build outputs, a program that references
/// the packages, a notebook whose packages stay in the NuGet cache — before TorchSharp's own loader runs, which then
/// finds them by their sonames. libtorch comes from <see cref="TorchDevice.LibTorchVariable"/> or from where the
/// packages put it; then libLibTorchSharp.so.
/// <para>
/// TorchSharp 0.107's libLibTorchSharp.so asks for GLIBCXX_3.4.32 (GCC 13), which older libstdc++ (Debian 12's has
/// 3.4.30) lacks; glibc then refuses the library and TorchSharp reports a misleading "doesn't contain a reference to
/// libtorch-cpu". The only symbol at that version is GCC 13's iostream marker. Where the process's libstdc++ lacks the
/// version, a copy of the library whose version-need entry is marked weak (VER_FLG_WEAK) is written once to a cache
/// folder this library owns (<see cref="CacheFolder"/>, one subfolder per SHA-256 of the original) and loaded instead.
/// The original file, in the NuGet cache or an output folder, is never changed.
/// </para>
/// It must run before the first TorchSharp call: <see cref="TorchDevice.Resolve"/> and the encoder's constructor do it;
/// code that calls TorchSharp directly first calls <see cref="EnsureLoaded"/>.
/// </summary>
public static class TorchNative
{
    public const string GlibcxxVersion = "GLIBCXX_3.4.32";
    private const string LibTorchSharpFile = "libLibTorchSharp.so";
    private const string CpuPackage = "libtorch-cpu-linux-x64";
    private static readonly Lock Gate = new();
    private static IntPtr _handle;

    /// <summary>The libLibTorchSharp.so that was loaded (the package's own, or the patched copy); null before loading and off Linux x64.</summary>
    public static string? LibTorchSharpPath { get; private set; }

    /// <summary>Where patched copies live: $XDG_CACHE_HOME/experiments/native, else ~/.cache/experiments/native.</summary>
    public static string CacheFolder =>
        Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache ? cache
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "experiments", "native");

    public static void EnsureLoaded()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return;
        lock (Gate)
        {
            if (LibTorchSharpPath is not null) return;
            var torchSharp = typeof(torch).Assembly;
            var folders = NativeFolders(torchSharp);
            if (Environment.GetEnvironmentVariable(TorchDevice.LibTorchVariable) is { Length: > 0 } chosen) TorchDevice.LibTorch.Load(chosen);
            else if (!TorchDevice.LibTorch.IsLoaded)
            {
                var libtorch = folders.FirstOrDefault(f => File.Exists(Path.Combine(f, "libtorch.so")))
                    ?? throw new ExperimentsException($"No libtorch found for TorchSharp (looked in: {string.Join(", ", folders)}). Reference the {CpuPackage} package (a build with -p:LibTorchPackage=none ships none), or set {TorchDevice.LibTorchVariable} to a libtorch 'lib' folder or a PyTorch install's 'torch' folder (docs/text.md).");
                TorchDevice.LibTorch.Load(libtorch);
            }
            var original = folders.Select(f => Path.Combine(f, LibTorchSharpFile)).FirstOrDefault(File.Exists)
                ?? throw new ExperimentsException($"TorchSharp's {LibTorchSharpFile} was not found (looked in: {string.Join(", ", folders)}); the TorchSharp package's native assets are missing.");
            var path = ElfVersions.Requires(File.ReadAllBytes(original), GlibcxxVersion) && !ProcessLibStdCxxDefines(GlibcxxVersion) ? PatchedCopy(original) : original;
            try { _handle = NativeLibrary.Load(path); }
            catch (DllNotFoundException e) { throw new ExperimentsException($"TorchSharp's native library {path} could not be loaded: {e.Message}", e); }
            try { NativeLibrary.SetDllImportResolver(torchSharp, (name, _, _) => name == "LibTorchSharp" ? _handle : IntPtr.Zero); }
            catch (InvalidOperationException)
            {
                // Another resolver owns TorchSharp's imports; glibc still hands out the loaded library by its soname.
            }
            LibTorchSharpPath = path;
        }
    }

    /// <summary>
    /// Folders that may hold TorchSharp's and libtorch's native files, in order: the host's native search folders (an
    /// application's deps.json), TorchSharp.dll's own folder, and — when TorchSharp.dll sits in a NuGet package folder, as
    /// in a notebook — the TorchSharp package's runtimes folder and the CPU libtorch package of the version TorchSharp
    /// was built against, in that package folder or the user's.
    /// </summary>
    public static IReadOnlyList<string> NativeFolders(Assembly torchSharp)
    {
        var folders = new List<string>();
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string search)
            folders.AddRange(search.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        if (Path.GetDirectoryName(torchSharp.Location) is { Length: > 0 } own)
        {
            folders.Add(own);
            // <packages>/torchsharp/<version>/lib/<tfm>/TorchSharp.dll
            var package = Path.GetFullPath(Path.Combine(own, "..", ".."));
            if (Path.GetFileName(Path.GetDirectoryName(package)) is { } id && id.Equals("torchsharp", StringComparison.OrdinalIgnoreCase))
            {
                folders.Add(Path.Combine(package, "runtimes", "linux-x64", "native"));
                var roots = new[] { Path.GetDirectoryName(Path.GetDirectoryName(package)), Environment.GetEnvironmentVariable("NUGET_PACKAGES"),
                    Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages") };
                var version = LibTorchVersion(torchSharp);
                foreach (var root in roots.OfType<string>().Where(r => r.Length > 0))
                    folders.Add(Path.Combine(root, CpuPackage, version, "runtimes", "linux-x64", "native"));
            }
        }
        return folders.Select(f => Path.GetFullPath(f)).Distinct().Where(Directory.Exists).ToList();
    }

    /// <summary>The libtorch package version TorchSharp was built against (its private constant, read without running its type initializer).</summary>
    private static string LibTorchVersion(Assembly torchSharp)
    {
        var raw = torchSharp.GetType("TorchSharp.torch")?.GetField("libtorchPackageVersion", BindingFlags.NonPublic | BindingFlags.Static)?.GetRawConstantValue() as string
            ?? throw new ExperimentsException($"{torchSharp.Location}: this TorchSharp does not say which libtorch it needs; set {TorchDevice.LibTorchVariable} to a libtorch folder.");
        var parts = raw.Split('.');
        return parts.Length == 4 && parts[3] == "0" ? string.Join('.', parts[..3]) : raw;
    }

    /// <summary>Whether the libstdc++ this process uses (loading it if no library has yet) defines the version.</summary>
    private static bool ProcessLibStdCxxDefines(string version)
    {
        var path = MappedLibStdCxx();
        if (path is null && NativeLibrary.TryLoad("libstdc++.so.6", out _)) path = MappedLibStdCxx();
        return path is not null && ElfVersions.Defines(File.ReadAllBytes(path), version);
    }

    private static string? MappedLibStdCxx() =>
        File.ReadLines("/proc/self/maps").Select(line => line.IndexOf('/') is var slash and >= 0 ? line[slash..] : null)
            .FirstOrDefault(p => p is not null && Path.GetFileName(p).StartsWith("libstdc++.so", StringComparison.Ordinal));

    private static string PatchedCopy(string original)
    {
        var bytes = File.ReadAllBytes(original);
        var folder = Path.Combine(CacheFolder, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        var target = Path.Combine(folder, LibTorchSharpFile);
        if (File.Exists(target)) return target;
        if (!ElfVersions.MarkWeak(bytes, GlibcxxVersion)) return original;
        try
        {
            Directory.CreateDirectory(folder);
            // Written whole under a unique name, then renamed: a process that finds the file finds it complete.
            var temporary = Path.Combine(folder, $"{LibTorchSharpFile}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            File.WriteAllBytes(temporary, bytes);
            try { File.Move(temporary, target); }
            catch (IOException) when (File.Exists(target)) { File.Delete(temporary); }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ExperimentsException($"This system's libstdc++ lacks {GlibcxxVersion}, so a patched copy of {original} must be written to {folder}, which failed: {e.Message} Set XDG_CACHE_HOME to a writable folder.", e);
        }
        return target;
    }
}

/// <summary>
/// Reads and edits the symbol-version sections of a 64-bit little-endian ELF file: the versions a library needs from
/// others (SHT_GNU_verneed) and those it defines (SHT_GNU_verdef).
/// </summary>
public static class ElfVersions
{
    private const uint VersionNeeds = 0x6ffffffe, VersionDefinitions = 0x6ffffffd;
    private const ushort Weak = 0x2;

    /// <summary>Whether the file needs the version from some library without the weak flag.</summary>
    public static bool Requires(byte[] elf, string version) => NeedEntries(elf).Any(e => e.Name == version && (U16(elf, e.Offset + 4) & Weak) == 0);

    /// <summary>Marks every non-weak need of the version weak, in place; false when there was none.</summary>
    public static bool MarkWeak(byte[] elf, string version)
    {
        var changed = false;
        foreach (var (offset, name) in NeedEntries(elf).ToList())
        {
            var flags = U16(elf, offset + 4);
            if (name != version || (flags & Weak) != 0) continue;
            BitConverter.TryWriteBytes(elf.AsSpan(offset + 4, 2), (ushort)(flags | Weak));
            changed = true;
        }
        return changed;
    }

    /// <summary>Whether the file (a library such as libstdc++) defines the version.</summary>
    public static bool Defines(byte[] elf, string version)
    {
        foreach (var (offset, strings) in Sections(elf, VersionDefinitions))
            for (var definition = offset; ; )
            {
                var aux = definition + (int)U32(elf, definition + 12);
                if (Name(elf, strings, U32(elf, aux)) == version) return true;
                var next = U32(elf, definition + 16);
                if (next == 0) break;
                definition += (int)next;
            }
        return false;
    }

    /// <summary>Each Vernaux entry: its file offset (its flags are at +4) and the version it names.</summary>
    private static IEnumerable<(int Offset, string Name)> NeedEntries(byte[] elf)
    {
        foreach (var (offset, strings) in Sections(elf, VersionNeeds))
            for (var need = offset; ; )
            {
                var aux = need + (int)U32(elf, need + 8);
                for (var a = U16(elf, need + 2); a > 0; a--)
                {
                    yield return (aux, Name(elf, strings, U32(elf, aux + 8)));
                    var nextAux = U32(elf, aux + 12);
                    if (nextAux == 0) break;
                    aux += (int)nextAux;
                }
                var next = U32(elf, need + 12);
                if (next == 0) break;
                need += (int)next;
            }
    }

    /// <summary>Sections of a type: their file offset and that of their linked string table.</summary>
    private static IEnumerable<(int Offset, int Strings)> Sections(byte[] elf, uint type)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2 || elf[5] != 1)
            throw new ExperimentsException("Not a 64-bit little-endian ELF file.");
        var table = (int)U64(elf, 0x28);
        int size = U16(elf, 0x3A), count = U16(elf, 0x3C);
        for (var s = 0; s < count; s++)
        {
            var header = table + s * size;
            if (U32(elf, header + 4) != type) continue;
            var link = (int)U32(elf, header + 0x28);
            yield return ((int)U64(elf, header + 0x18), (int)U64(elf, table + link * size + 0x18));
        }
    }

    private static string Name(byte[] elf, int strings, uint offset)
    {
        var start = strings + (int)offset;
        return Encoding.ASCII.GetString(elf, start, Array.IndexOf(elf, (byte)0, start) - start);
    }

    private static ushort U16(byte[] elf, int offset) => BitConverter.ToUInt16(elf, offset);
    private static uint U32(byte[] elf, int offset) => BitConverter.ToUInt32(elf, offset);
    private static ulong U64(byte[] elf, int offset) => BitConverter.ToUInt64(elf, offset);
}
