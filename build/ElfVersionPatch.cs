// Marks one required symbol version of an ELF shared library as weak (VER_FLG_WEAK), so that the
// dynamic loader accepts the library on a system whose libstdc++ lacks that version.
//
// Why: TorchSharp 0.107's libLibTorchSharp.so requires GLIBCXX_3.4.32 (GCC 13) for a single anchor
// symbol it never calls; Debian 12 / Ubuntu 22.04 ship libstdc++ only up to GLIBCXX_3.4.30. With the
// Vernaux entry flagged weak, a missing version is no longer fatal at load time.
//
// This file is compiled twice: as an MSBuild inline task (build/RlhfSharp.Native.targets) and, with
// RLHF_NO_MSBUILD defined, into the test project so the patch logic is unit-tested. The inline task
// compiles against netstandard2.0, hence no spans or newer File APIs here.
#nullable enable
using System;
using System.IO;
using System.Text;

public static class ElfVersionPatch
{
    public const ushort VerFlagWeak = 0x2;
    const uint ShtGnuVerneed = 0x6ffffffe;

    /// <summary>The flags of the Vernaux entry named <paramref name="version"/>, or null when absent.</summary>
    public static ushort? ReadVersionFlags(byte[] elf, string version)
    {
        int? at = FindVernaux(elf, version);
        return at is int offset ? BitConverter.ToUInt16(elf, offset + 4) : null;
    }

    /// <summary>Returns a copy of <paramref name="elf"/> with the named Vernaux entry flagged weak,
    /// or null when the library does not require that version or already has it weak.</summary>
    public static byte[]? WithWeakVersion(byte[] elf, string version)
    {
        int? at = FindVernaux(elf, version);
        if (at is not int offset) return null;
        ushort flags = BitConverter.ToUInt16(elf, offset + 4);
        if ((flags & VerFlagWeak) != 0) return null;
        var patched = (byte[])elf.Clone();
        BitConverter.GetBytes((ushort)(flags | VerFlagWeak)).CopyTo(patched, offset + 4);
        return patched;
    }

    /// <summary>Patches <paramref name="path"/> through a temporary file and a rename (never in place,
    /// so a hard link into the NuGet cache is left untouched). Returns true when the file changed.</summary>
    public static bool PatchFile(string path, string version)
    {
        byte[]? patched = WithWeakVersion(File.ReadAllBytes(path), version);
        if (patched == null) return false;
        string temp = path + ".weak-tmp";
        File.WriteAllBytes(temp, patched);
        File.Replace(temp, path, null); // a rename on Unix: readers never see a half-written file
        return true;
    }

    /// <summary>True when the system libstdc++ defines <paramref name="version"/> (then no patch is needed).</summary>
    public static bool SystemLibStdCxxHas(string version)
    {
        string[] candidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6", "/lib64/libstdc++.so.6",
        };
        byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
        foreach (string candidate in candidates)
        {
            if (!File.Exists(candidate)) continue;
            return IndexOf(File.ReadAllBytes(candidate), needle) >= 0;
        }
        return false;
    }

    static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = Array.IndexOf(haystack, needle[0]); i >= 0 && i <= haystack.Length - needle.Length; i = Array.IndexOf(haystack, needle[0], i + 1))
        {
            int k = 1;
            while (k < needle.Length && haystack[i + k] == needle[k]) k++;
            if (k == needle.Length) return i;
        }
        return -1;
    }

    static int? FindVernaux(byte[] elf, string version)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("only 64-bit little-endian ELF is supported");
        long sectionHeaders = BitConverter.ToInt64(elf, 0x28);
        int entrySize = BitConverter.ToUInt16(elf, 0x3A);
        int count = BitConverter.ToUInt16(elf, 0x3C);
        for (int i = 0; i < count; i++)
        {
            int header = checked((int)(sectionHeaders + (long)i * entrySize));
            if (BitConverter.ToUInt32(elf, header + 4) != ShtGnuVerneed) continue;
            int start = checked((int)BitConverter.ToInt64(elf, header + 24));
            int link = (int)BitConverter.ToUInt32(elf, header + 40);
            int needCount = (int)BitConverter.ToUInt32(elf, header + 44);
            int strings = checked((int)BitConverter.ToInt64(elf, checked((int)(sectionHeaders + (long)link * entrySize)) + 24));
            int need = start;
            for (int n = 0; n < needCount; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, need + 2);
                int aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    int name = strings + (int)BitConverter.ToUInt32(elf, aux + 8);
                    int end = Array.IndexOf(elf, (byte)0, name);
                    if (Encoding.ASCII.GetString(elf, name, end - name) == version) return aux;
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                need += (int)BitConverter.ToUInt32(elf, need + 12);
            }
        }
        return null;
    }
}

#if !RLHF_NO_MSBUILD
/// <summary>MSBuild task: flags <see cref="Version"/> weak in each library when the system lacks it.</summary>
public class WeakenElfSymbolVersion : Microsoft.Build.Utilities.Task
{
    [Microsoft.Build.Framework.Required] public Microsoft.Build.Framework.ITaskItem[] Libraries { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();
    [Microsoft.Build.Framework.Required] public string Version { get; set; } = "";

    public override bool Execute()
    {
        if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux) || ElfVersionPatch.SystemLibStdCxxHas(Version)) return true;
        foreach (var library in Libraries)
        {
            if (ElfVersionPatch.PatchFile(library.ItemSpec, Version))
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, $"Flagged {Version} weak in {library.ItemSpec}");
        }
        return true;
    }
}
#endif
