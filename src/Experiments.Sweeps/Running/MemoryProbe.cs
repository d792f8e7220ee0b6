using System.Diagnostics;
using System.Globalization;

namespace Experiments.Sweeps;

/// <summary>
/// Resident memory of a process, from /proc/PID/status on Linux (VmRSS now, VmHWM its peak since start); elsewhere
/// from <see cref="Process"/>'s working set. Null when the process is gone.
/// </summary>
public static class MemoryProbe
{
    public static long? Resident(int pid) => Read(pid, "VmRSS:", p => p.WorkingSet64);

    public static long? PeakResident(int pid) => Read(pid, "VmHWM:", p => p.PeakWorkingSet64);

    private static long? Read(int pid, string field, Func<Process, long> fallback)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                    if (line.StartsWith(field, StringComparison.Ordinal))
                        return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                return null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                return null;
            }
        }
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Refresh();
            return fallback(process);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }
}
