//! Diff two catalogs and order the steps that make the live one match the models.
//!
//! Both sides are [`Catalog`]s: the live database as [`crate::catalog::introspect`] reads it,
//! and the models' catalog that the migrator builds (see the crate documentation). Types, defaults, check expressions and partial-index predicates
//! compare as Postgres prints them, never as the model's author spelled them; primary keys,
//! unique constraints, indexes and foreign keys compare by structure (columns, uniqueness,
//! method, referenced table, actions). So a plan never comes from spelling alone, and the plan
//! after an apply is empty.
//!
//! Every step carries its [`Safety`] (data loss is refused unless allowed, see
//! [`crate::MigrateOptions::allow_data_loss`]) and its [`Hazard`]s, as pg-schema-diff does.
//! Steps run in this order: schemas and enum types; renames; drops of changed or removed foreign
//! keys, checks, unique constraints, indexes and primary keys; column defaults dropped before a
//! type change; type changes, collation changes and identity drops; new tables and columns;
//! defaults, nullability and identities; primary keys, unique constraints, indexes, checks,
//! foreign keys; statistics targets and comments; and last the drops of columns and tables.
//!
//! Renames are never guessed: a model or column says `renamed_from`. Tables that no model names
//! are reported in [`Plan::notes`] and left alone unless [`DiffOptions::drop_unknown`].
//! `skip_migrate` models are never created, altered or dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use ignis_schema::{quote_ident, Model, Schema};
use sea_query::PostgresQueryBuilder;

use crate::catalog::{Catalog, ColumnInfo, RelationKind, TableInfo, TableKey};

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum StepKind {
    /// `CREATE SCHEMA`.
    CreateSchema,
    /// `CREATE TYPE .. AS ENUM`.
    CreateEnum,
    /// `ALTER TYPE .. ADD VALUE`.
    AddEnumValue,
    /// An enum type losing or reordering values: renamed away, created anew, columns recast,
    /// old type dropped.
    RecreateEnum,
    /// `ALTER TABLE .. RENAME TO`.
    RenameTable,
    /// `ALTER TABLE .. RENAME COLUMN`.
    RenameColumn,
    /// `ALTER TABLE .. RENAME CONSTRAINT` / `ALTER INDEX .. RENAME` (same definition, new name).
    RenameConstraint,
    /// `ALTER TABLE .. DROP CONSTRAINT` (foreign key).
    DropForeignKey,
    /// `ALTER TABLE .. DROP CONSTRAINT` (check).
    DropCheck,
    /// `ALTER TABLE .. DROP CONSTRAINT` (unique).
    DropUnique,
    /// `ALTER TABLE .. DROP CONSTRAINT` (exclusion).
    DropExclusion,
    /// `DROP INDEX`.
    DropIndex,
    /// `ALTER TABLE .. DROP CONSTRAINT` (primary key).
    DropPrimaryKey,
    /// `ALTER COLUMN .. DROP DEFAULT`.
    DropDefault,
    /// `ALTER COLUMN .. DROP IDENTITY`.
    DropIdentity,
    /// `ALTER COLUMN .. TYPE .. USING`.
    AlterColumnType,
    /// `ALTER COLUMN .. TYPE .. COLLATE`: the same type under another collation (indexes on
    /// the column are rebuilt).
    AlterCollation,
    /// `CREATE TABLE` with columns, primary key and unique constraints.
    CreateTable,
    /// `ALTER TABLE .. ADD COLUMN`.
    AddColumn,
    /// `ALTER COLUMN .. SET DEFAULT`.
    SetDefault,
    /// `ALTER COLUMN .. DROP NOT NULL`.
    DropNotNull,
    /// `ALTER COLUMN .. SET NOT NULL`.
    SetNotNull,
    /// `ALTER COLUMN .. ADD GENERATED .. AS IDENTITY` / `SET GENERATED`.
    AddIdentity,
    /// `ALTER TABLE .. ADD CONSTRAINT .. PRIMARY KEY`.
    AddPrimaryKey,
    /// `ALTER TABLE .. ADD CONSTRAINT .. UNIQUE`.
    AddUnique,
    /// `CREATE INDEX`.
    CreateIndex,
    /// `ALTER TABLE .. ADD CONSTRAINT .. CHECK`.
    AddCheck,
    /// `ALTER TABLE .. ADD CONSTRAINT .. EXCLUDE`.
    AddExclusion,
    /// `ALTER TABLE .. ADD CONSTRAINT .. FOREIGN KEY`.
    AddForeignKey,
    /// `ALTER TABLE .. VALIDATE CONSTRAINT` (after adding it `NOT VALID` to an existing table).
    ValidateConstraint,
    /// `ALTER SEQUENCE` of a serial column's sequence: its options change, its current value
    /// stays.
    AlterSequence,
    /// `ALTER COLUMN .. SET STATISTICS` (metadata only).
    SetStatistics,
    /// `COMMENT ON TABLE` / `COMMENT ON COLUMN` (metadata only).
    SetComment,
    /// `ALTER TABLE .. DROP COLUMN`.
    DropColumn,
    /// `DROP TABLE`.
    DropTable,
}

impl StepKind {
    /// Lower-case words for plan output (`create table`).
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::CreateSchema => "create schema",
            StepKind::CreateEnum => "create enum type",
            StepKind::AddEnumValue => "add enum value",
            StepKind::RecreateEnum => "recreate enum type",
            StepKind::RenameTable => "rename table",
            StepKind::RenameColumn => "rename column",
            StepKind::RenameConstraint => "rename",
            StepKind::DropForeignKey => "drop foreign key",
            StepKind::DropCheck => "drop check constraint",
            StepKind::DropUnique => "drop unique constraint",
            StepKind::DropExclusion => "drop exclusion constraint",
            StepKind::DropIndex => "drop index",
            StepKind::DropPrimaryKey => "drop primary key",
            StepKind::DropDefault => "drop default",
            StepKind::DropIdentity => "drop identity",
            StepKind::AlterColumnType => "alter column type",
            StepKind::AlterCollation => "alter column collation",
            StepKind::CreateTable => "create table",
            StepKind::AddColumn => "add column",
            StepKind::SetDefault => "set default",
            StepKind::DropNotNull => "drop not null",
            StepKind::SetNotNull => "set not null",
            StepKind::AddIdentity => "set identity",
            StepKind::AddPrimaryKey => "add primary key",
            StepKind::AddUnique => "add unique constraint",
            StepKind::CreateIndex => "create index",
            StepKind::AddCheck => "add check constraint",
            StepKind::AddExclusion => "add exclusion constraint",
            StepKind::AddForeignKey => "add foreign key",
            StepKind::ValidateConstraint => "validate constraint",
            StepKind::AlterSequence => "alter sequence",
            StepKind::SetStatistics => "set statistics",
            StepKind::SetComment => "set comment",
            StepKind::DropColumn => "drop column",
            StepKind::DropTable => "drop table",
        }
    }
}

/// Whether a step can lose data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Safety {
    /// Keeps every stored value.
    Safe,
    /// Loses data, or fails on existing data; refused unless data loss is allowed. The reason
    /// names what is lost (`6 rows have a value`, `42 rows are null`).
    DataLoss(String),
}

/// What a step does to a live system besides its purpose (pg-schema-diff's hazards).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hazard {
    /// Deletes stored data.
    DeletesData,
    /// Rewrites the whole table (time and disk proportional to its size).
    RewritesTable,
    /// Takes an ACCESS EXCLUSIVE lock: blocks reads and writes of the table while it runs.
    AccessExclusiveLock,
    /// Builds an index (blocks writes to the table unless built concurrently).
    BuildsIndex,
    /// Scans the table to validate existing rows.
    ScansTable,
    /// Fails when existing rows violate the new constraint (an exclusion constraint, whose
    /// conflicts are not counted at plan time); the whole plan then rolls back.
    FailsOnConflictingRows,
}

impl Hazard {
    /// Lower-case words for plan output.
    pub fn as_str(self) -> &'static str {
        match self {
            Hazard::DeletesData => "deletes data",
            Hazard::RewritesTable => "rewrites the table",
            Hazard::AccessExclusiveLock => "ACCESS EXCLUSIVE lock",
            Hazard::BuildsIndex => "builds an index",
            Hazard::ScansTable => "scans the table",
            Hazard::FailsOnConflictingRows => "fails if existing rows conflict",
        }
    }
}

/// A query run against the live database at plan time to decide whether a step loses data: it
/// returns one `bigint`; a positive count makes the step [`Safety::DataLoss`] with `reason`
/// (`{n}` replaced by the count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// `SELECT count(*) ...`.
    pub sql: String,
    /// The data-loss reason, with `{n}` for the count.
    pub reason: String,
}

/// One statement of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What it does.
    pub kind: StepKind,
    /// The model it serves (empty for a schema, an enum type or an unknown table).
    pub model: String,
    /// The object it changes: `public.User`, `public.User.email`, `UQ_User_email`.
    pub object: String,
    /// The SQL statement(s), without a trailing semicolon.
    pub sql: String,
    /// Whether it can lose data.
    pub safety: Safety,
    /// What it does to a live system.
    pub hazards: Vec<Hazard>,
    /// A plan-time data check, evaluated (and cleared) by the migrator.
    pub probe: Option<Probe>,
    /// For a type change: the statement to use instead when Postgres has no cast between the
    /// two types (checked at plan time with `SELECT NULL::from::to`), and its data-loss reason.
    pub no_cast_fallback: Option<(String, String, String, String)>,
    /// Runs outside the plan's transaction, after it commits (`CREATE INDEX CONCURRENTLY` with
    /// [`crate::MigrateOptions::concurrent_indexes`]).
    pub concurrent: bool,
}

impl Step {
    fn new(kind: StepKind, model: &str, object: impl Into<String>, sql: impl Into<String>) -> Self {
        Step {
            kind,
            model: model.to_string(),
            object: object.into(),
            sql: sql.into(),
            safety: Safety::Safe,
            hazards: Vec::new(),
            probe: None,
            no_cast_fallback: None,
            concurrent: false,
        }
    }

    fn hazards(mut self, hazards: &[Hazard]) -> Self {
        self.hazards = hazards.to_vec();
        self
    }

    fn loses(mut self, reason: impl Into<String>) -> Self {
        self.safety = Safety::DataLoss(reason.into());
        self
    }

    fn probe(mut self, sql: String, reason: impl Into<String>) -> Self {
        self.probe = Some(Probe {
            sql,
            reason: reason.into(),
        });
        self
    }

    /// `true` for [`Safety::DataLoss`].
    pub fn is_data_loss(&self) -> bool {
        matches!(self.safety, Safety::DataLoss(_))
    }
}

impl fmt::Display for Step {
    /// `-- kind object [data loss: why] (hazards)` then the SQL and `;`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "-- {} {}", self.kind.as_str(), self.object)?;
        match &self.safety {
            Safety::Safe => write!(f, " [safe]")?,
            Safety::DataLoss(why) => write!(f, " [DATA LOSS: {why}]")?,
        }
        if !self.hazards.is_empty() {
            let h: Vec<&str> = self.hazards.iter().map(|h| h.as_str()).collect();
            write!(f, " (hazards: {})", h.join(", "))?;
        }
        if self.concurrent {
            write!(f, " (concurrently, after the transaction commits)")?;
        }
        write!(f, "\n{};", self.sql)
    }
}

/// A difference the migrator saw and does not act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The model concerned, if any.
    pub model: Option<String>,
    /// What differs and why nothing is done about it.
    pub message: String,
    /// Whether the database still matches the models despite it.
    pub kind: NoteKind,
}

/// What a [`Note`] says about the database and the models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// Something outside the models, left alone by design: a table no model names, a view where
    /// a model wants a table, functions and triggers. The database can still match the models.
    LeftAlone,
    /// A managed table differs from its model in a way the model cannot express (an operator
    /// class, a storage parameter, a comment...: see [`crate::Catalog::unexpressed`]). Nothing
    /// can be planned for it, and the database does not match the models: `migrate check`
    /// fails on it.
    Unexpressed,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The ordered steps that make the database match the models, and the differences left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Statements in the order they must run (see the module documentation).
    pub steps: Vec<Step>,
    /// Differences left alone (tables no model names, relations that are not tables), for the
    /// user to read.
    pub notes: Vec<Note>,
}

impl Plan {
    /// True when there is nothing to apply. The database may still differ from the models in a
    /// way they cannot express: see [`Plan::matches`].
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// True when the database matches the models: nothing to apply and no
    /// [`NoteKind::Unexpressed`] difference.
    pub fn matches(&self) -> bool {
        self.steps.is_empty() && !self.notes.iter().any(|n| n.kind == NoteKind::Unexpressed)
    }

    /// The differences the models cannot express ([`NoteKind::Unexpressed`]).
    pub fn unexpressed(&self) -> Vec<&Note> {
        self.notes
            .iter()
            .filter(|n| n.kind == NoteKind::Unexpressed)
            .collect()
    }

    /// The steps that lose data.
    pub fn data_loss(&self) -> Vec<&Step> {
        self.steps.iter().filter(|s| s.is_data_loss()).collect()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        for note in &self.notes {
            match note.kind {
                NoteKind::LeftAlone => writeln!(f, "-- left as is: {note}")?,
                NoteKind::Unexpressed => writeln!(f, "-- differs: {note}")?,
            }
        }
        Ok(())
    }
}

/// What the diff may do beyond creating and altering.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// Drop tables that no model names (`--drop-unknown`); otherwise they are notes.
    pub drop_unknown: bool,
}

/// Models in creation order: a model whose foreign keys reference another model's table comes
/// after it (cycles keep the given order; foreign keys are added after every table anyway).
fn creation_order<'a>(models: &[&'a Model]) -> Vec<&'a Model> {
    let key = |m: &Model| (m.schema.clone(), m.table.clone());
    let index: BTreeMap<TableKey, usize> = models
        .iter()
        .enumerate()
        .map(|(i, m)| (key(m), i))
        .collect();
    let mut placed = vec![false; models.len()];
    let mut out = Vec::with_capacity(models.len());
    fn visit<'a>(
        i: usize,
        models: &[&'a Model],
        index: &BTreeMap<TableKey, usize>,
        placed: &mut Vec<bool>,
        visiting: &mut BTreeSet<usize>,
        out: &mut Vec<&'a Model>,
    ) {
        if placed[i] || !visiting.insert(i) {
            return;
        }
        for fk in &models[i].foreign_keys {
            let referenced = fk.referenced();
            if let Some(&j) = index.get(&(referenced.schema, referenced.table)) {
                if j != i {
                    visit(j, models, index, placed, visiting, out);
                }
            }
        }
        visiting.remove(&i);
        if !placed[i] {
            placed[i] = true;
            out.push(models[i]);
        }
    }
    for i in 0..models.len() {
        visit(
            i,
            models,
            &index,
            &mut placed,
            &mut BTreeSet::new(),
            &mut out,
        );
    }
    out
}

/// Tables the migrator never reports as unknown: refinery's history table.
pub const OWN_TABLES: &[&str] = &["refinery_schema_history"];

use ignis_schema::quote_qualified as qualified;

/// Name -> definition of a table's constraints of one kind.
fn definitions<'a, T>(
    constraints: &'a BTreeMap<String, T>,
    definition: impl Fn(&'a T) -> &'a String,
) -> BTreeMap<&'a String, &'a String> {
    constraints
        .iter()
        .map(|(n, c)| (n, definition(c)))
        .collect()
}

/// `DROP INDEX "schema"."name"` for an index of `m`'s table.
/// `CREATE INDEX` as the catalog prints it (`definition`), flagged as building an index.
fn create_index(m: &Model, name: &str, definition: &str) -> Step {
    Step::new(
        StepKind::CreateIndex,
        &m.name,
        name.to_string(),
        definition.to_string(),
    )
    .hazards(&[Hazard::BuildsIndex])
}

fn drop_index(m: &Model, name: &str) -> Step {
    Step::new(
        StepKind::DropIndex,
        &m.name,
        name.to_string(),
        format!("DROP INDEX {}", qualified(&m.schema, name)),
    )
}

/// Types whose change to another listed type keeps every value (widening). Anything else
/// is classified as data loss (narrowing, or a cast that may fail).
fn is_widening(from: &str, to: &str) -> bool {
    let rank = |t: &str| match t {
        "smallint" => Some(1),
        "integer" => Some(2),
        "bigint" => Some(3),
        "numeric" => Some(4),
        _ => None,
    };
    if let (Some(a), Some(b)) = (rank(from), rank(to)) {
        return a < b;
    }
    if from == "real" && to == "double precision" {
        return true;
    }
    if to == "text" {
        return from.starts_with("character varying")
            || from.starts_with("character(")
            || from == "text";
    }
    if to == "character varying" {
        return from.starts_with("character varying");
    }
    if let (Some(a), Some(b)) = (varchar_len(from), varchar_len(to)) {
        return a <= b;
    }
    if let (Some((p1, s1)), Some((p2, s2))) = (numeric_ps(from), numeric_ps(to)) {
        return s2 >= s1 && (p2 - s2) >= (p1 - s1);
    }
    if numeric_ps(from).is_some() && to == "numeric" {
        return true;
    }
    if from == "timestamp without time zone" && to == "timestamp with time zone" {
        return true;
    }
    if from == "json" && to == "jsonb" {
        return true;
    }
    false
}

fn varchar_len(t: &str) -> Option<u32> {
    t.strip_prefix("character varying(")?
        .strip_suffix(')')?
        .parse()
        .ok()
}

fn numeric_ps(t: &str) -> Option<(i64, i64)> {
    let inner = t.strip_prefix("numeric(")?.strip_suffix(')')?;
    let (p, s) = inner.split_once(',')?;
    Some((p.trim().parse().ok()?, s.trim().parse().ok()?))
}

/// Type changes Postgres does without rewriting the table (binary coercible, or a larger limit).
fn rewrite_free(from: &str, to: &str) -> bool {
    (from.starts_with("character varying") && (to == "text" || to == "character varying"))
        || matches!((varchar_len(from), varchar_len(to)), (Some(a), Some(b)) if a <= b)
        || (numeric_ps(from).is_some() && to == "numeric")
}

/// Compares the desired catalog (the models' catalog as the migrator builds it, keyed by their
/// real schema names) with the live one, and plans the statements that make the live
/// one match. Data-loss steps are included (with their [`Safety`]); refusing them is the
/// migrator's job.
pub fn diff(schema: &Schema, desired: &Catalog, live: &Catalog, options: DiffOptions) -> Plan {
    let mut d = Differ {
        steps: Vec::new(),
        notes: Vec::new(),
    };
    let managed: Vec<&Model> = schema.models().iter().filter(|m| !m.skip_migrate).collect();

    let mut new_schemas = BTreeSet::new();
    for m in &managed {
        if !live.schemas.contains(&m.schema) && new_schemas.insert(m.schema.clone()) {
            d.push(Step::new(
                StepKind::CreateSchema,
                "",
                m.schema.clone(),
                format!("CREATE SCHEMA {}", quote_ident(&m.schema)),
            ));
        }
    }
    d.enums(schema, desired, live);

    // Live tables as they will be named after renames.
    let mut renamed_live: BTreeMap<TableKey, (TableKey, &TableInfo)> = BTreeMap::new();
    for m in creation_order(&managed) {
        let key = (m.schema.clone(), m.table.clone());
        let Some(want) = desired.tables.get(&key) else {
            d.notes.push(Note {
                model: Some(m.name.clone()),
                kind: NoteKind::LeftAlone,
                message: format!(
                    "model `{}`: table {} was not found in the normalised schema",
                    m.name,
                    m.qualified_table()
                ),
            });
            continue;
        };
        let have = match live.tables.get(&key) {
            Some(h) => Some((key.clone(), h)),
            None => m.renamed_from.as_ref().and_then(|old| {
                let old_key = (m.schema.clone(), old.clone());
                live.tables.get(&old_key).map(|h| (old_key, h))
            }),
        };
        match have {
            None => d.create_table(m, want),
            Some((_, h)) if h.kind != RelationKind::Table => d.notes.push(Note {
                model: Some(m.name.clone()),
                kind: NoteKind::LeftAlone,
                message: format!(
                    "model `{}`: {} exists but is a {:?}, not a table; left as is",
                    m.name,
                    m.qualified_table(),
                    h.kind
                ),
            }),
            Some((have_key, h)) => {
                if have_key != key {
                    d.push(
                        Step::new(
                            StepKind::RenameTable,
                            &m.name,
                            format!("{}.{} -> {}", have_key.0, have_key.1, m.table),
                            format!(
                                "ALTER TABLE {} RENAME TO {}",
                                qualified(&have_key.0, &have_key.1),
                                quote_ident(&m.table)
                            ),
                        )
                        .hazards(&[Hazard::AccessExclusiveLock]),
                    );
                }
                renamed_live.insert(have_key.clone(), (key.clone(), h));
                d.compare_table(m, want, h);
                for what in live.unexpressed.get(&have_key).into_iter().flatten() {
                    // An index, constraint or column the plan drops (to recreate it from the
                    // model, or for good) no longer differs once the plan ran.
                    let dropped = d.steps.iter().any(|s| {
                        s.model == m.name
                            && matches!(
                                s.kind,
                                StepKind::DropIndex
                                    | StepKind::DropUnique
                                    | StepKind::DropExclusion
                                    | StepKind::DropForeignKey
                                    | StepKind::DropPrimaryKey
                                    | StepKind::DropCheck
                                    | StepKind::DropColumn
                            )
                            && !what.name.is_empty()
                            && (s.object == what.name
                                || s.object.ends_with(&format!(".{}", what.name)))
                    });
                    if dropped {
                        continue;
                    }
                    d.notes.push(Note {
                        model: Some(m.name.clone()),
                        kind: NoteKind::Unexpressed,
                        message: format!(
                            "model `{}`: {} differs in a way the model cannot express: {what}",
                            m.name,
                            m.qualified_table()
                        ),
                    });
                }
            }
        }
    }

    for (key, info) in &live.tables {
        let named = schema
            .models()
            .iter()
            .any(|m| m.schema == key.0 && m.table == key.1);
        if named || renamed_live.contains_key(key) || OWN_TABLES.contains(&key.1.as_str()) {
            continue;
        }
        if info.kind != RelationKind::Table {
            let kind = match info.kind {
                RelationKind::View => "view",
                RelationKind::Foreign => "foreign table",
                RelationKind::Table => "table",
            };
            d.notes.push(Note {
                model: None,
                kind: NoteKind::LeftAlone,
                message: format!(
                    "{kind} {}.{} is in the database but in no model; not managed by the migrator, left as is",
                    key.0, key.1
                ),
            });
            continue;
        }
        if options.drop_unknown {
            let table = qualified(&key.0, &key.1);
            d.push(
                Step::new(
                    StepKind::DropTable,
                    "",
                    format!("{}.{}", key.0, key.1),
                    format!("DROP TABLE {table}"),
                )
                .hazards(&[Hazard::DeletesData, Hazard::AccessExclusiveLock])
                .loses("the table is dropped")
                .probe(
                    format!("SELECT count(*) FROM {table}"),
                    "drops the table and its {n} rows",
                ),
            );
        } else {
            d.notes.push(Note {
                model: None,
                kind: NoteKind::LeftAlone,
                message: format!(
                    "table {}.{} is in the database but in no model (drop it with --drop-unknown)",
                    key.0, key.1
                ),
            });
        }
    }
    for (_, what) in &live.unmanaged {
        d.notes.push(Note {
            model: None,
            kind: NoteKind::LeftAlone,
            message: format!("{what} is not managed by the migrator; left as is"),
        });
    }
    let mut steps = d.steps;
    // Stable sort: within a kind, the creation order (referenced tables first) is kept.
    steps.sort_by_key(|s| s.kind);
    Plan {
        steps,
        notes: d.notes,
    }
}

struct Differ {
    steps: Vec<Step>,
    notes: Vec<Note>,
}

impl Differ {
    fn push(&mut self, step: Step) {
        self.steps.push(step);
    }

    fn enums(&mut self, schema: &Schema, desired: &Catalog, live: &Catalog) {
        for e in schema.enums() {
            let key = (e.schema.clone(), e.name.clone());
            let Some(want) = desired.enums.get(&key) else {
                continue;
            };
            let object = format!("{}.{}", e.schema, e.name);
            let qname = qualified(&e.schema, &e.name);
            match live.enums.get(&key) {
                None => self.push(Step::new(StepKind::CreateEnum, "", object, e.create_sql())),
                Some(have) if have == want => {}
                Some(have) => {
                    // Appending values keeps every stored label: ADD VALUE in place.
                    let appended = want.len() > have.len() && want[..have.len()] == have[..];
                    if appended {
                        for v in &want[have.len()..] {
                            self.push(Step::new(
                                StepKind::AddEnumValue,
                                "",
                                format!("{object} '{v}'"),
                                format!(
                                    "ALTER TYPE {qname} ADD VALUE {}",
                                    ignis_schema::enrich::sql_string_literal(v)
                                ),
                            ));
                        }
                        continue;
                    }
                    // Removing or reordering: recreate the type and recast its columns.
                    let old = format!("{}_ignis_old", e.name);
                    let mut sql = vec![
                        format!("ALTER TYPE {qname} RENAME TO {}", quote_ident(&old)),
                        e.create_sql(),
                    ];
                    let mut uses = Vec::new();
                    for ((s, t), info) in &live.tables {
                        for c in &info.columns {
                            let unqualified =
                                c.data_type == e.name || c.data_type == quote_ident(&e.name);
                            let qualified_match = c.data_type == format!("{}.{}", e.schema, e.name)
                                || c.data_type == format!("{}.{}", e.schema, quote_ident(&e.name));
                            if unqualified || qualified_match {
                                uses.push((s.clone(), t.clone(), c.clone()));
                            }
                        }
                    }
                    let removed: Vec<&String> = have.iter().filter(|v| !want.contains(v)).collect();
                    for (s, t, c) in &uses {
                        let table = qualified(s, t);
                        let col = quote_ident(&c.name);
                        if c.default.is_some() {
                            sql.push(format!(
                                "ALTER TABLE {table} ALTER COLUMN {col} DROP DEFAULT"
                            ));
                        }
                        sql.push(format!(
                            "ALTER TABLE {table} ALTER COLUMN {col} TYPE {qname} USING {col}::text::{qname}"
                        ));
                        if let Some(def) = &c.default {
                            sql.push(format!(
                                "ALTER TABLE {table} ALTER COLUMN {col} SET DEFAULT {}",
                                def.replace(&format!("{}.{}", e.schema, e.name), &qname)
                            ));
                        }
                    }
                    sql.push(format!("DROP TYPE {}", qualified(&e.schema, &old)));
                    let mut step =
                        Step::new(StepKind::RecreateEnum, "", object.clone(), sql.join(";\n"))
                            .hazards(&[Hazard::RewritesTable, Hazard::AccessExclusiveLock]);
                    if !removed.is_empty() {
                        let labels: Vec<String> =
                            removed.iter().map(|v| format!("'{v}'")).collect();
                        step = step.loses(format!("removes the values {}", labels.join(", ")));
                        if let Some((s, t, c)) = uses.first() {
                            let lits: Vec<String> = removed
                                .iter()
                                .map(|v| ignis_schema::enrich::sql_string_literal(v))
                                .collect();
                            step = step.probe(
                                format!(
                                    "SELECT count(*) FROM {} WHERE {}::text IN ({})",
                                    qualified(s, t),
                                    quote_ident(&c.name),
                                    lits.join(", ")
                                ),
                                format!("{{n}} rows of {s}.{t} hold a removed value of {object}"),
                            );
                        }
                    }
                    self.push(step);
                }
            }
        }
    }

    fn create_table(&mut self, m: &Model, want: &TableInfo) {
        self.push(Step::new(
            StepKind::CreateTable,
            &m.name,
            m.qualified_table(),
            m.create_table_statement().to_string(PostgresQueryBuilder),
        ));
        // The keys sea-query cannot write in CREATE TABLE (see `Model::create_table_statement`).
        let quoted_table = qualified(&m.schema, &m.table);
        let pk = want
            .primary_key
            .as_ref()
            .filter(|_| m.primary_key_deferrable);
        let keys = pk.map(|k| (StepKind::AddPrimaryKey, k)).into_iter().chain(
            want.uniques
                .values()
                .filter(|u| u.deferrable || u.nulls_not_distinct)
                .map(|u| (StepKind::AddUnique, u)),
        );
        for (kind, k) in keys {
            self.push(Step::new(
                kind,
                &m.name,
                k.name.clone(),
                format!(
                    "ALTER TABLE {quoted_table} ADD CONSTRAINT {} {}",
                    quote_ident(&k.name),
                    k.definition
                ),
            ));
        }
        if let Some(c) = &want.comment {
            self.push(Step::new(
                StepKind::SetComment,
                &m.name,
                m.qualified_table(),
                m.table_comment_sql(Some(c)),
            ));
        }
        for w in &want.columns {
            self.serial_sequence(m, w, None, false);
            self.serial_sequence_name(m, w);
            self.column_metadata(m, w, None);
        }
        for i in want.indexes.values() {
            self.push(create_index(m, &i.name, &i.definition));
        }
        let table = qualified(&m.schema, &m.table);
        for (name, def) in &want.checks {
            self.push(Step::new(
                StepKind::AddCheck,
                &m.name,
                name.clone(),
                format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {} {}",
                    quote_ident(name),
                    check_sql(m, name, def)
                ),
            ));
        }
        for x in want.exclusions.values() {
            self.push(
                Step::new(
                    StepKind::AddExclusion,
                    &m.name,
                    x.name.clone(),
                    exclusion_sql(m, &table, &x.name, &x.definition),
                )
                .hazards(&[Hazard::BuildsIndex]),
            );
        }
        for fk in want.foreign_keys.values() {
            self.push(Step::new(
                StepKind::AddForeignKey,
                &m.name,
                fk.name.clone(),
                format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {} {}",
                    quote_ident(&fk.name),
                    fk.definition
                ),
            ));
        }
    }

    fn compare_table(&mut self, m: &Model, want: &TableInfo, have: &TableInfo) {
        let table = qualified(&m.schema, &m.table);
        let object = |c: &str| format!("{}.{c}", m.qualified_table());
        let mut matched: BTreeSet<String> = BTreeSet::new();

        for w in &want.columns {
            let model_col = m.column_by_name(&w.name);
            let h = match have.column(&w.name) {
                Some(h) => Some(h),
                None => model_col
                    .and_then(|c| c.renamed_from.as_ref())
                    .and_then(|old| have.column(old)),
            };
            let Some(h) = h else {
                self.add_column(m, w);
                continue;
            };
            matched.insert(h.name.clone());
            let col = quote_ident(&w.name);
            if h.name != w.name {
                self.push(Step::new(
                    StepKind::RenameColumn,
                    &m.name,
                    format!("{} -> {}", object(&h.name), w.name),
                    format!(
                        "ALTER TABLE {table} RENAME COLUMN {} TO {col}",
                        quote_ident(&h.name)
                    ),
                ));
            }
            self.compare_column(m, &table, &object(&w.name), &col, w, h);
            self.serial_sequence(m, w, Some(h), false);
            self.column_metadata(m, w, Some(h));
        }
        if want.comment != have.comment {
            self.push(Step::new(
                StepKind::SetComment,
                &m.name,
                m.qualified_table(),
                m.table_comment_sql(want.comment.as_deref()),
            ));
        }
        for h in &have.columns {
            if !matched.contains(&h.name) {
                let col = quote_ident(&h.name);
                self.push(
                    Step::new(
                        StepKind::DropColumn,
                        &m.name,
                        object(&h.name),
                        format!("ALTER TABLE {table} DROP COLUMN {col}"),
                    )
                    .hazards(&[Hazard::DeletesData, Hazard::AccessExclusiveLock])
                    .loses("the column is dropped")
                    .probe(
                        format!("SELECT count({col}) FROM {table}"),
                        format!("drops column {}: {{n}} rows have a value", object(&h.name)),
                    ),
                );
            }
        }

        // Probes run before any step, on the live table: they may only name columns that exist
        // there under the same name (not new or renamed ones, which hold no data to check yet).
        let probe_ok = |cols: &[String]| {
            cols.iter()
                .all(|c| have.column(c).is_some() && want.column(c).is_some())
        };
        // Primary key.
        match (&want.primary_key, &have.primary_key) {
            (Some(w), Some(h)) if w.definition == h.definition && w.name == h.name => {}
            (Some(w), Some(h)) if w.definition == h.definition => self.push(Step::new(
                StepKind::RenameConstraint,
                &m.name,
                format!("{} -> {}", h.name, w.name),
                format!(
                    "ALTER TABLE {table} RENAME CONSTRAINT {} TO {}",
                    quote_ident(&h.name),
                    quote_ident(&w.name)
                ),
            )),
            (w, h) => {
                if let Some(h) = h {
                    self.push(
                        Step::new(
                            StepKind::DropPrimaryKey,
                            &m.name,
                            h.name.clone(),
                            format!(
                                "ALTER TABLE {table} DROP CONSTRAINT {}",
                                quote_ident(&h.name)
                            ),
                        )
                        .hazards(&[Hazard::AccessExclusiveLock]),
                    );
                }
                if let Some(w) = w {
                    let cols: Vec<String> = w.columns.iter().map(|c| quote_ident(c)).collect();
                    let step = Step::new(
                        StepKind::AddPrimaryKey,
                        &m.name,
                        w.name.clone(),
                        format!(
                            "ALTER TABLE {table} ADD CONSTRAINT {} {}",
                            quote_ident(&w.name),
                            w.definition
                        ),
                    )
                    .hazards(&[Hazard::BuildsIndex, Hazard::AccessExclusiveLock]);
                    let step = if !probe_ok(&w.columns) {
                        step
                    } else {
                        step.probe(
                            format!(
                                "SELECT count(*) FROM (SELECT 1 FROM {table} GROUP BY {0} HAVING count(*) > 1) d",
                                cols.join(", ")
                            ),
                            format!("{{n}} key values of {} appear more than once", m.qualified_table()),
                        )
                    };
                    self.push(step);
                }
            }
        }

        // Unique constraints, checks, foreign keys: by name, compared by definition; a changed
        // definition is drop + create; a removed one whose definition reappears under a new
        // name is a rename.
        // Duplicates are counted only over columns that already hold data under that name.
        let unique_probe = |name: &str| {
            want.uniques
                .get(name)
                .filter(|u| probe_ok(&u.columns))
                .map(|u| u.columns.clone())
        };
        self.constraints(
            m,
            &table,
            Kind::Unique,
            &definitions(&want.uniques, |c| &c.definition),
            &definitions(&have.uniques, |c| &c.definition),
            &unique_probe,
        );
        self.constraints(
            m,
            &table,
            Kind::Check,
            &definitions(&want.checks, |d| d),
            &definitions(&have.checks, |d| d),
            &|_| None,
        );
        self.constraints(
            m,
            &table,
            Kind::Exclusion,
            &definitions(&want.exclusions, |c| &c.definition),
            &definitions(&have.exclusions, |c| &c.definition),
            &|_| None,
        );
        self.constraints(
            m,
            &table,
            Kind::ForeignKey,
            &definitions(&want.foreign_keys, |c| &c.definition),
            &definitions(&have.foreign_keys, |c| &c.definition),
            &|_| None,
        );

        // Indexes: compared by definition with the name taken out.
        let strip =
            |name: &str, def: &str| def.replacen(&format!(" {} ON ", quote_ident(name)), " ON ", 1);
        let mut renamed_from: BTreeSet<&String> = BTreeSet::new();
        for (name, w) in &want.indexes {
            match have.indexes.get(name) {
                Some(h) if h.definition == w.definition => {}
                Some(h) => {
                    self.push(drop_index(m, &h.name));
                    self.push(create_index(m, name, &w.definition));
                }
                None => {
                    let same = have.indexes.iter().find(|(hn, h)| {
                        !want.indexes.contains_key(*hn)
                            && !renamed_from.contains(hn)
                            && strip(hn, &h.definition) == strip(name, &w.definition)
                    });
                    if let Some((hn, _)) = same {
                        renamed_from.insert(hn);
                        self.push(Step::new(
                            StepKind::RenameConstraint,
                            &m.name,
                            format!("{hn} -> {name}"),
                            format!(
                                "ALTER INDEX {} RENAME TO {}",
                                qualified(&m.schema, hn),
                                quote_ident(name)
                            ),
                        ));
                    } else {
                        self.push(create_index(m, name, &w.definition));
                    }
                }
            }
        }
        for name in have.indexes.keys() {
            if !want.indexes.contains_key(name) && !renamed_from.contains(name) {
                self.push(drop_index(m, name));
            }
        }
    }

    fn constraints(
        &mut self,
        m: &Model,
        table: &str,
        kind: Kind,
        want: &BTreeMap<&String, &String>,
        have: &BTreeMap<&String, &String>,
        probe_columns: &dyn Fn(&str) -> Option<Vec<String>>,
    ) {
        let (drop_kind, add_kind) = match kind {
            Kind::Unique => (StepKind::DropUnique, StepKind::AddUnique),
            Kind::Check => (StepKind::DropCheck, StepKind::AddCheck),
            Kind::ForeignKey => (StepKind::DropForeignKey, StepKind::AddForeignKey),
            Kind::Exclusion => (StepKind::DropExclusion, StepKind::AddExclusion),
        };
        let drop_hazards: &[Hazard] = match kind {
            Kind::Exclusion => &[Hazard::AccessExclusiveLock],
            _ => &[],
        };
        let drop = |name: &str| {
            Step::new(
                drop_kind,
                &m.name,
                name.to_string(),
                format!("ALTER TABLE {table} DROP CONSTRAINT {}", quote_ident(name)),
            )
            .hazards(drop_hazards)
        };
        let mut renamed: BTreeSet<&String> = BTreeSet::new();
        for (name, def) in want {
            match have.get(name) {
                Some(h) if h == def => {}
                other => {
                    if other.is_some() {
                        self.push(drop(name));
                    } else if let Some((hn, _)) = have.iter().find(|(hn, hd)| {
                        !want.contains_key(*hn) && !renamed.contains(*hn) && hd == &def
                    }) {
                        renamed.insert(hn);
                        self.push(Step::new(
                            StepKind::RenameConstraint,
                            &m.name,
                            format!("{hn} -> {name}"),
                            format!(
                                "ALTER TABLE {table} RENAME CONSTRAINT {} TO {}",
                                quote_ident(hn),
                                quote_ident(name)
                            ),
                        ));
                        continue;
                    }
                    self.add_constraint(m, table, add_kind, name, def, probe_columns(name));
                }
            }
        }
        for name in have.keys() {
            if !want.contains_key(*name) && !renamed.contains(*name) {
                self.push(drop(name));
            }
        }
    }

    /// Adds a constraint to an existing table. Foreign keys and checks are added `NOT VALID` and
    /// then validated, so the long scan does not hold the ACCESS EXCLUSIVE lock.
    /// `probe` names the columns of a unique constraint to count duplicates over at plan time
    /// (`None`: no probe, e.g. for new columns).
    fn add_constraint(
        &mut self,
        m: &Model,
        table: &str,
        kind: StepKind,
        name: &str,
        def: &str,
        probe: Option<Vec<String>>,
    ) {
        let q = quote_ident(name);
        match kind {
            StepKind::AddUnique => {
                let step = Step::new(
                    kind,
                    &m.name,
                    name.to_string(),
                    format!("ALTER TABLE {table} ADD CONSTRAINT {q} {def}"),
                )
                .hazards(&[Hazard::BuildsIndex]);
                let Some(cols) = probe else {
                    self.push(step);
                    return;
                };
                let cols = ignis_schema::quote_ident_list(&cols);
                self.push(
                    step
                        .probe(
                            format!(
                                "SELECT count(*) FROM (SELECT 1 FROM {table} WHERE ({cols}) IS NOT NULL GROUP BY {cols} HAVING count(*) > 1) d"
                            ),
                            format!("{{n}} values of ({cols}) in {} appear more than once", m.qualified_table()),
                        ),
                );
            }
            StepKind::AddExclusion => self.push(
                Step::new(
                    kind,
                    &m.name,
                    name.to_string(),
                    exclusion_sql(m, table, name, def),
                )
                .hazards(&[
                    Hazard::BuildsIndex,
                    Hazard::AccessExclusiveLock,
                    Hazard::FailsOnConflictingRows,
                ]),
            ),
            _ => {
                let def = if kind == StepKind::AddCheck {
                    check_sql(m, name, def)
                } else {
                    def.to_string()
                };
                self.push(Step::new(
                    kind,
                    &m.name,
                    name.to_string(),
                    format!("ALTER TABLE {table} ADD CONSTRAINT {q} {def} NOT VALID"),
                ));
                self.push(
                    Step::new(
                        StepKind::ValidateConstraint,
                        &m.name,
                        name.to_string(),
                        format!("ALTER TABLE {table} VALIDATE CONSTRAINT {q}"),
                    )
                    .hazards(&[Hazard::ScansTable]),
                );
            }
        }
    }

    fn add_column(&mut self, m: &Model, w: &ColumnInfo) {
        let table = qualified(&m.schema, &m.table);
        // A serial column is added as the pseudo-type: it creates its own sequence (the
        // normalised default names a sequence that does not exist yet).
        let serial = m
            .column_by_name(&w.name)
            .filter(|c| c.pg_type.is_serial())
            .map(|c| c.pg_type.to_string());
        let mut sql = format!(
            "ALTER TABLE {table} ADD COLUMN {} {}",
            quote_ident(&w.name),
            serial.as_deref().unwrap_or(&w.data_type)
        );
        if let Some(c) = w.collation.as_ref().filter(|_| serial.is_none()) {
            sql.push_str(&format!(" COLLATE {}", quote_ident(c)));
        }
        let mut hazards = Vec::new();
        if let Some(d) = w.default.as_ref().filter(|_| serial.is_none()) {
            sql.push_str(&format!(" DEFAULT {d}"));
            // A volatile default (now(), gen_random_uuid()) fills every row: a rewrite.
            if d.contains('(') {
                hazards.push(Hazard::RewritesTable);
                hazards.push(Hazard::AccessExclusiveLock);
            }
        }
        match w.identity {
            Some('a') => sql.push_str(" GENERATED ALWAYS AS IDENTITY"),
            Some('d') => sql.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
            _ => {}
        }
        if !w.nullable {
            sql.push_str(" NOT NULL");
        }
        let mut step = Step::new(
            StepKind::AddColumn,
            &m.name,
            format!("{}.{}", m.qualified_table(), w.name),
            sql,
        )
        .hazards(&hazards);
        if !w.nullable && w.default.is_none() && w.identity.is_none() {
            step = step.probe(
                format!("SELECT count(*) FROM {table}"),
                format!(
                    "adds NOT NULL column {}.{} without a default to a table with {{n}} rows",
                    m.qualified_table(),
                    w.name
                ),
            );
        }
        self.push(step);
        self.serial_sequence(m, w, None, true);
        self.serial_sequence_name(m, w);
        self.column_metadata(m, w, None);
    }

    /// For a serial column the plan creates (a new table's, or an added column) whose model names
    /// its sequence ([`ignis_schema::Column::sequence_name`]): the step renaming the sequence
    /// `serial` created.
    fn serial_sequence_name(&mut self, m: &Model, w: &ColumnInfo) {
        let Some(name) = m
            .column_by_name(&w.name)
            .filter(|c| c.pg_type.is_serial())
            .and_then(|c| c.sequence_name.as_ref())
        else {
            return;
        };
        let table = qualified(&m.schema, &m.table);
        self.push(Step::new(
            StepKind::AlterSequence,
            &m.name,
            format!("{}.{} sequence -> {name}", m.qualified_table(), w.name),
            ignis_schema::rename_serial_sequence_sql(&table, &w.name, name),
        ));
    }

    /// The statistics target and the comment of a column, as steps of their own (metadata
    /// only: no rewrite, no ACCESS EXCLUSIVE lock), when they differ from the live column's
    /// (`have`; `None` for a column the plan creates).
    fn column_metadata(&mut self, m: &Model, w: &ColumnInfo, have: Option<&ColumnInfo>) {
        let object = format!("{}.{}", m.qualified_table(), w.name);
        if w.statistics != have.and_then(|h| h.statistics) {
            self.push(Step::new(
                StepKind::SetStatistics,
                &m.name,
                object.clone(),
                m.set_statistics_sql(&w.name, w.statistics),
            ));
        }
        if w.comment.as_deref() != have.and_then(|h| h.comment.as_deref()) {
            self.push(Step::new(
                StepKind::SetComment,
                &m.name,
                object,
                m.column_comment_sql(&w.name, w.comment.as_deref()),
            ));
        }
    }

    /// The options of a serial column's sequence, when the model's (`w`, read back from a
    /// scratch sequence) differ from the live sequence's (`have`; a column the plan creates or
    /// turns into a serial gets a sequence with `serial`'s defaults). Safe: the current value
    /// stays; a current value outside the new MINVALUE / MAXVALUE makes `ALTER SEQUENCE` fail,
    /// which the probe reports at plan time. With `renumber` (a serial column added to an
    /// existing table, whose rows `ADD COLUMN` numbered with `serial`'s defaults), the sequence
    /// restarts and the rows are numbered again from it.
    fn serial_sequence(
        &mut self,
        m: &Model,
        w: &ColumnInfo,
        have: Option<&ColumnInfo>,
        renumber: bool,
    ) {
        let object = &format!("{}.{}", m.qualified_table(), w.name);
        let Some(want) = w.serial_sequence.as_ref() else {
            return;
        };
        let serial = m
            .column_by_name(&w.name)
            .is_some_and(|c| c.pg_type.is_serial());
        // An identity's sequence is created with its options; an existing identity's options
        // are compared here. (A column becoming an identity gets them in that step.)
        let identity_kept = w.identity.is_some()
            && have.is_some_and(|h| h.identity.is_some() && h.data_type == w.data_type);
        if !serial && !identity_kept {
            return;
        }
        let live = have.and_then(|h| h.serial_sequence.clone());
        if live
            .as_ref()
            .unwrap_or(&ignis_schema::SequenceOptions::default())
            == want
        {
            return;
        }
        let table = qualified(&m.schema, &m.table);
        let mut step = Step::new(
            StepKind::AlterSequence,
            &m.name,
            format!("{object} ({})", want.to_sql()),
            if renumber {
                want.renumber_serial_sql(&table, &w.name, &w.data_type)
            } else {
                want.alter_serial_sql(&table, &w.name, &w.data_type)
            },
        );
        if renumber {
            step = step.hazards(&[Hazard::RewritesTable, Hazard::AccessExclusiveLock]);
        }
        // A sequence the live column owns already: its current value must fit the new range.
        if let Some(h) = have.filter(|_| live.is_some()) {
            let (min, max) = want.range(&w.data_type);
            step = step.probe(
                format!(
                    "SELECT count(*) FROM pg_sequences s \
                     WHERE format('%I.%I', s.schemaname, s.sequencename)::regclass \
                         = pg_get_serial_sequence('{}', '{}')::regclass \
                       AND (s.last_value < {min} OR s.last_value > {max})",
                    table.replace('\'', "''"),
                    h.name.replace('\'', "''")
                ),
                format!(
                    "the current value of the sequence of {object} is outside \
                     [{min}, {max}]: ALTER SEQUENCE fails"
                ),
            );
        }
        self.push(step);
    }

    fn compare_column(
        &mut self,
        m: &Model,
        table: &str,
        object: &str,
        col: &str,
        w: &ColumnInfo,
        h: &ColumnInfo,
    ) {
        let alter = format!("ALTER TABLE {table} ALTER COLUMN {col}");
        let type_changes = w.data_type != h.data_type;
        // `TYPE` without `COLLATE` gives the column its type's default collation, so a type
        // change states the model's collation, and a collation change alone is a `TYPE` to the
        // same type.
        let collate = w
            .collation
            .as_ref()
            .map(|c| format!(" COLLATE {}", quote_ident(c)))
            .unwrap_or_default();
        if !type_changes && w.collation != h.collation {
            let name = |c: &Option<String>| c.as_deref().map_or("default".into(), quote_ident);
            self.push(
                Step::new(
                    StepKind::AlterCollation,
                    &m.name,
                    format!("{object} {} -> {}", name(&h.collation), name(&w.collation)),
                    format!("{alter} TYPE {}{collate}", w.data_type),
                )
                .hazards(&[Hazard::BuildsIndex, Hazard::AccessExclusiveLock]),
            );
        }
        // The sequence a serial column of the model names in its default
        // (`nextval('public.t_id_seq'::regclass)`), when the column is a serial.
        let serial_seq = m
            .column_by_name(&w.name)
            .filter(|c| c.pg_type.is_serial())
            .and(w.default.as_deref())
            .and_then(nextval_target);
        // `pg_get_serial_sequence` arguments: the table and column as SQL string literals.
        let (table_lit, col_lit) = (table.replace('\'', "''"), w.name.replace('\'', "''"));
        let mut default_set = false;
        if h.generated.is_some() && w.generated.is_none() {
            // A generated column the model declares as a plain one: keep its values, stop
            // generating them (Postgres 13+).
            self.push(Step::new(
                StepKind::DropDefault,
                &m.name,
                object,
                format!("{alter} DROP EXPRESSION"),
            ));
        }
        // Identity first dropped (a type change or removal needs it gone).
        if h.identity.is_some() && (w.identity.is_none() || type_changes) {
            match &serial_seq {
                // Identity to serial: the serial's sequence continues where the identity's
                // stopped (DROP IDENTITY drops that one, so its value is read first).
                Some(seq) if w.identity.is_none() => {
                    default_set = true;
                    self.push(Step::new(
                        StepKind::DropIdentity,
                        &m.name,
                        object,
                        format!(
                            "DO $ignis$\nDECLARE last bigint; called boolean;\nBEGIN\n\
                             EXECUTE format('SELECT last_value, is_called FROM %s', \
                             pg_get_serial_sequence('{table_lit}', '{col_lit}')) INTO last, called;\n\
                             {alter} DROP IDENTITY;\n\
                             CREATE SEQUENCE {seq} AS {} OWNED BY {table}.{col};\n\
                             {alter} SET DEFAULT {};\n\
                             PERFORM setval('{}', last, called);\nEND\n$ignis$",
                            w.data_type,
                            w.default.as_deref().unwrap_or_default(),
                            seq.replace('\'', "''"),
                        ),
                    ));
                }
                _ => self.push(Step::new(
                    StepKind::DropIdentity,
                    &m.name,
                    object,
                    format!("{alter} DROP IDENTITY"),
                )),
            }
        }
        let mut default_changes = w.default != h.default || (type_changes && h.default.is_some());
        // A serial whose owned sequence only has another name: renamed in place (the default
        // follows the sequence, whose position stays).
        if let (Some(want_seq), Some(have_seq)) =
            (&serial_seq, h.default.as_deref().and_then(nextval_target))
        {
            let renamed = default_changes
                && !type_changes
                && h.identity.is_none()
                && h.serial_sequence.is_some()
                && *want_seq != have_seq;
            if renamed {
                let name = m
                    .column_by_name(&w.name)
                    .and_then(|c| c.sequence_name.clone())
                    .unwrap_or_else(|| ignis_schema::object_name_pair(&m.table, &w.name, "seq"));
                self.push(Step::new(
                    StepKind::AlterSequence,
                    &m.name,
                    format!("{have_seq} -> {name}"),
                    format!("ALTER SEQUENCE {have_seq} RENAME TO {}", quote_ident(&name)),
                ));
                default_changes = false;
            }
        }
        if let Some(hd) = h.default.as_ref().filter(|_| default_changes) {
            let mut sql = format!("{alter} DROP DEFAULT");
            if nextval_target(hd).is_some() && serial_seq.is_none() && w.identity.is_none() {
                // A serial becoming a plain column: the sequence it owned goes too (an identity
                // takes over its position instead, in the identity step).
                sql.push_str(&format!(
                    ";\nDO $ignis$\nDECLARE old text := pg_get_serial_sequence('{table_lit}', '{col_lit}');\n\
                     BEGIN\nIF old IS NOT NULL THEN EXECUTE format('DROP SEQUENCE %s', old); END IF;\nEND\n$ignis$"
                ));
            }
            self.push(Step::new(StepKind::DropDefault, &m.name, object, sql));
        }
        if type_changes {
            let mut step = Step::new(
                StepKind::AlterColumnType,
                &m.name,
                format!("{object} {} -> {}", h.data_type, w.data_type),
                format!(
                    "{alter} TYPE {}{collate} USING {col}::{}",
                    w.data_type, w.data_type
                ),
            );
            if !rewrite_free(&h.data_type, &w.data_type) {
                step = step.hazards(&[Hazard::RewritesTable, Hazard::AccessExclusiveLock]);
            } else {
                step = step.hazards(&[Hazard::AccessExclusiveLock]);
            }
            if !is_widening(&h.data_type, &w.data_type) {
                step = step
                    .loses(format!(
                        "changes {object} from {} to {}: values may not fit or convert",
                        h.data_type, w.data_type
                    ))
                    .probe(
                        format!("SELECT count({col}) FROM {table}"),
                        format!(
                            "changes {object} from {} to {}: {{n}} stored values may not fit or convert",
                            h.data_type, w.data_type
                        ),
                    );
            }
            // Without a cast between the types, every value becomes NULL (the plan says so).
            let mut fallback = String::new();
            if !h.nullable {
                fallback.push_str(&format!("{alter} DROP NOT NULL;\n"));
            }
            fallback.push_str(&format!("{alter} TYPE {}{collate} USING NULL", w.data_type));
            if !h.nullable && !w.nullable {
                fallback.push_str(&format!(";\n{alter} SET NOT NULL"));
            }
            step.no_cast_fallback = Some((
                h.data_type.clone(),
                w.data_type.clone(),
                fallback,
                format!(
                    "Postgres has no cast from {} to {}: every value of {object} becomes NULL",
                    h.data_type, w.data_type
                ),
            ));
            self.push(step);
        }
        if let Some(d) = w
            .default
            .as_ref()
            .filter(|_| default_changes && !default_set)
        {
            let sql = match &serial_seq {
                // A column becoming a serial: its sequence is created, owned by the column, and
                // starts after the stored values.
                Some(seq) => format!(
                    "CREATE SEQUENCE {seq} AS {} OWNED BY {table}.{col};\n\
                     {alter} SET DEFAULT {d};\n\
                     SELECT setval('{}', GREATEST((SELECT max({col}) FROM {table}), 0) + 1, false)",
                    w.data_type,
                    seq.replace('\'', "''"),
                ),
                None => format!("{alter} SET DEFAULT {d}"),
            };
            self.push(Step::new(StepKind::SetDefault, &m.name, object, sql));
        }
        if w.nullable && !h.nullable && w.identity.is_none() {
            self.push(Step::new(
                StepKind::DropNotNull,
                &m.name,
                object,
                format!("{alter} DROP NOT NULL"),
            ));
        }
        if !w.nullable && h.nullable {
            let mut sql = String::new();
            if w.default.is_some() {
                // Existing NULLs take the new default, as an added column would.
                sql.push_str(&format!(
                    "UPDATE {table} SET {col} = DEFAULT WHERE {col} IS NULL;\n"
                ));
            }
            sql.push_str(&format!("{alter} SET NOT NULL"));
            let mut step = Step::new(StepKind::SetNotNull, &m.name, object, sql)
                .hazards(&[Hazard::ScansTable, Hazard::AccessExclusiveLock]);
            if w.default.is_none() {
                step = step.probe(
                    format!("SELECT count(*) FROM {table} WHERE {col} IS NULL"),
                    format!("sets {object} NOT NULL: {{n}} rows are null"),
                );
            }
            self.push(step);
        }
        match (w.identity, h.identity) {
            (Some(wi), hi) if hi.is_none() || type_changes || Some(wi) != hi => {
                let generated = if wi == 'a' { "ALWAYS" } else { "BY DEFAULT" };
                if hi.is_some() && !type_changes {
                    self.push(Step::new(
                        StepKind::AddIdentity,
                        &m.name,
                        object,
                        format!("{alter} SET GENERATED {generated}"),
                    ));
                } else {
                    // The model's sequence options, given when the identity is created.
                    let options = m
                        .column_by_name(&w.name)
                        .and_then(|c| c.identity.as_ref())
                        .map(|i| i.sequence.to_sql())
                        .filter(|o| !o.is_empty())
                        .map(|o| format!(" ({o})"))
                        .unwrap_or_default();
                    // A serial's sequence (its default was dropped before) hands its position to
                    // the identity's and goes; otherwise the identity starts after the stored
                    // values, so new rows do not collide.
                    self.push(Step::new(
                        StepKind::AddIdentity,
                        &m.name,
                        object,
                        format!(
                            "DO $ignis$\nDECLARE old text := pg_get_serial_sequence('{table_lit}', '{col_lit}'); \
                             last bigint; called boolean;\nBEGIN\n\
                             IF old IS NOT NULL THEN\n\
                             EXECUTE format('SELECT last_value, is_called FROM %s', old) INTO last, called;\n\
                             EXECUTE format('DROP SEQUENCE %s', old);\nEND IF;\n\
                             {alter} ADD GENERATED {generated} AS IDENTITY{options};\n\
                             IF old IS NOT NULL THEN\n\
                             PERFORM setval(pg_get_serial_sequence('{table_lit}', '{col_lit}'), last, called);\n\
                             ELSE\n\
                             PERFORM setval(pg_get_serial_sequence('{table_lit}', '{col_lit}'), \
                             GREATEST((SELECT max({col}) FROM {table}), 0) + 1, false);\n\
                             END IF;\nEND\n$ignis$"
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
}

/// `CHECK (<expression>)` for the check `name` of `m`, as the model's author wrote it, or the
/// normalised definition `def` when the model has no check of that name. The model's text is
/// what creates the constraint: Postgres does not always parse the text it prints back into the
/// same expression (see `reparse_live_checks` in the crate root), so creating a check from its
/// printed form could store another expression than the model's.
fn check_sql(m: &Model, name: &str, def: &str) -> String {
    match m.checks.iter().find(|c| c.name == name) {
        Some(c) => format!("CHECK ({})", c.expression),
        None => def.to_string(),
    }
}

/// `ALTER TABLE .. ADD CONSTRAINT .. EXCLUDE ..` for the exclusion constraint `name` of `m`, as
/// the model writes it ([`Model::add_exclusion_sql`]), or from the normalised definition `def`
/// when the model has none of that name. As for checks, the model's text creates it: its
/// printed form need not parse back into the same expressions.
fn exclusion_sql(m: &Model, table: &str, name: &str, def: &str) -> String {
    match m.exclusions.iter().find(|x| x.name == name) {
        Some(x) => m.add_exclusion_sql(x),
        None => format!(
            "ALTER TABLE {table} ADD CONSTRAINT {} {def}",
            quote_ident(name)
        ),
    }
}

/// The sequence of a default `nextval('<name>'::regclass)` as Postgres prints it (`<name>` is a
/// possibly schema-qualified, possibly quoted relation name, usable as SQL as it is).
fn nextval_target(default: &str) -> Option<String> {
    let inner = default
        .strip_prefix("nextval('")?
        .strip_suffix("'::regclass)")?;
    Some(inner.replace("''", "'"))
}

#[derive(Clone, Copy)]
enum Kind {
    Unique,
    Check,
    ForeignKey,
    Exclusion,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widening_type_changes_keep_every_value() {
        assert!(is_widening("integer", "bigint"));
        assert!(is_widening("smallint", "numeric"));
        assert!(is_widening(
            "character varying(10)",
            "character varying(20)"
        ));
        assert!(is_widening("character varying(10)", "text"));
        assert!(is_widening("numeric(10,2)", "numeric(12,2)"));
        assert!(is_widening("real", "double precision"));
        assert!(!is_widening("bigint", "integer"));
        assert!(!is_widening("text", "character varying(5)"));
        assert!(!is_widening("numeric(10,2)", "numeric(10,1)"));
        assert!(!is_widening("text", "integer"));
        assert!(rewrite_free("character varying(10)", "text"));
        assert!(!rewrite_free("integer", "bigint"));
    }
}
