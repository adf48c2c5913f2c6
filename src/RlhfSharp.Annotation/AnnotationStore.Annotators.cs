namespace RlhfSharp.Annotation;

public sealed partial class AnnotationStore
{
    /// <summary>Adds an annotator and returns their secret token (32 random bytes, hex): their link's only credential.</summary>
    /// <exception cref="RlhfException">An empty or over-long name, or one already taken.</exception>
    public string AddAnnotator(string name, bool admin = false)
    {
        var member = TeamMember.New(name, admin);
        (name, string token) = (member.Name, member.Token);
        Write(connection =>
        {
            if (Long(connection, "SELECT id FROM annotators WHERE name = $name;", ("$name", name)) is not null)
                throw new RlhfException($"annotator \"{name}\" already exists (`rlhf annotate link {name}` prints their link again)");
            Execute(connection, "INSERT INTO annotators (name, token, is_admin, created_at) VALUES ($name, $token, $admin, $now);",
                ("$name", name), ("$token", token), ("$admin", admin), ("$now", Now()));
        });
        return token;
    }

    /// <summary>
    /// Adds a team that already holds tokens (from another study of the same run), so their links keep working in this one.
    /// Annotators already here are left as they are.
    /// </summary>
    /// <exception cref="RlhfException">A name here holding another token, or a token held by another name.</exception>
    public void AddTeam(IEnumerable<TeamMember> team) => Write(connection =>
    {
        foreach (var member in team)
        {
            string? token = Rows(connection, "SELECT token FROM annotators WHERE name = $name;", r => r.GetString(0), ("$name", member.Name)).SingleOrDefault();
            if (token == member.Token) continue;
            if (token is not null || Long(connection, "SELECT id FROM annotators WHERE token = $token;", ("$token", member.Token)) is not null)
                throw new RlhfException($"annotator \"{member.Name}\" is in this study with another link; use a new study database");
            Execute(connection, "INSERT INTO annotators (name, token, is_admin, created_at) VALUES ($name, $token, $admin, $now);",
                ("$name", member.Name), ("$token", member.Token), ("$admin", member.IsAdmin), ("$now", Now()));
        }
    });

    /// <summary>
    /// An annotator's token again, for a link they lost. Tokens are stored as issued (the database is the secret to
    /// keep), so the link printed now is the one printed when they were added, and it keeps working.
    /// </summary>
    /// <exception cref="RlhfException">No annotator of that name (the message lists those there are).</exception>
    public (string Token, bool IsAdmin) TokenOf(string name)
    {
        name = name.Trim();
        var found = Read(connection => Rows(connection, "SELECT token, is_admin FROM annotators WHERE name = $name;",
            r => (r.GetString(0), r.GetBoolean(1)), ("$name", name)));
        if (found.Count == 1) return found[0];
        var names = Read(connection => Rows(connection, "SELECT name FROM annotators ORDER BY id;", r => r.GetString(0)));
        throw new RlhfException($"no annotator named \"{name}\" ({(names.Count == 0 ? "no annotators yet" : "annotators: " + string.Join(", ", names))})");
    }

    /// <summary>The annotator holding this token, or null for none (an empty token included).</summary>
    public Annotator? FindAnnotator(string? token) => string.IsNullOrEmpty(token) ? null : Read(connection => Rows(connection,
        "SELECT id, name, is_admin FROM annotators WHERE token = $token;",
        r => new Annotator(r.GetInt64(0), r.GetString(1), r.GetBoolean(2)), ("$token", token)).SingleOrDefault());

    /// <summary>The first admin's name and token, adding an admin named "admin" (or "admin2", ...) when there is none.</summary>
    public (string Name, string Token) EnsureAdmin()
    {
        var existing = Read(connection => Rows(connection, "SELECT name, token FROM annotators WHERE is_admin = 1 ORDER BY id LIMIT 1;",
            r => (r.GetString(0), r.GetString(1))));
        if (existing.Count > 0) return existing[0];
        var taken = Read(connection => Rows(connection, "SELECT name FROM annotators;", r => r.GetString(0))).ToHashSet();
        string name = Enumerable.Range(1, int.MaxValue).Select(i => i == 1 ? "admin" : $"admin{i}").First(n => !taken.Contains(n));
        return (name, AddAnnotator(name, admin: true));
    }
}
