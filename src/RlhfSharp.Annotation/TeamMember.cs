using System.Security.Cryptography;

namespace RlhfSharp.Annotation;

/// <summary>An annotator with the token of their personal link, carried from study to study.</summary>
public sealed record TeamMember(string Name, string Token, bool IsAdmin)
{
    /// <summary>A new member with a fresh secret token (32 random bytes, hex): their link's only credential.</summary>
    /// <exception cref="RlhfException">An empty or over-long name.</exception>
    public static TeamMember New(string name, bool isAdmin = false) =>
        new(CheckedName(name), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), isAdmin);

    internal static string CheckedName(string name)
    {
        name = name.Trim();
        if (name.Length is 0 or > 64 || name.Any(char.IsControl))
            throw new RlhfException($"annotator name must be 1 to 64 printable characters, got \"{name}\"");
        return name;
    }
}
