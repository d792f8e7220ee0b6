namespace Experiments.Store;

/// <summary>
/// The schema, as an append-only list of migrations: migration n brings a store from user_version n−1 to n.
/// Never edit a released migration; add the next one.
/// </summary>
internal static class Migrations
{
    public static readonly string[] All =
    [
        """
        CREATE TABLE experiments (
            id          INTEGER PRIMARY KEY,
            name        TEXT NOT NULL UNIQUE,
            description TEXT,
            created_at  TEXT NOT NULL
        );
        CREATE TABLE runs (
            id                 INTEGER PRIMARY KEY,
            experiment_id      INTEGER NOT NULL REFERENCES experiments(id),
            status             TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'cancelled', 'killed')),
            definition         TEXT NOT NULL,
            definition_hash    TEXT NOT NULL,
            source             TEXT,
            dataset            TEXT NOT NULL,
            data_fingerprint   TEXT,
            dataset_origin     TEXT,
            dataset_synthetic  INTEGER,
            seed               INTEGER NOT NULL,
            git_commit         TEXT,
            package_versions   TEXT NOT NULL,
            machine            TEXT NOT NULL,
            host               TEXT NOT NULL,
            pid                INTEGER NOT NULL,
            process_started_at TEXT NOT NULL,
            started_at         TEXT NOT NULL,
            ended_at           TEXT,
            error              TEXT
        );
        CREATE INDEX runs_by_experiment ON runs(experiment_id);
        CREATE TABLE trials (
            id               INTEGER PRIMARY KEY,
            run_id           INTEGER NOT NULL REFERENCES runs(id),
            model_name       TEXT NOT NULL,
            model_type       TEXT NOT NULL,
            split_name       TEXT NOT NULL,
            status           TEXT NOT NULL,
            started_at       TEXT NOT NULL,
            ended_at         TEXT,
            fit_seconds      REAL,
            evaluate_seconds REAL,
            protocol         TEXT,
            error            TEXT
        );
        CREATE INDEX trials_by_run ON trials(run_id);
        CREATE TABLE parameters (
            trial_id INTEGER NOT NULL REFERENCES trials(id),
            name     TEXT NOT NULL,
            value    TEXT NOT NULL,
            PRIMARY KEY (trial_id, name)
        );
        CREATE TABLE metrics (
            id         INTEGER PRIMARY KEY,
            run_id     INTEGER NOT NULL REFERENCES runs(id),
            trial_id   INTEGER REFERENCES trials(id),
            split_name TEXT NOT NULL,
            name       TEXT NOT NULL,
            k          INTEGER,
            value      REAL NOT NULL,
            lower      REAL,
            upper      REAL,
            users      INTEGER
        );
        CREATE INDEX metrics_by_run ON metrics(run_id);
        CREATE TABLE artifacts (
            id         INTEGER PRIMARY KEY,
            run_id     INTEGER NOT NULL REFERENCES runs(id),
            trial_id   INTEGER REFERENCES trials(id),
            kind       TEXT NOT NULL,
            path       TEXT NOT NULL,
            sha256     TEXT,
            bytes      INTEGER,
            created_at TEXT NOT NULL
        );
        CREATE TABLE data_issues (
            run_id       INTEGER NOT NULL REFERENCES runs(id),
            kind         TEXT NOT NULL,
            count        INTEGER NOT NULL,
            example_file TEXT,
            example_line INTEGER,
            example      TEXT
        );
        """,
        """
        CREATE TABLE trial_users (
            trial_id INTEGER PRIMARY KEY REFERENCES trials(id),
            user_ids TEXT NOT NULL
        );
        CREATE TABLE user_values (
            trial_id INTEGER NOT NULL REFERENCES trials(id),
            metric   TEXT NOT NULL,
            vals     BLOB NOT NULL,
            PRIMARY KEY (trial_id, metric)
        );
        CREATE TABLE comparisons (
            id          INTEGER PRIMARY KEY,
            run_id      INTEGER NOT NULL REFERENCES runs(id),
            split_name  TEXT NOT NULL,
            metric      TEXT NOT NULL,
            baseline    TEXT NOT NULL,
            model       TEXT NOT NULL,
            difference  REAL NOT NULL,
            lower       REAL NOT NULL,
            upper       REAL NOT NULL,
            p_value     REAL NOT NULL,
            users       INTEGER NOT NULL
        );
        """,
        // Paired tests name their test, carry Holm's adjusted p (and whether it is a bound) and the permutations behind p.
        """
        ALTER TABLE comparisons ADD COLUMN test TEXT;
        ALTER TABLE comparisons ADD COLUMN p_holm REAL;
        ALTER TABLE comparisons ADD COLUMN resamples INTEGER;
        ALTER TABLE comparisons ADD COLUMN p_holm_bound INTEGER;
        """,
        // A random id per run names its report folder (run-N-uid), so stores that share a reports folder never
        // overwrite each other's reports; where the reports go and whether the work tree had uncommitted changes.
        """
        ALTER TABLE runs ADD COLUMN uid TEXT;
        UPDATE runs SET uid = lower(hex(randomblob(4)));
        CREATE UNIQUE INDEX runs_by_uid ON runs(uid);
        ALTER TABLE runs ADD COLUMN reports_root TEXT;
        ALTER TABLE runs ADD COLUMN git_dirty INTEGER;
        """,
        // Sweeps: a study of trials (Optuna's split: study, trials, their parameters, intermediate values, metrics).
        """
        CREATE TABLE sweeps (
            id                 INTEGER PRIMARY KEY,
            run_id             INTEGER REFERENCES runs(id),
            name               TEXT NOT NULL,
            space              TEXT NOT NULL,
            tuner              TEXT NOT NULL,
            pruner             TEXT,
            metric             TEXT NOT NULL,
            direction          TEXT NOT NULL CHECK (direction IN ('minimize', 'maximize')),
            seed               INTEGER NOT NULL,
            parallelism        INTEGER NOT NULL,
            status             TEXT NOT NULL CHECK (status IN ('running', 'finished', 'cancelled', 'failed')),
            host               TEXT NOT NULL,
            pid                INTEGER NOT NULL,
            process_started_at TEXT NOT NULL,
            created_at         TEXT NOT NULL,
            ended_at           TEXT,
            error              TEXT
        );
        CREATE TABLE sweep_trials (
            sweep_id          INTEGER NOT NULL REFERENCES sweeps(id),
            number            INTEGER NOT NULL,
            status            TEXT NOT NULL CHECK (status IN ('running', 'completed', 'pruned', 'failed', 'timed-out', 'out-of-memory', 'cancelled')),
            seed              INTEGER NOT NULL,
            value             REAL,
            started_at        TEXT NOT NULL,
            ended_at          TEXT,
            seconds           REAL,
            cost              REAL,
            peak_memory_bytes INTEGER,
            error_type        TEXT,
            error             TEXT,
            PRIMARY KEY (sweep_id, number)
        );
        CREATE TABLE sweep_parameters (
            sweep_id INTEGER NOT NULL,
            number   INTEGER NOT NULL,
            position INTEGER NOT NULL,
            name     TEXT NOT NULL,
            value    TEXT NOT NULL,
            PRIMARY KEY (sweep_id, number, name),
            FOREIGN KEY (sweep_id, number) REFERENCES sweep_trials(sweep_id, number)
        );
        CREATE TABLE sweep_intermediate (
            sweep_id INTEGER NOT NULL,
            number   INTEGER NOT NULL,
            position INTEGER NOT NULL,
            step     INTEGER NOT NULL,
            value    REAL,
            PRIMARY KEY (sweep_id, number, position),
            FOREIGN KEY (sweep_id, number) REFERENCES sweep_trials(sweep_id, number)
        );
        CREATE TABLE sweep_metrics (
            sweep_id INTEGER NOT NULL,
            number   INTEGER NOT NULL,
            name     TEXT NOT NULL,
            value    REAL,
            lower    REAL,
            upper    REAL,
            PRIMARY KEY (sweep_id, number, name),
            FOREIGN KEY (sweep_id, number) REFERENCES sweep_trials(sweep_id, number)
        );
        """,
        // What reports draw beside the metrics, so that a report of any run is written from the store alone: curves
        // (metric@K, ROC, precision–recall, calibration, confusion counts, feature importance, training curves,
        // popularity views) as JSON columns of numbers, and the data set's profile (sizes, sparsity) per split.
        """
        CREATE TABLE curves (
            id         INTEGER PRIMARY KEY,
            run_id     INTEGER NOT NULL REFERENCES runs(id),
            trial_id   INTEGER REFERENCES trials(id),
            split_name TEXT NOT NULL,
            kind       TEXT NOT NULL,
            name       TEXT NOT NULL,
            points     TEXT NOT NULL
        );
        CREATE INDEX curves_by_run ON curves(run_id);
        CREATE TABLE data_profile (
            run_id     INTEGER NOT NULL REFERENCES runs(id),
            split_name TEXT,
            name       TEXT NOT NULL,
            value      REAL NOT NULL
        );
        """,
        // A run's check against an earlier run of its experiment (the definition's regression rule): the verdict
        // (regressed NULL when it could not be checked; the summary says why) and every test behind it.
        """
        CREATE TABLE regression_checks (
            run_id      INTEGER PRIMARY KEY REFERENCES runs(id),
            against_run INTEGER REFERENCES runs(id),
            rule        TEXT NOT NULL,
            metric      TEXT NOT NULL,
            regressed   INTEGER,
            summary     TEXT NOT NULL,
            checked_at  TEXT NOT NULL
        );
        CREATE TABLE regression_tests (
            run_id     INTEGER NOT NULL REFERENCES runs(id),
            model      TEXT NOT NULL,
            split_name TEXT NOT NULL,
            difference REAL NOT NULL,
            lower      REAL,
            upper      REAL,
            p_value    REAL,
            p_holm     REAL,
            test       TEXT,
            resamples  INTEGER,
            units      INTEGER,
            regressed  INTEGER NOT NULL
        );
        CREATE INDEX regression_tests_by_run ON regression_tests(run_id);
        """,
        // Facts of a trial's fitted model that its parameters do not say (EASE: the items modelled under a cap;
        // matrix factorisation: whether the fit is reproducible bit for bit), recorded when the model reports them.
        """
        CREATE TABLE trial_facts (
            trial_id INTEGER NOT NULL REFERENCES trials(id),
            name     TEXT NOT NULL,
            value    TEXT NOT NULL,
            PRIMARY KEY (trial_id, name)
        );
        """,
        // The trial budget a sweep started with: a tuner that sizes its random start by it (SMAC) gets it back when the
        // sweep is resumed with another budget, so that it proposes what it proposed before.
        """
        ALTER TABLE sweeps ADD COLUMN trial_budget INTEGER;
        """,
    ];
}
