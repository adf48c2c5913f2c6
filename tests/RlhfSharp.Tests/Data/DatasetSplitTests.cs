using RlhfSharp.Data;

namespace RlhfSharp.Tests.Data;

public sealed class DatasetSplitTests
{
    static readonly int[] Items = [.. Enumerable.Range(0, 100)];

    [Fact]
    public void Same_seed_same_split()
    {
        var (train1, held1) = DatasetSplit.Split(Items, 0.1, seed: 7);
        var (train2, held2) = DatasetSplit.Split(Items, 0.1, seed: 7);
        var (_, otherHeld) = DatasetSplit.Split(Items, 0.1, seed: 8);

        Assert.Equal(train1, train2);
        Assert.Equal(held1, held2);
        Assert.NotEqual(held1, otherHeld);
    }

    [Fact]
    public void Parts_are_disjoint_cover_everything_and_keep_order()
    {
        var (train, heldOut) = DatasetSplit.Split(Items, 0.25, seed: 1);

        Assert.Equal(75, train.Count);
        Assert.Equal(25, heldOut.Count);
        Assert.Empty(train.Intersect(heldOut));
        Assert.Equal(Items, train.Concat(heldOut).Order());
        Assert.Equal(train.Order(), train);
        Assert.Equal(heldOut.Order(), heldOut);
    }

    [Theory]
    [InlineData(2, 0.01, 1, 1)]
    [InlineData(3, 0.99, 1, 2)]
    [InlineData(10, 0.0, 10, 0)]
    [InlineData(1, 0.5, 1, 0)]
    [InlineData(0, 0.5, 0, 0)]
    public void Each_part_gets_an_item_when_it_can(int count, double fraction, int trainCount, int heldOutCount)
    {
        var (train, heldOut) = DatasetSplit.Split(Items[..count], fraction, seed: 3);
        Assert.Equal((trainCount, heldOutCount), (train.Count, heldOut.Count));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void Fraction_outside_zero_to_one(double fraction) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetSplit.Split(Items, fraction, seed: 0));
}
