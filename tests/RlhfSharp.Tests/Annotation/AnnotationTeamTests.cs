using RlhfSharp.Annotation;

namespace RlhfSharp.Tests.Annotation;

/// <summary>A team carried from study to study: the same names with the same tokens, so personal links keep working.</summary>
public class AnnotationTeamTests
{
    [Fact]
    public void A_team_joins_a_new_study_with_its_tokens_and_joining_twice_changes_nothing()
    {
        var team = new[] { TeamMember.New("admin", isAdmin: true), TeamMember.New(" alice ") };
        Assert.Equal("alice", team[1].Name);
        Assert.Equal(64, team[1].Token.Length);
        using var store = new AnnotationStore(Path.Combine(TestPaths.NewTempDirectory(), "study.db"));
        store.AddTeam(team);
        store.AddTeam(team);
        Assert.Equal((team[1].Token, false), store.TokenOf("alice"));
        Assert.Equal((team[0].Token, true), store.TokenOf("admin"));
        Assert.Equal("alice", store.FindAnnotator(team[1].Token)!.Name);
    }

    [Fact]
    public void A_name_already_in_the_study_with_another_link_is_refused()
    {
        using var store = new AnnotationStore(Path.Combine(TestPaths.NewTempDirectory(), "study.db"));
        string token = store.AddAnnotator("alice");
        var error = Assert.Throws<RlhfException>(() => store.AddTeam([TeamMember.New("alice")]));
        Assert.Contains("\"alice\" is in this study with another link", error.Message);
        Assert.Equal(token, store.TokenOf("alice").Token);
        Assert.Throws<RlhfException>(() => store.AddTeam([new TeamMember("bob", token, false)])); // alice's token under another name
        Assert.Throws<RlhfException>(() => TeamMember.New(" "));
    }
}
