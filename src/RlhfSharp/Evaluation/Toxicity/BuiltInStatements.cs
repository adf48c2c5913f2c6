namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Sentences made from templates, for training only (never to judge a head), covering what the labelled datasets lack.
/// Plain, non-toxic sentences that name identity groups ("I am a gay man.", "My neighbour is Muslim."): tweets labelled
/// offensive use identity terms far more often than the rest, so without them a head learns the terms (the mitigation of
/// Dixon et al. 2018, "Measuring and Mitigating Unintended Bias in Text Classification"). And direct threats without a
/// swear word ("I am going to hurt you."), aimed at the reader or at a group: no shipped dataset labels threats at scale,
/// and a head trained on tweets scores them near 0. And everyday conversation ("Would that work for you?"), which no
/// dataset has either.
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

    /// <summary>
    /// Everyday conversation and assistant replies, short questions among them: the labelled data is tweets, forum comments
    /// and statements, so a head never saw a plain "Would that work for you?" and misfires on it (and on a word like "kill"
    /// or "shoot" used harmlessly). Written for this list; none comes from a dataset the head is judged on.
    /// </summary>
    static readonly string[] Everyday =
    [
        "That is a good question.", "That's a good question.", "Great question!", "Good question, let me think about it.",
        "Do you mean the first option or the second?", "What do you mean by that?", "Could you tell me a bit more?", "Would that work for you?",
        "Are you asking about the book or the film?", "Is that what you were looking for?", "Which one do you prefer?", "Why do you ask?",
        "Did you try turning it off and on again?", "How long have you had this problem?", "Do you want me to explain it again?",
        "Would you like a few more ideas?", "Can I ask what it is for?", "Are you sure?", "Really?", "Why not?", "What happened next?",
        "Yes, that's right.", "No, they don't.", "No, it isn't.", "Yes, some do and some don't.", "I'm not sure.", "I don't know, sorry.",
        "I see.", "Okay, got it.", "Sure, here you go.", "Of course.", "That makes sense.", "You're welcome!", "Thanks for asking.",
        "I'm sorry to hear that.", "I hope that helps.", "Happy to help.", "Let me know if you have any other questions.",
        "I have no idea what you mean.", "I don't understand the question.", "That depends on what you want to do.",
        "Here are a few things you could try.", "First, preheat the oven to 180 degrees.", "Add a pinch of salt and stir well.",
        "You'll need a pair of scissors and some tape.", "Start with ten squats and add a few more each week.",
        "Squats and lunges are good exercises for your legs and butt.", "Stretch your back and shoulders before you lift anything heavy.",
        "Drink plenty of water and get enough sleep.", "The train leaves at half past nine.", "It might rain tomorrow, so take an umbrella.",
        "My daughter starts school next week.", "We had pasta for dinner.", "The meeting was moved to Thursday.", "I think the blue one looks better.",
        "The store closes at eight on Sundays.", "He fixed the bike himself.", "She called her mother after work.",
        "Some people like it and some people don't.", "It's hard to say without more information.", "Many people feel that way.",
        "Children often say things they don't mean.", "That sounds really frustrating.", "It's normal to feel nervous before an exam.",
        "You can kill the process from the task manager.", "Pull the weeds before they go to seed, or they will kill the lawn.",
        "This spray kills most germs on kitchen surfaces.", "The photographer will shoot the wedding in black and white.",
        "We shot the whole film on a phone.", "That joke killed at the party.", "I'm dying to see the new season.",
        "The hunters left before sunrise.", "The police arrested a suspect in the robbery.", "The documentary is about the history of the war.",
        "Murder mysteries are my favourite kind of book.", "Cockroaches can live for weeks without food.",
        "Are you talking about real people or characters in a story?", "Do you mean they were dishonest?", "Maybe they were just tired.",
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
    /// The training-only sets, each weighing as much as a dataset: every neutral template filled with every way of naming
    /// every group (non-toxic, with the group) and the threats, to the reader (no group) and against each group's people
    /// (toxic, with the group, so each group has both kinds); then the everyday sentences (non-toxic, no group).
    /// </summary>
    public static IReadOnlyList<ToxicityDataset> Sets() =>
    [
        new("built-in identity statements and threats",
        [
            .. Groups.SelectMany(g => g.Person.SelectMany(p => PersonTemplates.Select(t => new LabelledText(string.Format(t, p), false, g.Group)))),
            .. Groups.SelectMany(g => g.People.SelectMany(p => PeopleTemplates.Select(t => new LabelledText(Capitalised(string.Format(t, p)), false, g.Group)))),
            .. ThreatsToTheReader.Select(t => new LabelledText(t, true)),
            .. Groups.SelectMany(g => g.People.SelectMany(p => ThreatTemplates.Select(t => new LabelledText(Capitalised(string.Format(t, p)), true, g.Group)))),
        ]),
        new("built-in everyday sentences", [.. Everyday.Select(t => new LabelledText(t, false))]),
    ];

    static string Capitalised(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
