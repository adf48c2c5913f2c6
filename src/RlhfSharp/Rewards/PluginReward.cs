using System.Reflection;
using System.Runtime.Loader;

namespace RlhfSharp.Rewards;

/// <summary>
/// User code as a reward function: a .NET assembly named as <c>path/to/Plugin.dll:Namespace.Type</c>, whose public type
/// implements <see cref="IRewardFunction"/> and has a public parameterless constructor. The assembly loads into its own
/// <see cref="AssemblyLoadContext"/> with the dependencies beside it (its .deps.json), while RlhfSharp itself (and any
/// assembly the application has already loaded, such as TorchSharp) is shared, so the type implements the application's
/// own interface. A plugin that is also <see cref="IDisposable"/> is disposed by whoever owns the loaded functions.
/// </summary>
public static class PluginReward
{
    /// <summary>"path.dll:Namespace.Type" split at its last colon (a Windows path has one of its own); null with the reason when malformed.</summary>
    public static (string Path, string Type)? ParseReference(string reference, out string? error)
    {
        int colon = reference.LastIndexOf(':');
        string path = colon < 0 ? "" : reference[..colon], type = colon < 0 ? "" : reference[(colon + 1)..];
        error = colon < 0 ? "expected path/to/Plugin.dll:Namespace.Type"
            : path.Length == 0 ? "no assembly path before the ':' (expected path/to/Plugin.dll:Namespace.Type)"
            : type.Length == 0 ? "no type name after the ':' (expected path/to/Plugin.dll:Namespace.Type)"
            : null;
        return error is null ? (path, type) : null;
    }

    /// <summary>The type's simple name (after its last '.' or '+'): the function's name in metrics.</summary>
    public static string NameOf(string typeName) => typeName[(typeName.LastIndexOfAny(['.', '+']) + 1)..];

    /// <summary>Loads the assembly and makes one instance of the type.</summary>
    /// <exception cref="RlhfException">One line naming the assembly or type: a missing or unloadable file, no such type, a type
    /// that does not implement <see cref="IRewardFunction"/> or lacks a public parameterless constructor, or a constructor
    /// that threw.</exception>
    public static IRewardFunction Load(string assemblyPath, string typeName)
    {
        string fullPath = System.IO.Path.GetFullPath(assemblyPath);
        if (!File.Exists(fullPath)) throw new RlhfException($"{assemblyPath}: file does not exist");
        Assembly assembly;
        try
        {
            assembly = PluginContext.For(fullPath).LoadFromAssemblyPath(fullPath);
        }
        catch (BadImageFormatException e)
        {
            throw new RlhfException($"{assemblyPath}: not a .NET assembly ({OneLine(e.Message)})", e);
        }
        catch (FileLoadException e)
        {
            throw new RlhfException($"{assemblyPath}: cannot be loaded ({OneLine(e.Message)})", e);
        }
        var type = assembly.GetType(typeName, throwOnError: false);
        if (type is null)
        {
            var candidates = RewardTypes(assembly);
            throw new RlhfException($"{assemblyPath}: no type '{typeName}' (give Namespace.Type; " +
                (candidates.Count == 0 ? $"no public type there implements {typeof(IRewardFunction).FullName})" : $"reward functions there: {string.Join(", ", candidates)})"));
        }
        if (!typeof(IRewardFunction).IsAssignableFrom(type))
            throw new RlhfException($"{assemblyPath}: type '{typeName}' does not implement {typeof(IRewardFunction).FullName}" +
                (type.GetInterfaces().Any(i => i.FullName == typeof(IRewardFunction).FullName)
                    ? " (it implements another copy of it: do not ship RlhfSharp.dll beside the plugin)" : ""));
        if (type.IsAbstract || type.GetConstructor(Type.EmptyTypes) is null)
            throw new RlhfException($"{assemblyPath}: type '{typeName}' needs a public parameterless constructor" + (type.IsAbstract ? " and must not be abstract" : ""));
        try
        {
            return (IRewardFunction)Activator.CreateInstance(type)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is { } inner)
        {
            throw new RlhfException($"{assemblyPath}: the constructor of '{typeName}' failed: {inner.GetType().Name}: {OneLine(inner.Message)}", inner);
        }
    }

    static List<string> RewardTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetExportedTypes().Where(t => typeof(IRewardFunction).IsAssignableFrom(t) && !t.IsAbstract).Select(t => t.FullName!).ToList();
        }
        catch (ReflectionTypeLoadException)
        {
            return [];
        }
    }

    static string OneLine(string text) => text.ReplaceLineEndings(" ");

    /// <summary>One load context per plugin assembly: its own dependencies from its folder, the application's assemblies shared.</summary>
    sealed class PluginContext(string path) : AssemblyLoadContext($"reward plugin {System.IO.Path.GetFileName(path)}")
    {
        static readonly Dictionary<string, PluginContext> Contexts = [];
        readonly AssemblyDependencyResolver _resolver = new(path);

        public static PluginContext For(string path)
        {
            lock (Contexts)
            {
                if (!Contexts.TryGetValue(path, out var context)) Contexts[path] = context = new PluginContext(path);
                return context;
            }
        }

        protected override Assembly? Load(AssemblyName name)
        {
            // The application's assemblies (RlhfSharp above all) come from the default context: one IRewardFunction type.
            if (name.Name == typeof(IRewardFunction).Assembly.GetName().Name || Default.Assemblies.Any(a => a.GetName().Name == name.Name)) return null;
            return _resolver.ResolveAssemblyToPath(name) is { } resolved ? LoadFromAssemblyPath(resolved) : null;
        }

        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName) =>
            _resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } resolved ? LoadUnmanagedDllFromPath(resolved) : IntPtr.Zero;
    }
}
