//! `pull`: the schema file that reproduces an existing database.
//!
//! Adopting ignis-rs on a live database starts here: [`pull`] introspects the catalog with the
//! same whole-schema queries as the migrator ([`crate::catalog::introspect`]) and builds the
//! [`Schema`] whose models the migrator would turn back into that catalog:
//!
//! - one model per table, named like the table (`schema.table` when two pulled schemas have a
//!   table of the same name); views, materialized views and foreign tables become `skip_migrate`
//!   models (readable through repositories, never created or altered);
//! - columns keep their SQL name; the property is its camelCase (`created_by` -> `createdBy`);
//!   types are parsed from Postgres's own spelling ([`PgType`], unknown names kept as
//!   [`PgType::Custom`]); defaults are kept as Postgres prints them (`''::text`, `now()`);
//!   a column's collation (when not its type's), statistics target and comment, and the
//!   table's comment, are kept;
//! - identity columns carry their [`Identity`] (with the sequence options that differ from the
//!   defaults) and no default; a serial column (a `nextval` default on the sequence it owns,
//!   named as `serial` names it) becomes type `serial` / `bigserial` / `smallserial`, which
//!   creates the same sequence and default, with the sequence's options that differ from
//!   `serial`'s in [`Column::serial_sequence`]; a serial whose sequence `serial` would not
//!   reproduce becomes a `BY DEFAULT` identity, and a [`Pulled::notes`] entry says so;
//! - the primary key and unique constraints (with `NULLS NOT DISTINCT`, `DEFERRABLE`,
//!   `INITIALLY DEFERRED`), indexes (columns or expression keys with their
//!   operator classes, collations and sort order, unique, method, `INCLUDE`, `NULLS NOT
//!   DISTINCT`, storage parameters, partial predicate),
//!   foreign keys (target, actions, `MATCH FULL`, `DEFERRABLE`, `INITIALLY DEFERRED`), check
//!   constraints, exclusion constraints (method, elements with operator class and operator,
//!   predicate, `DEFERRABLE`, `INITIALLY DEFERRED`) and enum types;
//! - keys, indexes, constraints and foreign keys name **property names**, as a schema file does
//!   (see [`Model`](struct@Model)); a foreign key to a pulled table names its model and that model's
//!   properties (`refModel`, `refProperties`), one to a table that is not pulled names the table
//!   and its columns (`refTable`, `refSchema`, `refColumns`).
//!
//! Relations are not in the catalog: the pulled models have none. refinery's history table is
//! skipped. What a schema file cannot express (an index's tablespace, a `NOT VALID`
//! foreign key, generated columns, ...) is listed in [`Pulled::notes`]; nothing is left out silently.
//!
//! Enum types of schema `public` are written unqualified (`mood`, `'happy'::mood`), so that the
//! migrator resolves them to the copy it creates while normalising the models.

use std::collections::{BTreeSet, HashMap, HashSet};

use ignis_schema::{
    Check, Column, EnumType, Exclusion, ExclusionElement, ForeignKey, ForeignKeyAction, Identity,
    IdentityGeneration, Index, IndexKey, Model, NullsOrder, PgType, Schema, SequenceOptions,
    SortOrder, UniqueConstraint,
};
use ignis_tx::{DataSource, Executor, IsolationLevel, TransactionOptions};

use crate::catalog::{
    introspect, Catalog, ColumnInfo, ConstraintInfo, IndexInfo, IndexKeyInfo, RelationKind,
    TableInfo, TableKey,
};
use crate::error::MigrateError;
use crate::plan::OWN_TABLES;

/// A pulled schema and what it could not reproduce exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Pulled {
    /// The schema file's content.
    pub schema: Schema,
    /// One line per thing of the database the schema does not reproduce as it is (or reproduces
    /// differently, such as a serial column mapped to an identity), naming the table and object.
    pub notes: Vec<String>,
}

/// Pulls the schema of the given Postgres schemas (namespaces) of a database, in one read-only
/// REPEATABLE READ transaction (one consistent snapshot). See the [module documentation](self).
///
/// # Errors
/// A database error, [`MigrateError::Introspect`] for an unexpected catalog row, or
/// [`MigrateError::Schema`] when the tables do not make a valid schema.
pub fn pull(ds: &DataSource, schemas: &[String]) -> Result<Schema, MigrateError> {
    Ok(pull_with_notes(ds, schemas)?.schema)
}

/// [`pull`], with the notes on what the schema does not reproduce.
///
/// # Errors
/// As [`pull`].
pub fn pull_with_notes(ds: &DataSource, schemas: &[String]) -> Result<Pulled, MigrateError> {
    let mut tx = ds.begin(
        TransactionOptions::default()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true),
    )?;
    let pulled = pull_from(&mut tx, schemas)?;
    tx.rollback()?;
    Ok(pulled)
}

/// [`pull_with_notes`] over any executor. Run it inside a transaction: catalog introspection
/// sets the search path with `SET LOCAL`, which only a transaction scopes.
///
/// # Errors
/// As [`pull`].
pub fn pull_from<E: Executor + ?Sized>(
    exec: &mut E,
    schemas: &[String],
) -> Result<Pulled, MigrateError> {
    let catalog = introspect(exec, schemas)?;
    let sequences = owned_sequences(exec, schemas)?;
    let generated = generated_columns(exec, schemas)?;
    let quoted = quote_identifiers(exec, &catalog)?;
    let mut puller = Puller {
        catalog: &catalog,
        sequences,
        generated,
        quoted,
        notes: Vec::new(),
    };
    let models = puller.models();
    let enums = puller.enums();
    let schema = Schema::new(models)?.with_enums(enums)?;
    Ok(Pulled {
        schema,
        notes: puller.notes,
    })
}

/// A sequence owned by a column: by a serial-style `OWNED BY` (`a`) or an identity (`i`).
#[derive(Debug, Clone)]
struct OwnedSequence {
    identity: bool,
    name: String,
    type_name: String,
    start: i64,
    increment: i64,
    min: i64,
    max: i64,
    cache: i64,
    cycle: bool,
}

const SEQUENCES_SQL: &str = "\
SELECT n.nspname::text, c.relname::text, a.attname::text, d.deptype::text, s.relname::text,
       format_type(sq.seqtypid, NULL), sq.seqstart, sq.seqincrement, sq.seqmin, sq.seqmax,
       sq.seqcache, sq.seqcycle
FROM pg_depend d
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_sequence sq ON sq.seqrelid = s.oid
JOIN pg_class c ON c.oid = d.refobjid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
  AND d.deptype IN ('a', 'i') AND n.nspname = ANY($1)";

const GENERATED_SQL: &str = "\
SELECT n.nspname::text, c.relname::text, a.attname::text
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated <> ''";

type ColumnKey = (String, String, String);

fn get<'a, T: postgres::types::FromSql<'a>>(
    row: &'a postgres::Row,
    idx: usize,
    query: &str,
) -> Result<T, MigrateError> {
    row.try_get(idx)
        .map_err(|e| MigrateError::Introspect(format!("{query}: column {idx}: {e}")))
}

fn owned_sequences<E: Executor + ?Sized>(
    exec: &mut E,
    schemas: &[String],
) -> Result<HashMap<ColumnKey, OwnedSequence>, MigrateError> {
    let mut out = HashMap::new();
    for row in exec.query(SEQUENCES_SQL, &[&schemas])? {
        let q = "owned sequences";
        let key = (get(&row, 0, q)?, get(&row, 1, q)?, get(&row, 2, q)?);
        let seq = OwnedSequence {
            identity: get::<String>(&row, 3, q)? == "i",
            name: get(&row, 4, q)?,
            type_name: get(&row, 5, q)?,
            start: get(&row, 6, q)?,
            increment: get(&row, 7, q)?,
            min: get(&row, 8, q)?,
            max: get(&row, 9, q)?,
            cache: get(&row, 10, q)?,
            cycle: get(&row, 11, q)?,
        };
        out.insert(key, seq);
    }
    Ok(out)
}

fn generated_columns<E: Executor + ?Sized>(
    exec: &mut E,
    schemas: &[String],
) -> Result<HashSet<ColumnKey>, MigrateError> {
    let mut out = HashSet::new();
    for row in exec.query(GENERATED_SQL, &[&schemas])? {
        let q = "generated columns";
        out.insert((get(&row, 0, q)?, get(&row, 1, q)?, get(&row, 2, q)?));
    }
    Ok(out)
}

/// Every column and enum name as Postgres quotes it in definitions (`quote_ident`: bare when
/// plain and not a keyword, double-quoted otherwise), in one query.
fn quote_identifiers<E: Executor + ?Sized>(
    exec: &mut E,
    catalog: &Catalog,
) -> Result<HashMap<String, String>, MigrateError> {
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for t in catalog.tables.values() {
        names.extend(t.columns.iter().map(|c| c.name.as_str()));
    }
    names.extend(catalog.enums.keys().map(|(_, n)| n.as_str()));
    let names: Vec<&str> = names.into_iter().collect();
    let mut out = HashMap::new();
    for row in exec.query(
        "SELECT x, quote_ident(x) FROM unnest($1::text[]) AS x",
        &[&names],
    )? {
        out.insert(get(&row, 0, "quote_ident")?, get(&row, 1, "quote_ident")?);
    }
    Ok(out)
}

/// The property name of each column of a pulled table, by column name: keys, indexes and
/// constraints of a schema file name properties.
struct Properties(HashMap<String, String>);

impl Properties {
    /// The property of column `column` (the name itself for a name that is no column).
    fn of(&self, column: &str) -> String {
        self.0
            .get(column)
            .map_or_else(|| column.to_string(), Clone::clone)
    }

    /// The properties of `columns`, in order.
    fn all(&self, columns: &[String]) -> Vec<String> {
        columns.iter().map(|c| self.of(c)).collect()
    }
}

struct Puller<'a> {
    catalog: &'a Catalog,
    sequences: HashMap<ColumnKey, OwnedSequence>,
    generated: HashSet<ColumnKey>,
    quoted: HashMap<String, String>,
    notes: Vec<String>,
}

impl Puller<'_> {
    fn quote<'s>(&'s self, name: &'s str) -> &'s str {
        self.quoted.get(name).map(String::as_str).unwrap_or(name)
    }

    /// `public.mood` -> `mood` (in a type) and `'x'::public.mood` -> `'x'::mood` (in an
    /// expression), for the enum types of schema `public`.
    fn unqualify_type(&self, type_name: &str) -> String {
        match type_name.strip_prefix("public.") {
            Some(rest) => rest.to_string(),
            None => type_name.to_string(),
        }
    }

    fn unqualify_expr(&self, expr: &str) -> String {
        let mut out = expr.to_string();
        for (schema, name) in self.catalog.enums.keys() {
            if schema == "public" {
                let q = self.quote(name);
                out = out.replace(&format!("::public.{q}"), &format!("::{q}"));
            }
        }
        out
    }

    fn enums(&self) -> Vec<EnumType> {
        self.catalog
            .enums
            .iter()
            .map(|((schema, name), values)| EnumType {
                name: name.clone(),
                schema: schema.clone(),
                values: values.clone(),
            })
            .collect()
    }

    fn models(&mut self) -> Vec<Model> {
        let mut count: HashMap<&str, usize> = HashMap::new();
        for (_, table) in self.catalog.tables.keys() {
            *count.entry(table.as_str()).or_default() += 1;
        }
        let mut models = Vec::new();
        for (key, info) in &self.catalog.tables {
            if OWN_TABLES.contains(&key.1.as_str()) {
                continue;
            }
            let name = if count.get(key.1.as_str()).copied().unwrap_or(0) > 1 {
                format!("{}.{}", key.0, key.1)
            } else {
                key.1.clone()
            };
            if info.columns.is_empty() {
                self.notes.push(format!(
                    "table {}.{} has no columns: not pulled (a model needs one)",
                    key.0, key.1
                ));
                continue;
            }
            models.push(self.model(name, key, info));
        }
        models
    }

    fn model(&mut self, name: String, key: &TableKey, info: &TableInfo) -> Model {
        let (schema, table) = key;
        let object = format!("{schema}.{table}");
        let mut model = Model::new(name).table(table.clone()).schema(schema.clone());
        model.comment = info.comment.clone();
        if info.kind != RelationKind::Table {
            model = model.skip_migrate();
            self.notes.push(format!(
                "{object} is a {}: pulled as a skipMigrate model (never created or altered)",
                match info.kind {
                    RelationKind::View => "view",
                    _ => "foreign table",
                }
            ));
        }
        let mut properties: HashSet<String> = HashSet::new();
        for c in &info.columns {
            let column = self.column(key, c, &mut properties);
            model = model.column(column);
        }
        // Keys name properties: each catalog column name becomes its column's property.
        let property = Properties(
            model
                .columns
                .iter()
                .map(|c| (c.column.clone(), c.property.clone()))
                .collect(),
        );
        let props = |columns: &[String]| property.all(columns);
        if let Some(pk) = &info.primary_key {
            self.primary_key(&mut model, key, &object, pk, &property);
        }
        for u in info.uniques.values() {
            if let Some(what) = self.unexpressed_constraint(key, &u.name) {
                self.notes.push(format!(
                    "unique constraint {} on {object}: `{what}` is pulled as UNIQUE ({}) only",
                    u.name,
                    u.columns.join(", ")
                ));
            }
            model.uniques.push(UniqueConstraint {
                name: u.name.clone(),
                properties: props(&u.columns),
                deferrable: u.deferrable,
                initially_deferred: u.initially_deferred,
                nulls_not_distinct: u.nulls_not_distinct,
            });
        }
        for i in info.indexes.values() {
            if let Some(index) = self.index(&object, key, i, &property) {
                model = model.index(index);
            }
        }
        for fk in info.foreign_keys.values() {
            // What the definition has beyond the model's attributes (`NOT VALID`, `MATCH
            // PARTIAL`, a `SET NULL (..)` column list) is in the catalog's unexpressed list.
            if let Some(what) = self.unexpressed_constraint(key, &fk.name) {
                self.notes.push(format!(
                    "foreign key {} on {object}: `{what}` is pulled without what a model cannot \
                     express",
                    fk.name
                ));
            }
            // A table that is pulled too becomes its model, with property names, in
            // `Schema::new`; another stays a table with column names.
            let mut foreign_key = ForeignKey::to_table(
                fk.name.clone(),
                props(&fk.columns),
                fk.ref_schema.clone(),
                fk.ref_table.clone(),
                fk.ref_columns.clone(),
            )
            .on_delete(ForeignKeyAction::from_pg_code(fk.on_delete))
            .on_update(ForeignKeyAction::from_pg_code(fk.on_update));
            foreign_key.match_full = fk.match_full;
            foreign_key.deferrable = fk.deferrable;
            foreign_key.initially_deferred = fk.initially_deferred;
            model = model.foreign_key(foreign_key);
        }
        for (name, definition) in &info.checks {
            let mut def = definition.as_str();
            for suffix in [" NOT VALID", " NO INHERIT"] {
                if let Some(rest) = def.strip_suffix(suffix) {
                    self.notes.push(format!(
                        "check constraint {name} on {object}: `{}` is not kept",
                        suffix.trim()
                    ));
                    def = rest;
                }
            }
            let expression = def
                .strip_prefix("CHECK (")
                .and_then(|d| d.strip_suffix(')'))
                .unwrap_or(def);
            model.checks.push(Check {
                name: name.clone(),
                expression: in_lists(&self.unqualify_expr(expression)),
            });
        }
        for x in info.exclusions.values() {
            // What the definition has beyond the model's attributes (a collation, a sort
            // order, `INCLUDE`, storage parameters) is in the catalog's unexpressed list.
            if let Some(what) = self.unexpressed_constraint(key, &x.name) {
                self.notes.push(format!(
                    "exclusion constraint {} on {object}: `{what}` is pulled without what a \
                     model cannot express",
                    x.name
                ));
            }
            let elements = x
                .elements
                .iter()
                .map(|e| {
                    let mut element = if e.expression {
                        ExclusionElement::expression(self.unqualify_expr(&e.text), &e.operator)
                    } else {
                        ExclusionElement::property(property.of(&e.text), &e.operator)
                    };
                    element.opclass = e.opclass.clone();
                    element
                })
                .collect::<Vec<_>>();
            let mut exclusion = Exclusion::new(x.name.clone(), x.method.clone(), elements);
            if x.method == "btree" {
                exclusion.method = None;
            }
            exclusion.predicate = x.predicate.as_deref().map(|p| self.unqualify_expr(p));
            exclusion.deferrable = x.deferrable;
            exclusion.initially_deferred = x.initially_deferred;
            model.exclusions.push(exclusion);
        }
        model
    }

    fn column(
        &mut self,
        (schema, table): &TableKey,
        c: &ColumnInfo,
        properties: &mut HashSet<String>,
    ) -> Column {
        let object = format!("{schema}.{table}.{}", c.name);
        let pg_type = parse_type(&self.unqualify_type(&c.data_type));
        let mut column =
            Column::new(self.property(&c.name, properties), pg_type).column_name(c.name.clone());
        column.nullable = c.nullable;
        column.collation = c.collation.clone();
        column.statistics = c.statistics;
        column.comment = c.comment.clone();
        let key = (schema.clone(), table.clone(), c.name.clone());
        if self.generated.contains(&key) {
            self.notes.push(format!(
                "column {object} is generated (`{}`): pulled as a plain column",
                c.default.as_deref().unwrap_or("")
            ));
            return column;
        }
        let sequence = self.sequences.get(&key).cloned();
        if let Some(generation) = c.identity {
            column.identity = Some(Identity {
                generation: if generation == 'd' {
                    IdentityGeneration::ByDefault
                } else {
                    IdentityGeneration::Always
                },
                sequence: sequence.as_ref().map(sequence_options).unwrap_or_default(),
            });
            column.nullable = false;
            return column;
        }
        let Some(default) = &c.default else {
            return column;
        };
        let serial = sequence.filter(|s| {
            !s.identity
                && default.starts_with("nextval(")
                && default.contains(s.name.as_str())
                && matches!(c.data_type.as_str(), "smallint" | "integer" | "bigint")
        });
        let Some(seq) = serial else {
            if default.contains("nextval(") {
                self.notes.push(format!(
                    "column {object}: default `{default}` uses a sequence no column owns; kept \
                     as is (the sequence must exist where the schema is migrated)"
                ));
            }
            column.default = Some(self.unqualify_expr(default));
            return column;
        };
        // The name `serial` gives its sequence, cut to 63 bytes as Postgres cuts it.
        let expected = ignis_schema::object_name_pair(table, &c.name, "seq");
        let options = sequence_options(&seq);
        // A sequence of another name (renamed, or created apart and owned by the column) in the
        // table's schema is still the column's serial sequence, named in the model.
        let in_table_schema = [
            format!("nextval('{schema}."),
            format!("nextval('\"{}\".", schema.replace('"', "\"\"")),
        ]
        .iter()
        .any(|p| default.starts_with(p.as_str()));
        if (seq.name == expected || in_table_schema) && !c.nullable {
            column.sequence_name = (seq.name != expected).then(|| seq.name.clone());
            let serial = match c.data_type.as_str() {
                "smallint" => "smallserial",
                "bigint" => "bigserial",
                _ => "serial",
            };
            column.pg_type = PgType::Custom(serial.into());
            column.serial_sequence = c
                .serial_sequence
                .clone()
                .filter(|o| *o != SequenceOptions::default());
            return column;
        }
        self.notes.push(format!(
            "column {object}: serial-style default `{default}` on sequence {} (which `serial` \
             would not name or create so) pulled as GENERATED BY DEFAULT AS IDENTITY",
            seq.name
        ));
        column.identity = Some(Identity {
            generation: IdentityGeneration::ByDefault,
            sequence: options,
        });
        column.nullable = false;
        column
    }

    fn property(&self, column: &str, taken: &mut HashSet<String>) -> String {
        let mut candidate = camel_case(column).replace(['.', '['], "_");
        if candidate.is_empty() || taken.contains(&candidate) {
            candidate = column.replace(['.', '['], "_");
        }
        let base = candidate.clone();
        let mut n = 2;
        while taken.contains(&candidate) {
            candidate = format!("{base}{n}");
            n += 1;
        }
        taken.insert(candidate.clone());
        candidate
    }

    /// The definition of constraint `name` of table `key` when it has more than a model
    /// expresses (the catalog's unexpressed list, see [`Catalog::unexpressed`]).
    fn unexpressed_constraint(&self, key: &TableKey, name: &str) -> Option<String> {
        self.catalog
            .unexpressed
            .get(key)
            .and_then(|list| list.iter().find(|u| u.on == "constraint" && u.name == name))
            .map(|u| u.what.clone())
    }

    fn primary_key(
        &mut self,
        model: &mut Model,
        key: &TableKey,
        object: &str,
        pk: &ConstraintInfo,
        property: &Properties,
    ) {
        for c in &mut model.columns {
            if pk.columns.contains(&c.column) {
                c.primary_key = true;
                c.nullable = false;
            }
        }
        if model.primary_key() != pk.columns.iter().map(String::as_str).collect::<Vec<_>>() {
            model.primary_key_order = property.all(&pk.columns);
        }
        if pk.name != model.primary_key_name() {
            model.primary_key_constraint = Some(pk.name.clone());
        }
        model.primary_key_deferrable = pk.deferrable;
        model.primary_key_initially_deferred = pk.initially_deferred;
        if let Some(what) = self.unexpressed_constraint(key, &pk.name) {
            self.notes.push(format!(
                "primary key of {object}: `{what}` is pulled as PRIMARY KEY ({}) only",
                pk.columns.join(", ")
            ));
        }
    }

    fn index(
        &mut self,
        object: &str,
        key: &TableKey,
        i: &IndexInfo,
        property: &Properties,
    ) -> Option<Index> {
        // What the index has beyond the model's attributes (a tablespace, operator class
        // parameters, a schema-qualified operator class) is in the catalog's unexpressed list.
        if let Some(u) = self
            .catalog
            .unexpressed
            .get(key)
            .and_then(|list| list.iter().find(|u| u.on == "index" && u.name == i.name))
        {
            self.notes.push(format!(
                "index {} on {object}: `{}` is pulled without what a model cannot express",
                i.name, u.what
            ));
        }
        let options = i.key_options();
        let mut index = if options.iter().all(IndexKeyInfo::is_plain) {
            Index::new(i.name.clone(), property.all(&i.columns))
        } else {
            Index::with_keys(
                i.name.clone(),
                i.columns.iter().zip(options).map(|(c, k)| {
                    let mut key = if k.expression {
                        IndexKey::expression(self.unqualify_expr(c))
                    } else {
                        IndexKey::property(property.of(c))
                    };
                    key.opclass = k.opclass;
                    key.collation = k.collation;
                    if k.descending {
                        key.order = Some(SortOrder::Desc);
                    }
                    if k.nulls_first != k.descending {
                        key.nulls = Some(if k.nulls_first {
                            NullsOrder::First
                        } else {
                            NullsOrder::Last
                        });
                    }
                    key
                }),
            )
        };
        index.unique = i.unique;
        if i.method != "btree" {
            index.method = Some(i.method.clone());
        }
        index.predicate = i.predicate.as_deref().map(|p| self.unqualify_expr(p));
        index.include = property.all(&i.include);
        index.nulls_not_distinct = i.nulls_not_distinct;
        index.storage_parameters = i.storage_parameters.clone();
        Some(index)
    }
}

fn parse_type(spelling: &str) -> PgType {
    spelling
        .parse()
        .unwrap_or_else(|_| PgType::Custom(spelling.to_string()))
}

/// The options of a sequence that differ from what `CREATE SEQUENCE` (or an identity) would
/// choose for its type and direction.
fn sequence_options(s: &OwnedSequence) -> SequenceOptions {
    SequenceOptions::from_catalog(
        &s.type_name,
        s.start,
        s.increment,
        s.min,
        s.max,
        s.cache,
        s.cycle,
    )
}

/// `created_by` -> `createdBy`, `n_value` -> `nValue`; leading underscores and names without
/// underscores are kept as they are (`_id`, `createdAt`).
///
/// ```
/// assert_eq!(ignis_migrate::pull::camel_case("created_by"), "createdBy");
/// assert_eq!(ignis_migrate::pull::camel_case("_id"), "_id");
/// assert_eq!(ignis_migrate::pull::camel_case("group"), "group");
/// ```
pub fn camel_case(column: &str) -> String {
    let mut out = String::with_capacity(column.len());
    let mut upper = false;
    for ch in column.chars() {
        if ch == '_' && out.chars().any(|c| c != '_') {
            upper = true;
            continue;
        }
        if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

/// `expr` with each `((X)::text = ANY ((ARRAY[items])::text[]))` written back as `(X IN (items))`
/// (and `<> ALL` as `NOT IN`). Postgres prints `c IN ('a', 'b')` on a varchar column that way,
/// but parses the printed text into another expression (an array of casts instead of a cast of
/// the array), which it prints differently again: only the `IN` form, stored again, prints as
/// the source does, so a pulled check re-created elsewhere dumps the same. String literals are
/// skipped over, never split.
pub(crate) fn in_lists(expr: &str) -> String {
    let b = expr.as_bytes();
    // Which bytes are inside a string literal ('..', '' escapes a quote).
    let mut quoted = vec![false; b.len()];
    let mut inside = false;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\'' {
            inside = !inside;
            quoted[i] = true;
        } else {
            quoted[i] = inside;
        }
    }
    let mut out = String::with_capacity(expr.len());
    let mut done = 0; // bytes of `expr` already copied to `out`
    let mut from = 0;
    while let Some(found) = find_outside(expr, &quoted, from) {
        let (at, op, not) = found;
        from = at + 1;
        // `(X)` before the operator: the `(` matching the `)` at `at`.
        let Some(open) = matching_open(b, &quoted, at) else {
            continue;
        };
        if open == 0 || b[open - 1] != b'(' || open - 1 < done {
            continue;
        }
        let items_start = at + op.len();
        let Some(close) = matching_close_bracket(b, &quoted, items_start) else {
            continue;
        };
        let tail = ")::text[]))";
        if !expr[close + 1..].starts_with(tail) {
            continue;
        }
        out.push_str(&expr[done..open - 1]);
        out.push('(');
        out.push_str(&expr[open + 1..at]);
        out.push_str(if not { " NOT IN (" } else { " IN (" });
        out.push_str(&expr[items_start..close]);
        out.push_str("))");
        done = close + 1 + tail.len();
        from = done;
    }
    out.push_str(&expr[done..]);
    out
}

/// The next `)::text = ANY ((ARRAY[` or `)::text <> ALL ((ARRAY[` at or after `from`, outside
/// string literals: its position, the text matched, and whether it is the `<> ALL` form.
fn find_outside(expr: &str, quoted: &[bool], from: usize) -> Option<(usize, &'static str, bool)> {
    const ANY: &str = ")::text = ANY ((ARRAY[";
    const ALL: &str = ")::text <> ALL ((ARRAY[";
    let mut i = from;
    while i < expr.len() {
        if !quoted[i] {
            if expr[i..].starts_with(ANY) {
                return Some((i, ANY, false));
            }
            if expr[i..].starts_with(ALL) {
                return Some((i, ALL, true));
            }
        }
        i += 1;
    }
    None
}

/// The `(` matching the `)` at `close`, outside string literals.
fn matching_open(b: &[u8], quoted: &[bool], close: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = close;
    loop {
        if !quoted[i] {
            match b[i] {
                b')' => depth += 1,
                b'(' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        if i == 0 {
            return None;
        }
        i -= 1;
    }
}

/// The `]` closing an `ARRAY[` whose items start at `start`, outside string literals.
fn matching_close_bracket(b: &[u8], quoted: &[bool], start: usize) -> Option<usize> {
    let mut depth = 1usize;
    for i in start..b.len() {
        if quoted[i] {
            continue;
        }
        match b[i] {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn in_lists_are_written_back_as_in() {
        use super::in_lists;
        assert_eq!(
            in_lists("((c)::text = ANY ((ARRAY['x'::character varying, 'y)'::character varying])::text[]))"),
            "(c IN ('x'::character varying, 'y)'::character varying))"
        );
        assert_eq!(
            in_lists(
                "(((kind)::text <> ALL ((ARRAY['a'::character varying])::text[])) AND (id > 0))"
            ),
            "((kind NOT IN ('a'::character varying)) AND (id > 0))"
        );
        for unchanged in [
            "(id > 0)",
            "((c)::text = ANY (ARRAY[('x'::character varying)::text]))",
            "(note = ')::text = ANY ((ARRAY[')",
        ] {
            assert_eq!(in_lists(unchanged), unchanged);
        }
    }

    use super::*;

    #[test]
    fn camel_case_of_column_names() {
        assert_eq!(camel_case("created_by"), "createdBy");
        assert_eq!(camel_case("bo_value"), "boValue");
        assert_eq!(camel_case("a__b"), "aB");
        assert_eq!(camel_case("__x"), "__x");
        assert_eq!(camel_case("Already"), "Already");
        assert_eq!(camel_case("x_1"), "x1");
    }

    fn seq(type_name: &str, start: i64, increment: i64, min: i64, max: i64) -> OwnedSequence {
        OwnedSequence {
            identity: true,
            name: "s".into(),
            type_name: type_name.into(),
            start,
            increment,
            min,
            max,
            cache: 1,
            cycle: false,
        }
    }

    #[test]
    fn sequence_options_keep_only_what_differs() {
        assert_eq!(
            sequence_options(&seq("integer", 1, 1, 1, i64::from(i32::MAX))),
            SequenceOptions::default()
        );
        assert_eq!(
            sequence_options(&seq("bigint", 1, 1, 1, i64::MAX)),
            SequenceOptions::default()
        );
        assert_eq!(
            sequence_options(&seq("bigint", -1, -1, i64::MIN, -1)),
            SequenceOptions {
                increment: Some(-1),
                ..SequenceOptions::default()
            }
        );
        let o = sequence_options(&seq("integer", 100, 5, 1, 1000));
        assert_eq!(o.to_sql(), "START WITH 100 INCREMENT BY 5 MAXVALUE 1000");
    }
}
