//! Diff two catalogs and order the steps that make the live one match the models.
//!
//! This version creates what is missing: schemas, tables, columns, unique constraints, indexes
//! and foreign keys. Every other difference (a changed type, nullability or default, an extra
//! column, a constraint whose definition changed, a table no model names) is reported as a
//! [`Note`] that says it is not handled yet; it is never silently ignored and never acted on.

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
    /// `CREATE TABLE` with columns, primary key and unique constraints.
    CreateTable,
    /// `ALTER TABLE ... ADD COLUMN`.
    AddColumn,
    /// `ALTER TABLE ... ADD CONSTRAINT ... UNIQUE`.
    AddUnique,
    /// `CREATE INDEX`.
    CreateIndex,
    /// `ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY`.
    AddForeignKey,
}

impl StepKind {
    /// Lower-case words for plan output (`create table`).
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::CreateSchema => "create schema",
            StepKind::CreateTable => "create table",
            StepKind::AddColumn => "add column",
            StepKind::AddUnique => "add unique constraint",
            StepKind::CreateIndex => "create index",
            StepKind::AddForeignKey => "add foreign key",
        }
    }
}

/// One statement of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What it does.
    pub kind: StepKind,
    /// The model it serves (empty for a schema).
    pub model: String,
    /// The object it creates: `public.User`, `public.User.email`, `UQ_User_email`.
    pub object: String,
    /// The SQL statement, without a trailing semicolon.
    pub sql: String,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "-- {} {}\n{};",
            self.kind.as_str(),
            self.object,
            self.sql
        )
    }
}

/// A difference the migrator saw and does not act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The model concerned, if any.
    pub model: Option<String>,
    /// What differs and why nothing is done about it.
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The ordered steps that make the database match the models, and the differences left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Statements in the order they must run: schemas, tables (referenced first), columns,
    /// unique constraints, indexes, then foreign keys.
    pub steps: Vec<Step>,
    /// Differences not handled by this version, for the user to read.
    pub notes: Vec<Note>,
}

impl Plan {
    /// True when there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        for note in &self.notes {
            writeln!(f, "-- not handled yet: {note}")?;
        }
        Ok(())
    }
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
    // Depth-first, visiting referenced tables first; `visiting` breaks cycles.
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
            if let Some(&j) = index.get(&(fk.ref_schema.clone(), fk.ref_table.clone())) {
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
const OWN_TABLES: &[&str] = &["refinery_schema_history"];

/// Compares the desired catalog (the models, created in a scratch schema and read back) with the
/// live one, and plans the statements that create what is missing.
///
/// `desired` must hold every table of `schema`'s migrated models, keyed by their real schema
/// names. `skip_migrate` models are neither created nor compared.
pub fn diff(schema: &Schema, desired: &Catalog, live: &Catalog) -> Plan {
    let mut plan = Plan::default();
    let managed: Vec<&Model> = schema.models().iter().filter(|m| !m.skip_migrate).collect();

    let mut new_schemas = BTreeSet::new();
    for m in &managed {
        if !live.schemas.contains(&m.schema) && new_schemas.insert(m.schema.clone()) {
            plan.steps.push(Step {
                kind: StepKind::CreateSchema,
                model: String::new(),
                object: m.schema.clone(),
                sql: format!("CREATE SCHEMA {}", quote_ident(&m.schema)),
            });
        }
    }

    let mut later: Vec<Step> = Vec::new();
    for m in creation_order(&managed) {
        let key = (m.schema.clone(), m.table.clone());
        let Some(want) = desired.tables.get(&key) else {
            plan.notes.push(Note {
                model: Some(m.name.clone()),
                message: format!(
                    "model `{}`: table {} was not found in the normalised schema",
                    m.name,
                    m.qualified_table()
                ),
            });
            continue;
        };
        match live.tables.get(&key) {
            None => {
                plan.steps.push(Step {
                    kind: StepKind::CreateTable,
                    model: m.name.clone(),
                    object: m.qualified_table(),
                    sql: m.create_table_statement().to_string(PostgresQueryBuilder),
                });
                for i in &m.indexes {
                    later.push(index_step(m, i));
                }
                for fk in &m.foreign_keys {
                    later.push(foreign_key_step(m, fk));
                }
            }
            Some(have) if have.kind != RelationKind::Table => plan.notes.push(Note {
                model: Some(m.name.clone()),
                message: format!(
                    "model `{}`: {} exists but is a {:?}, not a table; left as is",
                    m.name,
                    m.qualified_table(),
                    have.kind
                ),
            }),
            Some(have) => compare_table(m, want, have, &mut plan, &mut later),
        }
    }
    later.sort_by_key(|s| s.kind);
    plan.steps.extend(later);

    for (key, info) in &live.tables {
        let known = schema
            .models()
            .iter()
            .any(|m| m.schema == key.0 && m.table == key.1);
        if !known && info.kind == RelationKind::Table && !OWN_TABLES.contains(&key.1.as_str()) {
            plan.notes.push(Note {
                model: None,
                message: format!(
                    "table {}.{} is in the database but in no model; left as is",
                    key.0, key.1
                ),
            });
        }
    }
    plan
}

fn index_step(m: &Model, i: &ignis_schema::Index) -> Step {
    Step {
        kind: StepKind::CreateIndex,
        model: m.name.clone(),
        object: i.name.clone(),
        sql: m.index_statement(i).to_string(PostgresQueryBuilder),
    }
}

fn foreign_key_step(m: &Model, fk: &ignis_schema::ForeignKey) -> Step {
    Step {
        kind: StepKind::AddForeignKey,
        model: m.name.clone(),
        object: fk.name.clone(),
        sql: m.foreign_key_statement(fk).to_string(PostgresQueryBuilder),
    }
}

fn describe_column(c: &ColumnInfo) -> String {
    let mut s = c.data_type.clone();
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        s.push_str(" DEFAULT ");
        s.push_str(d);
    }
    match c.identity {
        Some('a') => s.push_str(" GENERATED ALWAYS AS IDENTITY"),
        Some('d') => s.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
        _ => {}
    }
    s
}

fn compare_table(
    m: &Model,
    want: &TableInfo,
    have: &TableInfo,
    plan: &mut Plan,
    later: &mut Vec<Step>,
) {
    let table = m.qualified_table();
    let mut note = |message: String| {
        plan.notes.push(Note {
            model: Some(m.name.clone()),
            message,
        })
    };
    for column in &m.columns {
        let Some(w) = want.column(&column.column) else {
            continue;
        };
        match have.column(&column.column) {
            None => later.push(Step {
                kind: StepKind::AddColumn,
                model: m.name.clone(),
                object: format!("{table}.{}", column.column),
                sql: m
                    .add_column_statement(column)
                    .to_string(PostgresQueryBuilder),
            }),
            Some(h) if h != w => note(format!(
                "column {table}.{} is `{}` in the database and `{}` in model `{}`",
                column.column,
                describe_column(h),
                describe_column(w),
                m.name
            )),
            Some(_) => {}
        }
    }
    for h in &have.columns {
        if want.column(&h.name).is_none() {
            note(format!(
                "column {table}.{} is in the database but not in model `{}`",
                h.name, m.name
            ));
        }
    }
    let pk_columns = |t: &TableInfo| t.primary_key.as_ref().map(|p| p.columns.clone());
    if pk_columns(want) != pk_columns(have) {
        note(format!(
            "the primary key of {table} is {:?} in the database and {:?} in model `{}`",
            pk_columns(have).unwrap_or_default(),
            pk_columns(want).unwrap_or_default(),
            m.name
        ));
    }
    for u in &m.uniques {
        match have.uniques.get(&u.name) {
            None => later.push(Step {
                kind: StepKind::AddUnique,
                model: m.name.clone(),
                object: u.name.clone(),
                sql: m.add_unique_sql(u),
            }),
            Some(h) if Some(h) != want.uniques.get(&u.name) => note(format!(
                "unique constraint {} on {table} covers {:?} in the database and {:?} in the model",
                u.name, h.columns, u.columns
            )),
            Some(_) => {}
        }
    }
    for i in &m.indexes {
        match have.indexes.get(&i.name) {
            None => later.push(index_step(m, i)),
            Some(h) if Some(h) != want.indexes.get(&i.name) => note(format!(
                "index {} on {table} differs: {h:?} in the database, {:?} in the model",
                i.name,
                want.indexes.get(&i.name)
            )),
            Some(_) => {}
        }
    }
    for fk in &m.foreign_keys {
        match have.foreign_keys.get(&fk.name) {
            None => later.push(foreign_key_step(m, fk)),
            Some(h) if Some(h) != want.foreign_keys.get(&fk.name) => note(format!(
                "foreign key {} on {table} differs: {h:?} in the database, {:?} in the model",
                fk.name,
                want.foreign_keys.get(&fk.name)
            )),
            Some(_) => {}
        }
    }
    let extra = |kind: &str, names: Vec<&String>, note: &mut dyn FnMut(String)| {
        for n in names {
            note(format!(
                "{kind} {n} on {table} is in the database but not in model `{}`",
                m.name
            ));
        }
    };
    extra(
        "unique constraint",
        have.uniques
            .keys()
            .filter(|n| !want.uniques.contains_key(*n))
            .collect(),
        &mut note,
    );
    extra(
        "index",
        have.indexes
            .keys()
            .filter(|n| !want.indexes.contains_key(*n))
            .collect(),
        &mut note,
    );
    extra(
        "foreign key",
        have.foreign_keys
            .keys()
            .filter(|n| !want.foreign_keys.contains_key(*n))
            .collect(),
        &mut note,
    );
    extra(
        "check constraint",
        have.checks
            .keys()
            .filter(|n| !want.checks.contains_key(*n))
            .collect(),
        &mut note,
    );
}
