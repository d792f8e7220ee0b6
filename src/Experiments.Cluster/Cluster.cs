using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Experiments.Core;
using Experiments.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;

namespace Experiments.Cluster;

/// <summary>
/// The cluster: Orleans silos (workers) whose membership lives in PostgreSQL (Orleans' ADO.NET clustering, its own
/// tables beside the run store's), and clients that submit trials to the coordinator grain.
/// </summary>
public static class Cluster
{
    public const string Id = "experiments";
    internal const string Coordinator = "trials";

    /// <summary>A worker silent this long loses its trials to other workers.</summary>
    public static TimeSpan LeaseTimeout { get; } = TimeSpan.FromSeconds(8);

    /// <summary>How often a worker renews its leases and asks for work.</summary>
    public static TimeSpan HeartbeatInterval { get; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Creates Orleans' membership tables in the database if they are not there (once, under an advisory lock).</summary>
    public static void EnsureTables(string cluster)
    {
        var target = PostgresConnection.Parse(cluster);
        try
        {
            using var connection = new NpgsqlConnection(target.ConnectionString);
            connection.Open();
            using var transaction = connection.BeginTransaction();
            using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(4242424242)", connection, transaction)) lockCommand.ExecuteNonQuery();
            using (var exists = new NpgsqlCommand("SELECT to_regclass('orleansquery') IS NOT NULL", connection, transaction))
                if (exists.ExecuteScalar() is true) return;
            using var stream = typeof(Cluster).Assembly.GetManifestResourceStream("Experiments.Cluster.Sql.PostgreSQL-Clustering.sql")!;
            using var reader = new StreamReader(stream);
            using (var create = new NpgsqlCommand(reader.ReadToEnd(), connection, transaction)) create.ExecuteNonQuery();
            transaction.Commit();
        }
        catch (Exception e) when (e is not ExperimentsException)
        {
            throw new ExperimentsException($"Cannot reach the cluster's database {target.Location}: {e.Message}", e);
        }
    }

    private static void Clustering(ISiloBuilder silo, string connectionString) => silo.UseAdoNetClustering(o => { o.Invariant = "Npgsql"; o.ConnectionString = connectionString; });

    /// <summary>Starts a worker silo: it joins the cluster, hosts grains (the coordinator may live on any worker), and runs trials in its slots.</summary>
    public static async Task<IHost> StartWorkerAsync(WorkerOptions options, CancellationToken cancel = default)
    {
        if (options.Slots < 1) throw new ExperimentsException($"A worker runs at least 1 trial at a time, not {options.Slots} (--slots).");
        EnsureTables(options.Cluster);
        var target = PostgresConnection.Parse(options.Cluster);
        var address = options.Address ?? AdvertisedAddress();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        if (options.Log is { } log) builder.Logging.AddProvider(new LineLoggerProvider(log)).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddHostedService(services => new TrialWorker(() => services.GetRequiredService<IGrainFactory>().GetGrain<ICoordinatorGrain>(Coordinator), options));
        builder.UseOrleans(silo =>
        {
            Clustering(silo, target.ConnectionString);
            silo.Configure<ClusterOptions>(o => { o.ClusterId = Id; o.ServiceId = Id; });
            silo.ConfigureEndpoints(address, options.SiloPort ?? FreePort(), options.GatewayPort ?? FreePort(), listenOnAnyHostAddress: true);
            // Dead silos are declared dead sooner than Orleans' default, so grains move off them quickly.
            silo.Configure<ClusterMembershipOptions>(o => { o.ProbeTimeout = TimeSpan.FromSeconds(2); o.NumMissedProbesLimit = 2; o.DefunctSiloExpiration = TimeSpan.FromMinutes(10); });
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancel).ConfigureAwait(false);
            return host;
        }
        catch (Exception e)
        {
            host.Dispose();
            if (e is OperationCanceledException) throw;
            var ports = $"silo port {options.SiloPort?.ToString(CultureInfo.InvariantCulture) ?? "any free"}, gateway port {options.GatewayPort?.ToString(CultureInfo.InvariantCulture) ?? "any free"}";
            throw new ExperimentsException($"The worker could not join the cluster at {target.Location} as {address} ({ports}): {Innermost(e).Message} "
                + "Check that the database is reachable and that the ports are free (--port, --address).", e);
        }
    }

    /// <summary>The root cause of a start failure (Orleans wraps it, sometimes twice).</summary>
    private static Exception Innermost(Exception e) => e is AggregateException { InnerExceptions: [var only] } ? Innermost(only) : e.InnerException is { } inner ? Innermost(inner) : e;

    /// <summary>Connects a client (a sweep's submitter, `cluster status`) to the cluster.</summary>
    public static async Task<IHost> ConnectAsync(string cluster, CancellationToken cancel = default)
    {
        EnsureTables(cluster);
        var target = PostgresConnection.Parse(cluster);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.UseAdoNetClustering(o => { o.Invariant = "Npgsql"; o.ConnectionString = target.ConnectionString; });
            client.Configure<ClusterOptions>(o => { o.ClusterId = Id; o.ServiceId = Id; });
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            host.Dispose();
            throw new ExperimentsException($"Cannot connect to the cluster at {target.Location}: {e.Message} Start a worker first: `experiments worker --cluster {target.Location}`.", e);
        }
        return host;
    }

    public static ICoordinatorGrain CoordinatorOf(IHost client) => client.Services.GetRequiredService<IClusterClient>().GetGrain<ICoordinatorGrain>(Coordinator);

    /// <summary>This machine's address as other machines see it: the first up, non-loopback IPv4 address (else loopback).</summary>
    private static IPAddress AdvertisedAddress() =>
        NetworkInterface.GetAllNetworkInterfaces().Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? IPAddress.Loopback;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A worker: the cluster's database, how many trials it runs at once, where it listens.</summary>
public sealed record WorkerOptions(string Cluster, int Slots)
{
    public IPAddress? Address { get; init; }
    public int? SiloPort { get; init; }
    public int? GatewayPort { get; init; }
    /// <summary>The worker's GPUs; null: detected (<see cref="GpuCapacity.Detect"/>).</summary>
    public GpuCapacity? Gpus { get; init; }
    /// <summary>Where the worker tells what it does (trials started and finished, warnings); null: silent.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>Orleans' warnings and errors as lines for the worker's own log.</summary>
internal sealed class LineLoggerProvider(Action<string> write) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new LineLogger(write, categoryName);
    public void Dispose() { }

    private sealed class LineLogger(Action<string> write, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) write($"{logLevel.ToString().ToLowerInvariant()}: {category}: {formatter(state, exception)}");
        }
    }
}
