namespace RlhfSharp.Annotation;

/// <summary>The store's tables. Choices are kept in MODEL terms (A/B/Tie); a_on_left records each item's screen order.</summary>
internal static class AnnotationSchema
{
    public const int Version = 1;

    public const string Create = """
        CREATE TABLE IF NOT EXISTS imports (
            id INTEGER PRIMARY KEY,
            seed INTEGER NOT NULL,
            imported_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS items (
            id INTEGER PRIMARY KEY,
            external_id TEXT NOT NULL UNIQUE,
            prompt TEXT NOT NULL,
            response_a TEXT NOT NULL,
            response_b TEXT NOT NULL,
            model_a TEXT NOT NULL,
            model_b TEXT NOT NULL,
            a_on_left INTEGER NOT NULL CHECK (a_on_left IN (0, 1)),
            import_id INTEGER NOT NULL REFERENCES imports(id)
        );
        CREATE TABLE IF NOT EXISTS annotators (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            token TEXT NOT NULL UNIQUE,
            is_admin INTEGER NOT NULL CHECK (is_admin IN (0, 1)),
            created_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS assignments (
            item_id INTEGER NOT NULL REFERENCES items(id),
            annotator_id INTEGER NOT NULL REFERENCES annotators(id),
            assigned_at TEXT NOT NULL,
            PRIMARY KEY (item_id, annotator_id)
        );
        CREATE INDEX IF NOT EXISTS assignments_by_annotator ON assignments(annotator_id);
        CREATE TABLE IF NOT EXISTS judgments (
            id INTEGER PRIMARY KEY,
            item_id INTEGER NOT NULL,
            annotator_id INTEGER NOT NULL,
            choice TEXT NOT NULL CHECK (choice IN ('A', 'B', 'Tie')),
            criterion TEXT,
            note TEXT,
            submission_id TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            UNIQUE (item_id, annotator_id),
            FOREIGN KEY (item_id, annotator_id) REFERENCES assignments(item_id, annotator_id)
        );
        CREATE INDEX IF NOT EXISTS judgments_by_annotator ON judgments(annotator_id);
        CREATE TABLE IF NOT EXISTS skips (
            id INTEGER PRIMARY KEY,
            item_id INTEGER NOT NULL REFERENCES items(id),
            annotator_id INTEGER NOT NULL REFERENCES annotators(id),
            skipped_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS undone_judgments (
            id INTEGER PRIMARY KEY,
            item_id INTEGER NOT NULL REFERENCES items(id),
            annotator_id INTEGER NOT NULL REFERENCES annotators(id),
            choice TEXT NOT NULL,
            criterion TEXT,
            note TEXT,
            submission_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            undone_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS settings (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """;
}
