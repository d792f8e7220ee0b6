using System.Diagnostics;
using Experiments.Core;

namespace Experiments.Reports;

/// <summary>
/// Headless Chromium, for PDF reports and for checking that reports render: found as EXPERIMENTS_CHROMIUM, or chromium,
/// chromium-browser, google-chrome on PATH. Run without sandbox, GPU or background networking, on a fresh profile.
/// </summary>
public sealed class Chromium(string executable)
{
    public string Executable { get; } = executable;

    /// <summary>The installed Chromium, or null when there is none.</summary>
    public static Chromium? TryFind()
    {
        if (Environment.GetEnvironmentVariable("EXPERIMENTS_CHROMIUM") is { Length: > 0 } configured)
            return File.Exists(configured) ? new Chromium(configured) : null;
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var name in new[] { "chromium", "chromium-browser", "google-chrome" })
            foreach (var folder in path)
                if (File.Exists(Path.Combine(folder, name))) return new Chromium(Path.Combine(folder, name));
        return null;
    }

    /// <summary>The installed Chromium, or a clear error that says how to get one.</summary>
    public static Chromium Find() => TryFind() ?? throw new ExperimentsException(
        "A PDF report is printed by headless Chromium, and none was found (looked for EXPERIMENTS_CHROMIUM, then chromium, chromium-browser and google-chrome on PATH). " +
        "Install it (Debian: apt-get install chromium) or set EXPERIMENTS_CHROMIUM to its path; --format html writes the same report for any browser to print.");

    /// <summary>Prints <paramref name="html"/> to <paramref name="pdf"/> once its scripts (the charts) have run.</summary>
    public void PrintToPdf(string html, string pdf)
    {
        Run([$"--print-to-pdf={Path.GetFullPath(pdf)}", "--no-pdf-header-footer", "--virtual-time-budget=10000", new Uri(Path.GetFullPath(html)).AbsoluteUri], TimeSpan.FromMinutes(2));
        if (!File.Exists(pdf) || new FileInfo(pdf).Length == 0)
            throw new ExperimentsException($"Chromium ({Executable}) did not print {pdf}; open {html} in a browser and print it instead.");
    }

    /// <summary>The page's DOM after its scripts ran (with the network cut off: every host resolves to nothing).</summary>
    public string DumpDom(string html) =>
        Run(["--dump-dom", "--virtual-time-budget=10000", new Uri(Path.GetFullPath(html)).AbsoluteUri], TimeSpan.FromMinutes(2));

    /// <summary>A PNG of the page at the given window size.</summary>
    public void Screenshot(string html, string png, int width, int height) =>
        Run([$"--screenshot={Path.GetFullPath(png)}", $"--window-size={width},{height}", "--hide-scrollbars", "--virtual-time-budget=10000", new Uri(Path.GetFullPath(html)).AbsoluteUri], TimeSpan.FromMinutes(2));

    private string Run(IEnumerable<string> arguments, TimeSpan timeout)
    {
        var profile = Path.Combine(Path.GetTempPath(), $"experiments-chromium-{Guid.NewGuid():N}");
        var start = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-extensions",
                     "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND", $"--user-data-dir={profile}" }.Concat(arguments))
            start.ArgumentList.Add(argument);
        try
        {
            using var process = Start(start);
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new ExperimentsException($"Chromium ({Executable}) did not finish within {timeout.TotalSeconds:F0} s.");
            }
            if (process.ExitCode != 0)
                throw new ExperimentsException($"Chromium ({Executable}) failed with exit code {process.ExitCode}: {stderr.Result.Trim()}");
            return stdout.Result;
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private Process Start(ProcessStartInfo start)
    {
        try
        {
            return Process.Start(start) ?? throw new ExperimentsException($"Chromium ({Executable}) could not be started.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            // Not executable, a broken link, a missing interpreter: the run's results are kept; only this format is lost.
            throw new ExperimentsException($"Chromium ({Executable}) could not be started: {e.Message}. Set EXPERIMENTS_CHROMIUM to a working Chromium or install one (Debian: apt-get install chromium).");
        }
    }
}
