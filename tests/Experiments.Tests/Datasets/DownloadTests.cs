using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Experiments.Core;
using Experiments.Datasets.Download;
using Experiments.Datasets.Manifests;

namespace Experiments.Tests.Datasets;

/// <summary>Pulls from a web server on loopback standing in for the official source.</summary>
[TestClass]
public sealed class DownloadTests
{
    private static readonly byte[] Ratings = Encoding.UTF8.GetBytes("userId,movieId,rating,timestamp\n1,2,3,4\n");

    private static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static byte[] Zip()
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = zip.CreateEntry("ml-tiny/ratings.csv").Open();
            entry.Write(Ratings);
        }
        return buffer.ToArray();
    }

    /// <summary>Serves the given paths on 127.0.0.1 until disposed.</summary>
    private sealed class LoopbackServer : IDisposable
    {
        private readonly HttpListener _listener = new();

        public LoopbackServer(Dictionary<string, byte[]> files)
        {
            var port = Random.Shared.Next(20000, 60000);
            Prefix = $"http://127.0.0.1:{port}/";
            _listener.Prefixes.Add(Prefix);
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try { context = await _listener.GetContextAsync(); } catch (Exception) { return; }
                    var key = context.Request.Url!.AbsolutePath.TrimStart('/');
                    if (files.TryGetValue(key, out var body)) { context.Response.StatusCode = 200; await context.Response.OutputStream.WriteAsync(body); }
                    else context.Response.StatusCode = 404;
                    context.Response.Close();
                }
            });
        }

        public string Prefix { get; }
        public void Dispose() => _listener.Close();
    }

    private static DatasetManifest Manifest(string download, string files) => DatasetRegistry.Parse($$"""
        { "name": "tiny", "title": "t", "description": "d", "licence": "l", "homepage": "https://example.org/tiny", "folder": "tiny",
          "download": {{download}}, "files": [ {{files}} ],
          "tables": [ { "name": "ratings", "file": "ratings.csv", "role": "interactions", "header": true,
            "columns": [ { "name": "userId", "role": "user" }, { "name": "movieId", "role": "item" }, { "name": "rating", "type": "float", "role": "rating" }, { "name": "timestamp", "type": "int64", "role": "timestamp" } ] } ] }
        """, "tiny.json");

    [TestMethod]
    public async Task Archive_with_publisher_md5_is_verified_and_extracted()
    {
        var zip = Zip();
        var md5 = Convert.ToHexStringLower(MD5.HashData(zip));
        using var server = new LoopbackServer(new() { ["tiny.zip"] = zip, ["tiny.zip.md5"] = Encoding.ASCII.GetBytes($"{md5}  tiny.zip\n") });
        using var target = new TempFolder();
        var manifest = Manifest($$"""{ "archive": "{{server.Prefix}}tiny.zip", "archiveMd5": "{{server.Prefix}}tiny.zip.md5", "archivePrefix": "ml-tiny/" }""",
            $$"""{ "path": "ratings.csv", "sha256": "{{Sha(Ratings)}}" }""");
        using var http = new HttpClient();
        var pulled = await new DatasetDownloader(http).PullAsync(manifest, target.Path);
        Assert.IsTrue(pulled.Single().Verified);
        CollectionAssert.AreEqual(Ratings, File.ReadAllBytes(Path.Combine(target.Path, "tiny", "ratings.csv")));
        Assert.IsFalse(Directory.Exists(Path.Combine(target.Path, "tiny", ".partial")));
        // And the loader reads what was pulled.
        var data = new Experiments.Datasets.DatasetLoader(new DatasetRegistry([manifest])).Open(new("tiny") { DataDirectory = target.Path }).Interactions();
        Assert.AreEqual(1, data.Count);
    }

    [TestMethod]
    public async Task A_file_whose_checksum_differs_is_not_kept()
    {
        using var server = new LoopbackServer(new() { ["ratings.csv"] = Ratings });
        using var target = new TempFolder();
        var manifest = Manifest("{}", $$"""{ "path": "ratings.csv", "sha256": "{{new string('0', 64)}}", "url": "{{server.Prefix}}ratings.csv" }""");
        using var http = new HttpClient();
        var e = await Assert.ThrowsExactlyAsync<ExperimentsException>(() => new DatasetDownloader(http).PullAsync(manifest, target.Path));
        StringAssert.Contains(e.Message, $"Checksum mismatch for 'ratings.csv' of 'tiny': expected SHA-256 {new string('0', 64)}, got {Sha(Ratings)}");
        Assert.IsFalse(File.Exists(Path.Combine(target.Path, "tiny", "ratings.csv")));
    }

    [TestMethod]
    public async Task A_wrong_archive_md5_stops_before_extraction()
    {
        using var server = new LoopbackServer(new() { ["tiny.zip"] = Zip(), ["tiny.zip.md5"] = Encoding.ASCII.GetBytes(new string('a', 32)) });
        using var target = new TempFolder();
        var manifest = Manifest($$"""{ "archive": "{{server.Prefix}}tiny.zip", "archiveMd5": "{{server.Prefix}}tiny.zip.md5", "archivePrefix": "ml-tiny/" }""", """{ "path": "ratings.csv" }""");
        using var http = new HttpClient();
        var e = await Assert.ThrowsExactlyAsync<ExperimentsException>(() => new DatasetDownloader(http).PullAsync(manifest, target.Path));
        StringAssert.Contains(e.Message, "the publisher's MD5 is aaaa");
    }

    [TestMethod]
    public async Task No_network_is_said_plainly()
    {
        using var target = new TempFolder();
        // Port 9 on loopback: nothing listens, the connection is refused as it would be offline.
        var manifest = Manifest("{}", """{ "path": "ratings.csv", "url": "http://127.0.0.1:9/ratings.csv" }""");
        using var http = new HttpClient();
        var e = await Assert.ThrowsExactlyAsync<ExperimentsException>(() => new DatasetDownloader(http).PullAsync(manifest, target.Path));
        StringAssert.StartsWith(e.Message, "No network: could not reach the official source of 'tiny'");
        StringAssert.Contains(e.Message, "https://example.org/tiny");
    }

    [TestMethod]
    public async Task Generated_and_manual_data_sets_say_why_they_cannot_be_pulled()
    {
        using var http = new HttpClient();
        using var target = new TempFolder();
        var downloader = new DatasetDownloader(http);
        StringAssert.Contains((await Assert.ThrowsExactlyAsync<ExperimentsException>(() => downloader.PullAsync(DatasetRegistry.Default.Get("demo-shop"), target.Path))).Message, "generated by the project");
        StringAssert.Contains((await Assert.ThrowsExactlyAsync<ExperimentsException>(() => downloader.PullAsync(DatasetRegistry.Default.Get("glove-6b-100d-top40k"), target.Path))).Message, "head -n 40000");
    }
}
