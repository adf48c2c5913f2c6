using RlhfSharp.Native;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Native;

public class NativeBringUpTests
{
    const string Version = "GLIBCXX_3.4.32";

    static string PackagedLibrary()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    [Fact]
    public void Patch_flags_only_the_named_version_weak_and_is_idempotent()
    {
        byte[] original = File.ReadAllBytes(PackagedLibrary());
        Assert.Equal((ushort)0, ElfVersionPatch.ReadVersionFlags(original, Version));

        byte[] patched = ElfVersionPatch.WithWeakVersion(original, Version)!;
        Assert.Equal(ElfVersionPatch.VerFlagWeak, ElfVersionPatch.ReadVersionFlags(patched, Version));
        // Exactly the two flag bytes differ; every other version requirement is untouched.
        Assert.Equal(1, original.Zip(patched).Count(p => p.First != p.Second));
        Assert.Equal((ushort)0, ElfVersionPatch.ReadVersionFlags(patched, "GLIBCXX_3.4.21") ?? 0);
        Assert.Null(ElfVersionPatch.WithWeakVersion(patched, Version));
        Assert.Null(ElfVersionPatch.WithWeakVersion(original, "GLIBCXX_9.9.9"));
    }

    [Fact]
    public void Patching_a_file_goes_through_a_rename_and_leaves_a_hard_linked_original_alone()
    {
        string dir = TestPaths.NewTempDirectory();
        string source = Path.Combine(dir, "original.so");
        File.Copy(PackagedLibrary(), source);
        string copy = Path.Combine(dir, "copy.so");
        File.Copy(source, copy);
        Assert.True(ElfVersionPatch.PatchFile(copy, Version));
        Assert.False(ElfVersionPatch.PatchFile(copy, Version));
        Assert.Equal((ushort)0, ElfVersionPatch.ReadVersionFlags(File.ReadAllBytes(source), Version));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Build_output_library_is_patched_when_the_system_lacks_the_version_and_torch_loads()
    {
        string built = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        ushort flags = ElfVersionPatch.ReadVersionFlags(File.ReadAllBytes(built), Version) ?? 0;
        if (!ElfVersionPatch.SystemLibStdCxxHas(Version)) Assert.Equal(ElfVersionPatch.VerFlagWeak, flags);
        using var sum = ones(3).sum();
        Assert.Equal(3f, sum.item<float>());
    }

    [Fact]
    public void Native_environment_has_a_passive_wait_policy_before_libtorch_loads()
    {
        string expected = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is { Length: > 0 } set ? set : "PASSIVE";
        Assert.Equal(expected, TorchRuntime.GetNativeEnvironmentVariable("OMP_WAIT_POLICY"));
    }

    [Fact]
    public void Malloc_thresholds_are_raised_at_start_up_unless_the_user_chose_an_allocator()
    {
        // This test process: glibc on Linux, and no allocator choice in CI's environment, so start-up raised them.
        if (MallocTuning.ReasonToLeaveAlone(Environment.GetEnvironmentVariable) is null && OperatingSystem.IsLinux())
            Assert.Equal(new MallocSetup(true, "glibc malloc: mmap threshold 1024 MiB, trim threshold 2047 MiB"), TorchRuntime.Malloc);
        static Func<string, string?> Env(params (string Name, string Value)[] set) => name => set.FirstOrDefault(v => v.Name == name).Value;
        Assert.Null(MallocTuning.ReasonToLeaveAlone(Env()));
        Assert.Null(MallocTuning.ReasonToLeaveAlone(Env(("LD_PRELOAD", "/usr/lib/libfoo.so"), ("GLIBC_TUNABLES", "glibc.cpu.hwcaps=-AVX"))));
        Assert.Equal("RLHF_MALLOC=system: glibc's defaults", MallocTuning.ReasonToLeaveAlone(Env(("RLHF_MALLOC", "System"))));
        Assert.Equal("an allocator is preloaded (libtcmalloc_minimal.so.4)", MallocTuning.ReasonToLeaveAlone(Env(("LD_PRELOAD", "libtcmalloc_minimal.so.4"))));
        Assert.Equal("MALLOC_TRIM_THRESHOLD_ is set", MallocTuning.ReasonToLeaveAlone(Env(("MALLOC_TRIM_THRESHOLD_", "0"))));
        Assert.Equal("GLIBC_TUNABLES sets malloc", MallocTuning.ReasonToLeaveAlone(Env(("GLIBC_TUNABLES", "glibc.malloc.arena_max=1"))));
        // Refused up front, so nothing is called: the outcome says why.
        Assert.Equal(new MallocSetup(false, "RLHF_MALLOC=system: glibc's defaults"), MallocTuning.Apply(Env(("RLHF_MALLOC", "system"))));
    }

    [Fact]
    public void Thread_count_prefers_the_option_then_the_environment()
    {
        Assert.Equal(3, TorchRuntime.ResolveThreads(3));
        Assert.True(TorchRuntime.ResolveThreads(0) >= 1);
    }
}
