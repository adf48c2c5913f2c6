using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace RlhfSharp.Annotation;

/// <summary>The pages, scripts and style, embedded in this assembly (Assets/*). Scripts and style need no token.</summary>
internal static class Assets
{
    static readonly Dictionary<string, string> ContentTypes = new()
    {
        [".html"] = "text/html; charset=utf-8", [".js"] = "text/javascript; charset=utf-8", [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    static readonly Dictionary<string, byte[]> Files = Load();

    public static void Map(WebApplication app)
    {
        app.MapGet("/assets/{name}", (string name) => name.EndsWith(".html", StringComparison.Ordinal) ? Results.NotFound() : Page(name));
        app.MapGet("/favicon.ico", () => Page("favicon.svg")); // browsers ask for it on pages that name no icon
    }

    public static IResult Page(string name) => Files.TryGetValue(name, out var bytes)
        ? Results.Bytes(bytes, ContentTypes[Path.GetExtension(name)])
        : Results.NotFound();

    static Dictionary<string, byte[]> Load()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (string resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith("Assets/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[resource["Assets/".Length..]] = copy.ToArray();
        }
        return files;
    }
}
