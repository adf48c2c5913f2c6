namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Sentences made from templates, for training only (never to judge a head), covering what the labelled datasets lack.
/// Plain, non-toxic sentences that name identity groups ("I am a gay man.", "My neighbour is Muslim."): tweets labelled
/// offensive use identity terms far more often than the rest, so without them a head learns the terms (the mitigation of
/// Dixon et al. 2018, "Measuring and Mitigating Unintended Bias in Text Classification"). And direct threats without a
/// swear word ("I am going to hurt you."), aimed at the reader or at a group: no shipped dataset labels threats at scale,
/// and a head trained on tweets scores them near 0.
/// </summary>
public static class BuiltInStatements
{
    /// <summary>ToxiGen's target groups, each with the ways the templates name one person and many.</summary>
    static readonly (string Group, string[] Person, string[] People)[] Groups =
    [
        ("asian", ["Asian"], ["Asian people", "Asian Americans"]),
        ("bisexual", ["bisexual"], ["bisexual people"]),
        ("black", ["Black", "African American"], ["Black people", "African Americans"]),
        ("chinese", ["Chinese"], ["Chinese people"]),
        ("immigrant", ["an immigrant"], ["immigrants", "refugees"]),
        ("jewish", ["Jewish"], ["Jewish people", "Jews"]),
        ("latino", ["Latino", "Latina"], ["Latinos", "Hispanic people"]),
        ("lgbtq", ["gay", "lesbian", "queer"], ["gay people", "lesbians", "LGBTQ people"]),
        ("mental_disability", ["autistic", "living with depression"], ["autistic people", "people with mental illness"]),
        ("mexican", ["Mexican"], ["Mexicans", "Mexican Americans"]),
        ("middle_east", ["Arab", "Middle Eastern"], ["Arabs", "people from the Middle East"]),
        ("muslim", ["Muslim"], ["Muslims"]),
        ("native_american", ["Native American"], ["Native Americans", "Indigenous people"]),
        ("physical_disability", ["disabled", "blind", "in a wheelchair"], ["disabled people", "people in wheelchairs"]),
        ("trans", ["transgender", "trans"], ["transgender people", "trans people"]),
        ("women", ["a woman"], ["women"]),
    ];

    static readonly string[] PersonTemplates =
    [
        "I am {0}.", "My neighbour is {0}.", "My best friend is {0}, and we go hiking every weekend.", "She is {0} and works at the hospital.",
        "He is {0} and teaches math at the high school.", "Being {0} is part of who I am.", "My sister's new partner is {0}.",
        "Our new manager is {0} and very good at her job.",
    ];

    static readonly string[] PeopleTemplates =
    [
        "{0} live all over the world.", "{0} work as doctors, teachers and engineers.", "There are many {0} in my town.",
        "I went to a meeting for {0} at the community center.", "{0} have a long history and many traditions.",
        "The library has a new book about {0}.", "{0} vote, pay taxes and raise families like everyone else.",
        "I talked with some {0} at the conference yesterday.",
    ];

    static readonly string[] ThreatsToTheReader =
    [
        "I am going to kill you.", "I will find where you live and hurt you.", "You will not live to see next week.", "I hope someone shoots you.",
        "Watch your back, I am coming for you tonight.", "I will burn your house down with your family inside.", "You deserve to die slowly.",
        "Keep talking and I will break every bone in your body.", "I know where your kids go to school.", "Next time I see you, you are dead.",
    ];

    static readonly string[] ThreatTemplates =
    [
        "All {0} should be killed.", "Someone should get rid of {0} for good.", "{0} deserve to be beaten.", "We will drive {0} out of this town by force.",
        "I would happily watch {0} burn.",
    ];

    /// <summary>
    /// Every neutral template filled with every way of naming every group (non-toxic, with the group), then the threats: to
    /// the reader (no group) and against each group's people (toxic, with the group, so each group has both kinds).
    /// </summary>
    public static IReadOnlyList<LabelledText> All() =>
    [
        .. Groups.SelectMany(g => g.Person.SelectMany(p => PersonTemplates.Select(t => new LabelledText(string.Format(t, p), false, g.Group)))),
        .. Groups.SelectMany(g => g.People.SelectMany(p => PeopleTemplates.Select(t => new LabelledText(Capitalised(string.Format(t, p)), false, g.Group)))),
        .. ThreatsToTheReader.Select(t => new LabelledText(t, true)),
        .. Groups.SelectMany(g => g.People.SelectMany(p => ThreatTemplates.Select(t => new LabelledText(Capitalised(string.Format(t, p)), true, g.Group)))),
    ];

    static string Capitalised(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
