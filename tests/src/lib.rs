//! # ignis-tests: the workspace's integration, property and end-to-end tests
//!
//! - [`example`]: the Ignis persistence guide's example application (User, Configuration with
//!   creator / modifier relations), re-exported from the `ignis-example` crate;
//! - [`TestDb`]: a fresh database per test on the server named by `DATABASE_URL`, dropped when
//!   the test ends, so tests run in parallel and leave nothing behind (the `#[sqlx::test]` idea);
//! - [`debian`]: real application schemas fetched from Debian packages at test time.
//!
//! `cargo xtask test` starts the local cluster when needed and sets `DATABASE_URL`.

pub mod debian;
/// The example application, from its own crate ([`ignis_example`]).
pub use ignis_example as example;

use ignis_tx::{DataSource, DataSourceConfig, Executor, PoolOptions};

/// A database created for one test: `CREATE DATABASE ignis_test_<uuid>` on the server of
/// `DATABASE_URL`, dropped (`WITH (FORCE)`, closing any connection left open) on drop.
///
/// Test support: every constructor panics with a message saying what to do when the server is
/// unreachable or `DATABASE_URL` is unset.
pub struct TestDb {
    /// The database name (`ignis_test_<32 hex digits>`).
    pub name: String,
    /// A URL to the new database (contains the password of `DATABASE_URL`, if any).
    pub url: String,
    admin: DataSourceConfig,
}

/// The server tests use: `DATABASE_URL`.
///
/// # Panics
/// When `DATABASE_URL` is unset or does not parse: run the tests with `cargo xtask test`.
pub fn admin_config() -> DataSourceConfig {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "DATABASE_URL is not set: run the tests with `cargo xtask test` (it starts a local \
             Postgres), or set DATABASE_URL to a server where this user may CREATE DATABASE"
        )
    });
    DataSourceConfig::from_url(&url).unwrap_or_else(|e| panic!("DATABASE_URL: {e}"))
}

fn connect(config: &DataSourceConfig) -> postgres::Client {
    postgres::Client::connect(&config.connection_string(), postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to {config}: {e}"))
}

impl TestDb {
    /// Creates a fresh, empty database.
    ///
    /// # Panics
    /// As [`admin_config`], or when the server refuses `CREATE DATABASE`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        let admin = admin_config();
        let name = format!("ignis_test_{}", uuid::Uuid::new_v4().simple());
        connect(&admin)
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} on {admin}: {e}"));
        let url = admin.clone().with_database(&name).connection_string();
        TestDb { name, url, admin }
    }

    /// The config of this database (default pool options).
    pub fn config(&self) -> DataSourceConfig {
        self.admin.clone().with_database(&self.name)
    }

    /// A datasource over this database with the given pool options.
    ///
    /// # Panics
    /// When the config is refused (it is not, for a URL that parsed).
    pub fn datasource_with(&self, pool: PoolOptions) -> DataSource {
        DataSource::new(self.config().with_pool(pool)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A datasource over this database with default pool options.
    ///
    /// # Panics
    /// As [`TestDb::datasource_with`].
    pub fn datasource(&self) -> DataSource {
        self.datasource_with(PoolOptions::default())
    }

    /// A datasource over this database (default pool options) after migrating `schema` into it
    /// with ignis-migrate: the starting point of the repository tests.
    ///
    /// # Panics
    /// As [`TestDb::datasource`], or when the migration fails.
    pub fn migrated(&self, schema: &ignis_schema::Schema) -> DataSource {
        let ds = self.datasource();
        ignis_migrate::Migrator::new(ds.clone())
            .migrate(schema, |_| {})
            .unwrap_or_else(|e| panic!("migrate: {e}"));
        ds
    }

    /// A plain `postgres` client on this database, outside ignis-tx: what "another connection"
    /// sees. When `DIRECT_URL` is set (Prisma's name for the server behind a pooler), it
    /// connects there rather than to `DATABASE_URL`: the client prepares named statements,
    /// which a pooler in transaction mode does not keep between statements.
    ///
    /// # Panics
    /// When the server is unreachable or `DIRECT_URL` does not parse.
    pub fn client(&self) -> postgres::Client {
        match std::env::var("DIRECT_URL").ok().filter(|u| !u.is_empty()) {
            Some(url) => connect(
                &DataSourceConfig::from_url(&url)
                    .unwrap_or_else(|e| panic!("DIRECT_URL: {e}"))
                    .with_database(&self.name),
            ),
            None => connect(&self.config()),
        }
    }
}

impl TestDb {
    /// `pg_dump --schema-only --no-owner --no-privileges` of this database, run with the server's
    /// own `pg_dump` (`/usr/lib/postgresql/<major>/bin`, else the one on PATH), without what is
    /// not schema: comments, `SET` lines, `\restrict` lines, the search path reset, runs of
    /// blank lines, and the database's name (written `<database>`). Two databases with the same
    /// schema give the same text.
    ///
    /// # Panics
    /// When the server is unreachable or `pg_dump` fails.
    pub fn schema_dump(&self) -> String {
        let num: String = self
            .client()
            .query_one("SHOW server_version_num", &[])
            .unwrap_or_else(|e| panic!("server_version_num: {e}"))
            .get(0);
        let major = num.parse::<u32>().unwrap_or(0) / 10000;
        let own = format!("/usr/lib/postgresql/{major}/bin/pg_dump");
        let program = if std::path::Path::new(&own).exists() {
            own
        } else {
            "pg_dump".to_string()
        };
        let out = std::process::Command::new(&program)
            .args([
                "--schema-only",
                "--no-owner",
                "--no-privileges",
                "--dbname",
                &self.url,
            ])
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "pg_dump: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines: Vec<&str> = Vec::new();
        for line in text.lines() {
            let skip = line.starts_with("--")
                || line.starts_with("\\restrict")
                || line.starts_with("\\unrestrict")
                || line.starts_with("SET ")
                || line.starts_with("SELECT pg_catalog.set_config('search_path'");
            let blank_again = line.is_empty() && lines.last().is_none_or(|l| l.is_empty());
            if !skip && !blank_again {
                lines.push(line);
            }
        }
        lines.join("\n").replace(&self.name, "<database>")
    }
}

/// A migrator on `db` that applies every change the tests plan: data loss allowed
/// ([`ignis_migrate::MigrateOptions::allow_data_loss`]) and tables no model names dropped
/// ([`ignis_migrate::MigrateOptions::drop_unknown`]).
pub fn migrator_for_changes(db: &TestDb) -> ignis_migrate::Migrator {
    ignis_migrate::Migrator::new(db.datasource()).with_options(ignis_migrate::MigrateOptions {
        allow_data_loss: true,
        drop_unknown: true,
        ..ignis_migrate::MigrateOptions::default()
    })
}

/// The kinds of a plan's steps, in order.
pub fn step_kinds(plan: &ignis_migrate::Plan) -> Vec<ignis_migrate::StepKind> {
    plan.steps.iter().map(|s| s.kind).collect()
}

/// What [`pull_round_trip`] made: the source database, the copy migrated from the pulled schema,
/// the pulled schema, and the source's [`TestDb::schema_dump`].
pub struct RoundTrip {
    /// The database `sql` was loaded into.
    pub source: TestDb,
    /// A fresh database migrated with the pulled schema.
    pub copy: TestDb,
    /// The schema pulled from `source` (schema `public`).
    pub pulled: ignis_schema::Schema,
    /// `source.schema_dump()`, equal to the copy's.
    pub dump: String,
}

/// The pull round trip of the migrator's tests: `sql` is loaded into a fresh database and its
/// `public` schema pulled; then pull noted nothing, the pulled schema plans nothing against the
/// source (no step, no note), a fresh database migrated with it plans nothing either, the two
/// `pg_dump --schema-only` are equal, and pulling the copy gives the same schema file.
///
/// # Panics
/// When any of that does not hold (the message says which), or on a setup failure.
pub fn pull_round_trip(sql: &str) -> RoundTrip {
    let schemas = vec!["public".to_string()];
    let source = TestDb::new();
    source
        .client()
        .batch_execute(sql)
        .unwrap_or_else(|e| panic!("loading the source SQL: {e}"));
    let pulled = ignis_migrate::pull::pull_with_notes(&source.datasource(), &schemas)
        .unwrap_or_else(|e| panic!("pull: {e}"));
    assert!(pulled.notes.is_empty(), "pull noted: {:#?}", pulled.notes);
    let file = pulled.schema.to_json();
    assert_eq!(
        ignis_schema::Schema::from_json(&file).ok().as_ref(),
        Some(&pulled.schema),
        "the pulled schema file does not read back as the pulled schema:\n{file}"
    );
    let plan = ignis_migrate::Migrator::new(source.datasource())
        .plan(&pulled.schema)
        .unwrap_or_else(|e| panic!("plan against the source: {e}"));
    assert!(
        plan.matches() && plan.notes.is_empty(),
        "plan against the source:\n{plan}"
    );
    let copy = TestDb::new();
    let m = ignis_migrate::Migrator::new(copy.datasource());
    m.migrate(&pulled.schema, |_| {})
        .unwrap_or_else(|e| panic!("migrate the copy: {e}"));
    let again = m
        .plan(&pulled.schema)
        .unwrap_or_else(|e| panic!("plan against the copy: {e}"));
    assert!(
        again.matches() && again.notes.is_empty(),
        "plan against the copy:\n{again}"
    );
    let dump = source.schema_dump();
    assert_eq!(
        dump,
        copy.schema_dump(),
        "pg_dump of the source and of the copy differ"
    );
    let pulled_again = ignis_migrate::pull::pull_with_notes(&copy.datasource(), &schemas)
        .unwrap_or_else(|e| panic!("pull the copy: {e}"));
    assert_eq!(
        pulled_again.schema.to_json(),
        pulled.schema.to_json(),
        "pulling the copy gives another schema file"
    );
    RoundTrip {
        source,
        copy,
        pulled: pulled.schema,
        dump,
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut c) =
            postgres::Client::connect(&self.admin.connection_string(), postgres::NoTls)
        {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// An executor that records what runs through it, and whether the raw client was asked for.
pub struct Recording<'a> {
    /// The executor statements run on.
    pub inner: &'a mut dyn Executor,
    /// Every statement run through `query`, `execute` and `batch_execute`, in order.
    pub statements: Vec<String>,
    /// How many times the raw client was asked for (COPY paths).
    pub client_calls: usize,
}

impl<'a> Recording<'a> {
    /// Records what runs on `inner`.
    pub fn new(inner: &'a mut dyn Executor) -> Self {
        Recording {
            inner,
            statements: Vec::new(),
            client_calls: 0,
        }
    }

    /// How many recorded statements are INSERTs.
    pub fn inserts(&self) -> usize {
        self.statements
            .iter()
            .filter(|s| s.starts_with("INSERT"))
            .count()
    }
}

impl Executor for Recording<'_> {
    fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, ignis_tx::Error> {
        self.statements.push(sql.to_string());
        self.inner.query(sql, params)
    }
    fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<u64, ignis_tx::Error> {
        self.statements.push(sql.to_string());
        self.inner.execute(sql, params)
    }
    fn batch_execute(&mut self, sql: &str) -> Result<(), ignis_tx::Error> {
        self.statements.push(sql.to_string());
        self.inner.batch_execute(sql)
    }
    fn prepare(&mut self, sql: &str) -> Result<postgres::Statement, ignis_tx::Error> {
        self.inner.prepare(sql)
    }
    fn column_types(&mut self, sql: &str) -> Result<Vec<postgres::types::Type>, ignis_tx::Error> {
        self.inner.column_types(sql)
    }
    fn statement_mode(&mut self) -> ignis_tx::StatementMode {
        self.inner.statement_mode()
    }
    fn client(&mut self) -> Result<&mut postgres::Client, ignis_tx::Error> {
        self.client_calls += 1;
        self.inner.client()
    }
}
