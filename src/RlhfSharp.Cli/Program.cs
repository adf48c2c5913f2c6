RlhfSharp.Native.TorchRuntime.Initialize();
var a = TorchSharp.torch.randn(512, 512);
var sw = System.Diagnostics.Stopwatch.StartNew();
for (int i = 0; i < 50; i++) TorchSharp.torch.mm(a, a).Dispose();
Console.WriteLine($"{50 * 2.0 * 512 * 512 * 512 / sw.Elapsed.TotalSeconds / 1e9:F1} GFLOP/s, policy={RlhfSharp.Native.TorchRuntime.GetNativeEnvironmentVariable("OMP_WAIT_POLICY")}");
return 0;
