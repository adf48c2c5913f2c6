using RlhfSharp.Cli.Benchmarks;

namespace RlhfSharp.Tests.Benchmarks;

public class PeakMemoryTests
{
    [Theory]
    // /proc/self/status pads the figure after the tab with spaces to 8 characters: from 10 GB on there are none.
    [InlineData("VmHWM:\t  423988 kB", 423_988L * 1024)]
    [InlineData("VmHWM:\t 8059904 kB", 8_059_904L * 1024)]
    [InlineData("VmHWM:\t17172480 kB", 17_172_480L * 1024)]
    public void A_status_line_gives_its_bytes_whatever_the_padding(string line, long bytes) =>
        Assert.Equal(bytes, PeakMemory.StatusBytes(line));
}
