//! The catalog shape both sides of a diff are read into, and the whole-schema introspection that
//! reads it from Postgres.
//!
//! Introspection runs a fixed handful of queries over `pg_catalog` for all the requested schemas
//! at once (relations and columns, constraints, indexes, enum types, unmanaged objects), never
//! one query per table, so reading 1,000 tables costs the same few round trips as reading one.
//! Types, defaults, check constraints and index predicates are read as Postgres prints them
//! (`format_type`, `pg_get_expr`, `pg_get_constraintdef`), so they compare as text without any
//! normalisation of our own. Keys, indexes and foreign keys are read as structure (columns,
//! uniqueness, method, referenced table, actions), and [`TableInfo::canonicalise`] rebuilds their
//! definitions from it, so both sides of a diff compare structurally.

use std::collections::BTreeMap;

use ignis_schema::SequenceOptions;
use ignis_tx::Executor;
use postgres::Row;

use crate::error::MigrateError;

/// `(schema, table)`: how tables are keyed.
pub type TableKey = (String, String);

/// A set of relations read from the catalog, keyed by `(schema, name)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// The requested schemas (namespaces) that exist.
    pub schemas: std::collections::BTreeSet<String>,
    /// Tables, views and other relations with columns.
    pub tables: BTreeMap<TableKey, TableInfo>,
    /// User enum types, keyed by `(schema, name)`, with their labels in sort order.
    pub enums: BTreeMap<TableKey, Vec<String>>,
    /// Objects the migrator does not manage, as `(schema, description)`: functions, procedures,
    /// triggers, sequences no column owns, row-level security policies, domains, range and
    /// composite types in the requested schemas (`function public.f(integer)`, `trigger t_audit
    /// on public.t`), except extensions' own. Listed in plans, never changed or dropped.
    pub unmanaged: Vec<(String, String)>,
    /// What each table has that this catalog shape does not hold, as Postgres prints it (see
    /// [`read_unexpressed`]): an index whose definition holds more than [`IndexInfo`] (a
    /// tablespace, operator class parameters, a constraint's index with more than its
    /// columns), a constraint whose definition holds more than its
    /// structure (`NOT VALID`, `INCLUDE`, an exclusion constraint's storage parameters), column attributes
    /// (a collation outside `pg_catalog`, storage, compression, options) and table attributes
    /// (storage parameters, `UNLOGGED`, partitioning, inheritance, row-level security).
    /// A diff reports each entry of a managed table as a difference the model cannot express.
    pub unexpressed: BTreeMap<TableKey, Vec<Unexpressed>>,
}

/// One thing a table has that the catalog shape does not hold (see [`Catalog::unexpressed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unexpressed {
    /// What it is on: `index`, `constraint`, `column`, or `table` for the table itself.
    pub on: &'static str,
    /// The index, constraint or column name; empty for the table itself.
    pub name: String,
    /// What Postgres has, as it prints it: a whole index or constraint definition, or the
    /// attributes of a column or table (`storage EXTERNAL; options (n_distinct=100)`).
    pub what: String,
}

impl std::fmt::Display for Unexpressed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.name.is_empty() {
            write!(f, "{}: {}", self.on, self.what)
        } else {
            write!(
                f,
                "{} {}: {}",
                self.on,
                ignis_schema::quote_ident(&self.name),
                self.what
            )
        }
    }
}

/// What kind of relation a catalog entry is (`pg_class.relkind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    /// An ordinary or partitioned table (`r`, `p`).
    Table,
    /// A view or materialized view (`v`, `m`).
    View,
    /// A foreign table (`f`).
    Foreign,
}

impl TableInfo {
    /// Replaces the `definition` of the primary key, unique constraints, foreign keys and
    /// indexes with one built from their structure (columns, referenced table, actions, method,
    /// unique, keys with their collation, operator class and sort order, `INCLUDE`, `NULLS NOT
    /// DISTINCT`, storage parameters, predicate), so both sides of a diff compare structurally, and the text is the SQL
    /// that creates them. Check constraints keep Postgres's own definition (an expression only
    /// Postgres can normalise), as do index predicates inside the index definition.
    pub fn canonicalise(&mut self, schema: &str, table: &str) {
        use ignis_schema::{
            deferral_sql, quote_ident, quote_ident_list, quote_qualified, ForeignKeyAction,
        };
        let qualified = quote_qualified(schema, table);
        let key = |kind: &str, k: &ConstraintInfo| {
            format!(
                "{kind} {}({}){}",
                if k.nulls_not_distinct {
                    "NULLS NOT DISTINCT "
                } else {
                    ""
                },
                quote_ident_list(&k.columns),
                deferral_sql(k.deferrable, k.initially_deferred)
            )
        };
        if let Some(pk) = &mut self.primary_key {
            pk.definition = key("PRIMARY KEY", pk);
        }
        for u in self.uniques.values_mut() {
            u.definition = key("UNIQUE", u);
        }
        for fk in self.foreign_keys.values_mut() {
            fk.definition = format!(
                "FOREIGN KEY ({}) REFERENCES {} ({}){} ON UPDATE {} ON DELETE {}{}",
                quote_ident_list(&fk.columns),
                quote_qualified(&fk.ref_schema, &fk.ref_table),
                quote_ident_list(&fk.ref_columns),
                if fk.match_full { " MATCH FULL" } else { "" },
                ForeignKeyAction::from_pg_code(fk.on_update).as_sql(),
                ForeignKeyAction::from_pg_code(fk.on_delete).as_sql(),
                deferral_sql(fk.deferrable, fk.initially_deferred)
            );
        }
        for i in self.indexes.values_mut() {
            let keys: Vec<String> = i
                .columns
                .iter()
                .zip(i.key_options())
                .map(|(c, k)| {
                    let mut key = if k.expression {
                        // As `pg_get_indexdef(index, k, false)` prints it: parenthesised
                        // unless it is a function call, as CREATE INDEX takes it.
                        c.clone()
                    } else {
                        quote_ident(c)
                    };
                    if let Some(c) = &k.collation {
                        key.push_str(" COLLATE ");
                        key.push_str(&quote_ident(c));
                    }
                    if let Some(o) = &k.opclass {
                        key.push(' ');
                        key.push_str(&quote_ident(o));
                    }
                    key.push_str(match (k.descending, k.nulls_first) {
                        (true, true) => " DESC",
                        (true, false) => " DESC NULLS LAST",
                        (false, true) => " NULLS FIRST",
                        (false, false) => "",
                    });
                    key
                })
                .collect();
            i.definition = ignis_schema::index_definition(&ignis_schema::IndexDefinition {
                unique: i.unique,
                name: &i.name,
                table: &qualified,
                method: &i.method,
                keys: &keys,
                include: &i.include,
                nulls_not_distinct: i.nulls_not_distinct,
                storage_parameters: &i.storage_parameters,
                predicate: i.predicate.as_deref(),
            });
        }
    }
}

/// Rewrites `from.` to `quoted_to.` in `s` for each `(from, to, quoted_to)` of `names`: schema
/// references in a type, default or definition Postgres printed.
pub(crate) fn rename_schema_refs(s: &mut String, names: &[(String, String, String)]) {
    for (from, _, quoted_to) in names {
        if s.contains(from.as_str()) {
            *s = s.replace(&format!("{from}."), &format!("{quoted_to}."));
        }
    }
}

impl Catalog {
    /// [`TableInfo::canonicalise`] on every table.
    pub fn canonicalise(&mut self) {
        for ((schema, table), t) in self.tables.iter_mut() {
            t.canonicalise(schema, table);
        }
    }

    /// Replaces every occurrence of a schema name in the catalog's strings and keys (types,
    /// defaults, definitions, references) according to `names` (`from -> to`), for reading a
    /// scratch schema back as the real one. `to` is written as Postgres would print it
    /// (`quoted_to`), e.g. `public` or `"My Schema"`.
    pub fn rename_schemas(&mut self, names: &[(String, String, String)]) {
        let fix = |s: &mut String| rename_schema_refs(s, names);
        let key = |k: &TableKey| -> TableKey {
            let schema = names
                .iter()
                .find(|(from, _, _)| *from == k.0)
                .map(|(_, to, _)| to.clone())
                .unwrap_or_else(|| k.0.clone());
            (schema, k.1.clone())
        };
        self.tables = std::mem::take(&mut self.tables)
            .into_iter()
            .map(|(k, mut t)| {
                for c in &mut t.columns {
                    fix(&mut c.data_type);
                    if let Some(d) = &mut c.default {
                        fix(d);
                    }
                }
                if let Some(pk) = &mut t.primary_key {
                    fix(&mut pk.definition);
                }
                for u in t.uniques.values_mut() {
                    fix(&mut u.definition);
                }
                for fk in t.foreign_keys.values_mut() {
                    fix(&mut fk.definition);
                    if let Some((_, to, _)) =
                        names.iter().find(|(from, _, _)| *from == fk.ref_schema)
                    {
                        fk.ref_schema = to.clone();
                    }
                }
                for c in t.checks.values_mut() {
                    fix(c);
                }
                for x in t.exclusions.values_mut() {
                    fix(&mut x.definition);
                    if let Some(p) = &mut x.predicate {
                        fix(p);
                    }
                    for e in &mut x.elements {
                        fix(&mut e.text);
                    }
                }
                for i in t.indexes.values_mut() {
                    fix(&mut i.definition);
                    if let Some(p) = &mut i.predicate {
                        fix(p);
                    }
                    for c in &mut i.columns {
                        fix(c);
                    }
                    for c in &mut i.include {
                        fix(c);
                    }
                }
                (key(&k), t)
            })
            .collect();
        self.enums = std::mem::take(&mut self.enums)
            .into_iter()
            .map(|(k, v)| (key(&k), v))
            .collect();
        self.unexpressed = std::mem::take(&mut self.unexpressed)
            .into_iter()
            .map(|(k, v)| (key(&k), v))
            .collect();
        self.schemas = std::mem::take(&mut self.schemas)
            .into_iter()
            .map(|s| key(&(s, String::new())).0)
            .collect();
    }
}

/// One relation of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// The relation's kind.
    pub kind: RelationKind,
    /// Columns in `attnum` order.
    pub columns: Vec<ColumnInfo>,
    /// The primary key constraint, if any.
    pub primary_key: Option<ConstraintInfo>,
    /// Unique constraints, by name.
    pub uniques: BTreeMap<String, ConstraintInfo>,
    /// Foreign keys, by name.
    pub foreign_keys: BTreeMap<String, ForeignKeyInfo>,
    /// Check constraints, by name (read so that they are reported, not managed yet).
    pub checks: BTreeMap<String, String>,
    /// Indexes that do not back a constraint, by name.
    pub indexes: BTreeMap<String, IndexInfo>,
    /// Exclusion constraints, by name.
    pub exclusions: BTreeMap<String, ExclusionInfo>,
    /// `obj_description(oid, 'pg_class')`: the table's comment.
    pub comment: Option<String>,
}

impl TableInfo {
    /// An empty relation of this kind.
    pub fn new(kind: RelationKind) -> Self {
        TableInfo {
            kind,
            columns: Vec::new(),
            primary_key: None,
            uniques: BTreeMap::new(),
            foreign_keys: BTreeMap::new(),
            checks: BTreeMap::new(),
            indexes: BTreeMap::new(),
            exclusions: BTreeMap::new(),
            comment: None,
        }
    }

    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// One column as the catalog has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// `format_type(atttypid, atttypmod)`: `character varying(20)`, `timestamp with time zone`.
    pub data_type: String,
    /// Not `attnotnull`.
    pub nullable: bool,
    /// `pg_get_expr(adbin)`: the default as Postgres prints it (`''::text`, `now()`).
    pub default: Option<String>,
    /// `attidentity`: `Some('a')` ALWAYS, `Some('d')` BY DEFAULT, `None` not an identity.
    ///
    /// (A generated column's expression is in `generated`, not in `default`.)
    pub identity: Option<char>,
    /// `GENERATED ALWAYS AS (expression) STORED`: the expression as Postgres prints it.
    pub generated: Option<String>,
    /// `attcollation` when it is not the type's own (`typcollation`): the collation's name
    /// (`C`).
    pub collation: Option<String>,
    /// `attstattarget` when set (0 or more); `None` for the default (`-1`, or NULL from
    /// Postgres 17).
    pub statistics: Option<i32>,
    /// `col_description`: the column's comment.
    pub comment: Option<String>,
    /// The options of the sequence the column owns as a serial does (`OWNED BY`, the
    /// `pg_depend` `auto` dependency; not an identity's), those that differ from what the
    /// column's type's `serial` creates ([`SequenceOptions::from_catalog`]); `None` when the
    /// column owns no such sequence.
    pub serial_sequence: Option<SequenceOptions>,
}

/// A primary key or unique constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintInfo {
    /// Constraint name.
    pub name: String,
    /// Column names in key order.
    pub columns: Vec<String>,
    /// `pg_get_constraintdef`: `PRIMARY KEY (id)`, `UNIQUE (code)`.
    pub definition: String,
    /// `condeferrable`: `DEFERRABLE`.
    pub deferrable: bool,
    /// `condeferred`: `INITIALLY DEFERRED`.
    pub initially_deferred: bool,
    /// `indnullsnotdistinct` of the constraint's index: `NULLS NOT DISTINCT` (Postgres 15).
    pub nulls_not_distinct: bool,
}

/// A foreign key constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyInfo {
    /// Constraint name.
    pub name: String,
    /// Referencing columns.
    pub columns: Vec<String>,
    /// Referenced schema.
    pub ref_schema: String,
    /// Referenced table.
    pub ref_table: String,
    /// Referenced columns.
    pub ref_columns: Vec<String>,
    /// `confdeltype`: `a` no action, `r` restrict, `c` cascade, `n` set null, `d` set default.
    pub on_delete: char,
    /// `confupdtype`, same letters.
    pub on_update: char,
    /// `confmatchtype = 'f'`: `MATCH FULL` (`s`, `MATCH SIMPLE`, is the default).
    pub match_full: bool,
    /// `condeferrable`: `DEFERRABLE`.
    pub deferrable: bool,
    /// `condeferred`: `INITIALLY DEFERRED`.
    pub initially_deferred: bool,
    /// `pg_get_constraintdef`: `FOREIGN KEY (created_by) REFERENCES public."User"(id)`.
    pub definition: String,
}

/// An exclusion constraint (`EXCLUDE USING method (element WITH operator, ...)`).
///
/// The diff compares [`ExclusionInfo::definition`], as Postgres prints it on both sides (the
/// models' exclusion constraints are created on scratch tables and read back); the structure
/// is what pull writes into a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExclusionInfo {
    /// Constraint name.
    pub name: String,
    /// The index access method (`gist`, `btree`, ...).
    pub method: String,
    /// The elements, in order.
    pub elements: Vec<ExclusionElementInfo>,
    /// `WHERE` predicate, as Postgres prints it (`pg_get_expr`).
    pub predicate: Option<String>,
    /// `condeferrable`: `DEFERRABLE`.
    pub deferrable: bool,
    /// `condeferred`: `INITIALLY DEFERRED`.
    pub initially_deferred: bool,
    /// `pg_get_constraintdef`: `EXCLUDE USING gist (during WITH &&) WHERE ((id > 0))`.
    pub definition: String,
}

/// One element of an [`ExclusionInfo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExclusionElementInfo {
    /// The column name, or the expression as `pg_get_indexdef(index, k, false)` prints it.
    pub text: String,
    /// The element is an expression.
    pub expression: bool,
    /// The operator class, when it is not the type's default for the method.
    pub opclass: Option<String>,
    /// The operator: its name (`&&`) when it is in `pg_catalog`, else `schema.name`.
    pub operator: String,
}

/// An index that backs no constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexInfo {
    /// Index name.
    pub name: String,
    /// Key columns by name; an expression key is its text from `pg_get_indexdef`.
    pub columns: Vec<String>,
    /// `indisunique`.
    pub unique: bool,
    /// Access method (`btree`, `gin`, ...).
    pub method: String,
    /// Partial index predicate, as Postgres prints it.
    pub predicate: Option<String>,
    /// `pg_get_indexdef`: the whole `CREATE INDEX` statement.
    pub definition: String,
    /// Per key, in the order of `columns`: expression or column, operator class, collation,
    /// sort order. Empty means plain column keys.
    pub keys: Vec<IndexKeyInfo>,
    /// `INCLUDE` columns.
    pub include: Vec<String>,
    /// `NULLS NOT DISTINCT`.
    pub nulls_not_distinct: bool,
    /// Storage parameters (`reloptions`) in Postgres's order: name and value as Postgres keeps
    /// them (`fillfactor`, `50`).
    pub storage_parameters: Vec<(String, String)>,
}

/// The options of one index key (see [`IndexInfo::keys`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexKeyInfo {
    /// The key is an expression (its text is in [`IndexInfo::columns`]).
    pub expression: bool,
    /// The operator class, when it is not the type's default for the method (`opcdefault`).
    pub opclass: Option<String>,
    /// The collation, when it is not the column's own (or, for an expression, the default).
    pub collation: Option<String>,
    /// `DESC`.
    pub descending: bool,
    /// Nulls sort first (the default for `DESC`, not for `ASC`).
    pub nulls_first: bool,
}

impl IndexKeyInfo {
    /// The options of a key as `indoption` bits hold them (bit 1 `DESC`, bit 2 `NULLS FIRST`,
    /// src/include/catalog/pg_index.h).
    pub fn from_indoption(
        expression: bool,
        opclass: Option<String>,
        collation: Option<String>,
        option: i32,
    ) -> Self {
        IndexKeyInfo {
            expression,
            opclass,
            collation,
            descending: option & 1 != 0,
            nulls_first: option & 2 != 0,
        }
    }

    /// True when the key has no option and is a column: what a plain column name says.
    pub fn is_plain(&self) -> bool {
        *self == IndexKeyInfo::default()
    }
}

impl IndexInfo {
    /// The keys' options, one per column (plain keys when [`IndexInfo::keys`] is empty).
    pub fn key_options(&self) -> Vec<IndexKeyInfo> {
        let mut keys = self.keys.clone();
        keys.resize(self.columns.len(), IndexKeyInfo::default());
        keys
    }

    /// Empties [`IndexInfo::keys`] when every key is a plain column, so that both forms
    /// compare equal.
    pub fn simplify_keys(&mut self) {
        if self.keys.iter().all(IndexKeyInfo::is_plain) {
            self.keys.clear();
        }
    }
}

const ENUMS_SQL: &str = "\
SELECT n.nspname::text, t.typname::text,
       ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'e' AND n.nspname = ANY($1)
ORDER BY 1, 2";

const UNMANAGED_SQL: &str = "\
SELECT n.nspname::text,
       CASE p.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate ' ELSE 'function ' END
       || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT n.nspname::text, 'trigger ' || t.tgname || ' on ' || n.nspname || '.' || c.relname
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND NOT t.tgisinternal
UNION ALL
SELECT n.nspname::text, 'sequence ' || n.nspname || '.' || c.relname || ' (owned by no column)'
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND c.relkind = 'S'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                    AND d.deptype IN ('a', 'i', 'e'))
UNION ALL
SELECT n.nspname::text, 'policy ' || p.polname || ' on ' || n.nspname || '.' || c.relname
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1)
UNION ALL
SELECT n.nspname::text,
       CASE t.typtype WHEN 'd' THEN 'domain ' WHEN 'r' THEN 'range type ' ELSE 'composite type ' END
       || n.nspname || '.' || t.typname
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_class tc ON tc.oid = t.typrelid
WHERE n.nspname = ANY($1)
  AND (t.typtype IN ('d', 'r') OR (t.typtype = 'c' AND tc.relkind = 'c'))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY 1, 2";

const SCHEMAS_SQL: &str = "SELECT nspname::text FROM pg_namespace WHERE nspname = ANY($1)";

const RELATIONS_SQL: &str = "\
SELECT n.nspname::text, c.relname::text, c.relkind::text, a.attname::text,
       format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation
            THEN coll.collname::text END,
       CASE WHEN COALESCE(a.attstattarget::int4, -1) >= 0 THEN a.attstattarget::int4 END,
       cdes.description, tdes.description,
       seq.seqtype, seq.seqstart, seq.seqincrement, seq.seqmin, seq.seqmax, seq.seqcache,
       seq.seqcycle
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
LEFT JOIN pg_type ty ON ty.oid = a.atttypid
LEFT JOIN pg_collation coll ON coll.oid = a.attcollation
LEFT JOIN pg_description cdes ON cdes.objoid = c.oid AND cdes.classoid = 'pg_class'::regclass
                             AND cdes.objsubid = a.attnum
LEFT JOIN pg_description tdes ON tdes.objoid = c.oid AND tdes.classoid = 'pg_class'::regclass
                             AND tdes.objsubid = 0
LEFT JOIN (
  SELECT DISTINCT ON (dep.refobjid, dep.refobjsubid) dep.refobjid, dep.refobjsubid,
         format_type(sq.seqtypid, NULL) AS seqtype, sq.seqstart, sq.seqincrement, sq.seqmin,
         sq.seqmax, sq.seqcache, sq.seqcycle
  FROM pg_depend dep JOIN pg_sequence sq ON sq.seqrelid = dep.objid
  WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
    AND dep.deptype IN ('a', 'i')
  ORDER BY dep.refobjid, dep.refobjsubid, sq.seqrelid
) seq ON seq.refobjid = c.oid AND seq.refobjsubid = a.attnum
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY n.nspname, c.relname, a.attnum";

const CONSTRAINTS_SQL: &str = "\
SELECT n.nspname::text, c.relname::text, con.conname::text, con.contype::text,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord),
       fn.nspname::text, fc.relname::text,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord),
       con.confdeltype::text, con.confupdtype::text, pg_get_constraintdef(con.oid),
       con.condeferrable, con.condeferred, con.confmatchtype::text,
       COALESCE((to_jsonb(ix) ->> 'indnullsnotdistinct')::bool, false),
       x.method, x.texts, x.exprs, x.opclasses, x.operators, x.predicate
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
LEFT JOIN pg_index ix ON ix.indexrelid = con.conindid AND con.contype IN ('p', 'u')
LEFT JOIN LATERAL (
  SELECT am.amname::text AS method, pg_get_expr(xi.indpred, xi.indrelid) AS predicate, el.*
  FROM pg_index xi
  JOIN pg_class xc ON xc.oid = xi.indexrelid
  JOIN pg_am am ON am.oid = xc.relam
  CROSS JOIN LATERAL (
    SELECT array_agg(CASE WHEN k.attnum = 0
                          THEN pg_get_indexdef(xi.indexrelid, k.ord::int, false)
                          ELSE a.attname::text END ORDER BY k.ord) AS texts,
           array_agg(k.attnum = 0 ORDER BY k.ord) AS exprs,
           array_agg(CASE WHEN opc.opcdefault THEN NULL ELSE opc.opcname::text END
                     ORDER BY k.ord) AS opclasses,
           array_agg(CASE WHEN op.oprnamespace = 'pg_catalog'::regnamespace THEN op.oprname::text
                          ELSE opn.nspname::text || '.' || op.oprname::text END
                     ORDER BY k.ord) AS operators
    FROM unnest(xi.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
    LEFT JOIN pg_attribute a ON a.attrelid = xi.indrelid AND a.attnum = k.attnum
    LEFT JOIN pg_opclass opc ON opc.oid = xi.indclass[k.ord - 1]
    LEFT JOIN pg_operator op ON op.oid = con.conexclop[k.ord]
    LEFT JOIN pg_namespace opn ON opn.oid = op.oprnamespace
    WHERE k.ord <= xi.indnkeyatts) el
  WHERE con.contype = 'x' AND xi.indexrelid = con.conindid
) x ON true
WHERE n.nspname = ANY($1) AND con.contype IN ('p', 'u', 'f', 'c', 'x')
ORDER BY n.nspname, c.relname, con.conname";

/// Non-constraint indexes with their keys: per key its text (a column name, or an expression
/// as `pg_get_indexdef(index, k, false)` prints it), whether it is an expression, its operator
/// class (none when it is the type's default for the method, `opcdefault`), its collation (none
/// when it is the column's own, or the default for an expression) and its `indoption` bits;
/// then `INCLUDE` columns, `NULLS NOT DISTINCT` (read through `to_jsonb` so that servers before
/// 15, which lack the column, read false) and storage parameters (`reloptions`).
const INDEXES_SQL: &str = "\
SELECT n.nspname::text, t.relname::text, i.relname::text, ix.indisunique, am.amname::text,
       COALESCE(keys.texts, '{}'), pg_get_expr(ix.indpred, ix.indrelid),
       pg_get_indexdef(ix.indexrelid), COALESCE(keys.exprs, '{}'),
       COALESCE(keys.opclasses, '{}'), COALESCE(keys.collations, '{}'),
       COALESCE(keys.options, '{}'),
       ARRAY(SELECT a.attname::text FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
             WHERE k.ord > ix.indnkeyatts
             ORDER BY k.ord),
       COALESCE((to_jsonb(ix) ->> 'indnullsnotdistinct')::bool, false),
       COALESCE(i.reloptions, '{}')::text[]
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
CROSS JOIN LATERAL (
  SELECT array_agg(CASE WHEN k.attnum = 0 THEN pg_get_indexdef(ix.indexrelid, k.ord::int, false)
                        ELSE a.attname::text END ORDER BY k.ord) AS texts,
         array_agg(k.attnum = 0 ORDER BY k.ord) AS exprs,
         array_agg(CASE WHEN opc.opcdefault THEN NULL ELSE opc.opcname::text END
                   ORDER BY k.ord) AS opclasses,
         array_agg(CASE WHEN coll.oid IS NULL OR coll.oid = COALESCE(a.attcollation, 100) THEN NULL
                        ELSE coll.collname::text END ORDER BY k.ord) AS collations,
         array_agg(ix.indoption[k.ord - 1]::int ORDER BY k.ord) AS options
  FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
  LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
  LEFT JOIN pg_opclass opc ON opc.oid = ix.indclass[k.ord - 1]
  LEFT JOIN pg_collation coll ON coll.oid = ix.indcollation[k.ord - 1]
  WHERE k.ord <= ix.indnkeyatts) keys
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                  WHERE con.conindid = ix.indexrelid AND con.conrelid = ix.indrelid
                    AND con.contype IN ('p', 'u', 'x'))
ORDER BY n.nspname, t.relname, i.relname";

/// Indexes whose definition (`pg_get_indexdef`) is not the one rebuilt from what
/// [`IndexInfo`] holds: `CREATE [UNIQUE] INDEX name ON schema.table USING method (keys)
/// [INCLUDE (columns)] [NULLS NOT DISTINCT] [WITH (parameters)] [WHERE predicate]`, each key
/// with its collation, operator class and `DESC` / `NULLS FIRST` / `NULLS LAST` as
/// [`INDEXES_SQL`] reads them, names quoted by Postgres's own `quote_ident`. Anything else in
/// the definition (a tablespace, operator class parameters or a schema-qualified operator
/// class or collation) makes it differ. Indexes backing a primary key or unique constraint are
/// rebuilt from their columns and `NULLS NOT DISTINCT` only: that is what the constraint holds.
/// Indexes backing an exclusion constraint are left to [`UNEXPRESSED_CONSTRAINTS_SQL`]: the
/// constraint's definition prints the whole index.
const UNEXPRESSED_INDEXES_SQL: &str = "\
SELECT nspname, relname, indexname, def FROM (
SELECT n.nspname::text AS nspname, t.relname::text AS relname, i.relname::text AS indexname,
       pg_get_indexdef(ix.indexrelid) AS def,
      'CREATE ' || CASE WHEN ix.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX '
      || quote_ident(i.relname) || ' ON ' || quote_ident(n.nspname) || '.' || quote_ident(t.relname)
      || ' USING ' || quote_ident(am.amname) || ' ('
      || (SELECT string_agg(
                   CASE WHEN k.attnum = 0 AND NOT b.backed
                        THEN pg_get_indexdef(ix.indexrelid, k.ord::int, false)
                        ELSE COALESCE(quote_ident(a.attname), '?') END
                   || CASE WHEN b.backed THEN '' ELSE
                        CASE WHEN coll.oid IS NULL OR coll.oid = COALESCE(a.attcollation, 100)
                             THEN '' ELSE ' COLLATE ' || quote_ident(coll.collname) END
                        || CASE WHEN opc.opcdefault THEN '' ELSE ' ' || quote_ident(opc.opcname) END
                        || CASE ix.indoption[k.ord - 1] & 3 WHEN 3 THEN ' DESC'
                             WHEN 1 THEN ' DESC NULLS LAST' WHEN 2 THEN ' NULLS FIRST' ELSE '' END
                      END, ', ' ORDER BY k.ord)
          FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
          LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
          LEFT JOIN pg_opclass opc ON opc.oid = ix.indclass[k.ord - 1]
          LEFT JOIN pg_collation coll ON coll.oid = ix.indcollation[k.ord - 1]
          WHERE k.ord <= ix.indnkeyatts)
      || ')'
      || CASE WHEN b.backed OR ix.indnatts = ix.indnkeyatts THEN '' ELSE ' INCLUDE ('
           || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
               FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
               WHERE k.ord > ix.indnkeyatts) || ')' END
      || CASE WHEN COALESCE((to_jsonb(ix) ->> 'indnullsnotdistinct')::bool, false)
              THEN ' NULLS NOT DISTINCT' ELSE '' END
      || CASE WHEN b.backed OR i.reloptions IS NULL THEN '' ELSE ' WITH ('
           || (SELECT string_agg(quote_ident(o.name) || '='
                                 || CASE WHEN quote_ident(o.value) = o.value THEN o.value
                                         ELSE quote_literal(o.value) END, ', ' ORDER BY o.ord)
               FROM pg_options_to_table(i.reloptions) WITH ORDINALITY o(name, value, ord)) || ')' END
      || COALESCE(' WHERE ' || pg_get_expr(ix.indpred, ix.indrelid), '') AS rebuilt
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
LEFT JOIN (SELECT conindid, bool_or(contype = 'x') AS exclusion FROM pg_constraint
           WHERE contype IN ('p', 'u', 'x') GROUP BY conindid) bc
       ON bc.conindid = ix.indexrelid
CROSS JOIN LATERAL (SELECT bc.conindid IS NOT NULL AS backed) b
WHERE n.nspname = ANY($1) AND t.relkind IN ('r', 'p') AND NOT COALESCE(bc.exclusion, false)
) idx
WHERE def IS DISTINCT FROM rebuilt
ORDER BY 1, 2, 3";

/// Constraints whose definition (`pg_get_constraintdef`) is not the one rebuilt from their
/// structure (primary key and unique columns with `NULLS NOT DISTINCT`; foreign key columns,
/// referenced table and columns, `MATCH FULL`, `ON UPDATE` / `ON DELETE` actions; `DEFERRABLE`
/// and `INITIALLY DEFERRED`; exclusion constraint method, elements with their operator class
/// and operator, predicate). `NOT VALID`, `MATCH PARTIAL`, `INCLUDE`, column lists of `SET
/// NULL (..)`, and on an exclusion constraint a collation, sort order or storage parameters
/// make the definition differ.
const UNEXPRESSED_CONSTRAINTS_SQL: &str = "\
SELECT nspname, relname, conname, def FROM (
SELECT n.nspname::text AS nspname, c.relname::text AS relname, con.conname::text AS conname,
       pg_get_constraintdef(con.oid) AS def, CASE WHEN con.contype = 'x' THEN (
      SELECT 'EXCLUDE USING ' || quote_ident(am.amname) || ' ('
             || (SELECT string_agg(
                          CASE WHEN k.attnum = 0 THEN pg_get_indexdef(xi.indexrelid, k.ord::int, false)
                               ELSE quote_ident(a.attname) END
                          || CASE WHEN opc.opcdefault THEN '' ELSE ' ' || quote_ident(opc.opcname) END
                          || ' WITH '
                          || CASE WHEN op.oprnamespace = 'pg_catalog'::regnamespace THEN op.oprname::text
                                  ELSE 'OPERATOR(' || quote_ident(opn.nspname) || '.' || op.oprname || ')' END,
                          ', ' ORDER BY k.ord)
                 FROM unnest(xi.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                 LEFT JOIN pg_attribute a ON a.attrelid = xi.indrelid AND a.attnum = k.attnum
                 LEFT JOIN pg_opclass opc ON opc.oid = xi.indclass[k.ord - 1]
                 LEFT JOIN pg_operator op ON op.oid = con.conexclop[k.ord]
                 LEFT JOIN pg_namespace opn ON opn.oid = op.oprnamespace
                 WHERE k.ord <= xi.indnkeyatts)
             || ')' || COALESCE(' WHERE (' || pg_get_expr(xi.indpred, xi.indrelid) || ')', '')
             || CASE WHEN con.condeferrable THEN ' DEFERRABLE' ELSE '' END
             || CASE WHEN con.condeferred THEN ' INITIALLY DEFERRED' ELSE '' END
      FROM pg_index xi JOIN pg_class xc ON xc.oid = xi.indexrelid JOIN pg_am am ON am.oid = xc.relam
      WHERE xi.indexrelid = con.conindid)
    ELSE (
      CASE con.contype WHEN 'p' THEN 'PRIMARY KEY ' WHEN 'u' THEN 'UNIQUE ' WHEN 'f' THEN 'FOREIGN KEY ' END
      || CASE WHEN COALESCE((to_jsonb(ix) ->> 'indnullsnotdistinct')::bool, false)
              THEN 'NULLS NOT DISTINCT (' ELSE '(' END
      || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
          FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum)
      || ')'
      || CASE WHEN con.contype = 'f' THEN
             ' REFERENCES ' || quote_ident(fn.nspname) || '.' || quote_ident(fc.relname) || '('
             || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
                 FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum)
             || ')'
             || CASE con.confmatchtype WHEN 'f' THEN ' MATCH FULL' WHEN 'p' THEN ' MATCH PARTIAL' ELSE '' END
             || CASE con.confupdtype WHEN 'r' THEN ' ON UPDATE RESTRICT' WHEN 'c' THEN ' ON UPDATE CASCADE'
                  WHEN 'n' THEN ' ON UPDATE SET NULL' WHEN 'd' THEN ' ON UPDATE SET DEFAULT' ELSE '' END
             || CASE con.confdeltype WHEN 'r' THEN ' ON DELETE RESTRICT' WHEN 'c' THEN ' ON DELETE CASCADE'
                  WHEN 'n' THEN ' ON DELETE SET NULL' WHEN 'd' THEN ' ON DELETE SET DEFAULT' ELSE '' END
         ELSE '' END
      || CASE WHEN con.condeferrable THEN ' DEFERRABLE' ELSE '' END
      || CASE WHEN con.condeferred THEN ' INITIALLY DEFERRED' ELSE '' END) END AS rebuilt
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
LEFT JOIN pg_index ix ON ix.indexrelid = con.conindid AND con.contype IN ('p', 'u')
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND con.contype IN ('p', 'u', 'f', 'x')
) cons
WHERE def IS DISTINCT FROM rebuilt
ORDER BY 1, 2, 3";

/// Column attributes outside [`ColumnInfo`], as `(schema, table, column, what)`: a collation
/// other than the type's outside `pg_catalog` (a model names a collation unqualified, so only
/// the built-in and imported ones in `pg_catalog` round-trip), a storage or compression other
/// than the type's default, attribute options.
const UNEXPRESSED_COLUMNS_SQL: &str = "\
SELECT * FROM (
  SELECT n.nspname::text, c.relname::text, a.attname::text,
         concat_ws('; ',
           CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation
                     AND coll.collnamespace <> 'pg_catalog'::regnamespace
                THEN 'collation ' || quote_ident(coll.collname) END,
           CASE WHEN a.attstorage <> ty.typstorage THEN 'storage ' ||
                CASE a.attstorage WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL'
                                  WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END END,
           CASE WHEN a.attcompression <> '' THEN 'compression ' ||
                CASE a.attcompression WHEN 'l' THEN 'lz4' ELSE 'pglz' END END,
           CASE WHEN a.attoptions IS NOT NULL
                THEN 'options (' || array_to_string(a.attoptions, ', ') || ')' END
         ) AS what
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_type ty ON ty.oid = a.atttypid
  LEFT JOIN pg_collation coll ON coll.oid = a.attcollation
  WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
) attrs
WHERE what <> ''
ORDER BY 1, 2, 3";

/// Table attributes outside [`TableInfo`], as `(schema, table, what)`, and sequences owned by
/// serial columns whose type is not the column's (a serial creates its sequence as its
/// column's type; the options are in [`ColumnInfo::serial_sequence`]).
const UNEXPRESSED_TABLES_SQL: &str = "\
WITH odd_serials AS (
  SELECT d.refobjid AS tbl,
         string_agg('sequence ' || quote_ident(sn.nspname) || '.' || quote_ident(sc.relname)
                    || ' of serial column ' || quote_ident(a.attname) || ' is '
                    || format_type(s.seqtypid, NULL) || ', not the column''s type', '; ') AS what
  FROM pg_depend d
  JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'
  JOIN pg_namespace sn ON sn.oid = sc.relnamespace
  JOIN pg_sequence s ON s.seqrelid = sc.oid
  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
  WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
    AND d.deptype = 'a' AND sn.nspname = ANY($1)
    AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
    AND s.seqtypid <> a.atttypid
  GROUP BY d.refobjid
)
SELECT * FROM (
  SELECT n.nspname::text, c.relname::text,
         concat_ws('; ',
           CASE WHEN c.reloptions IS NOT NULL
                THEN 'storage parameters (' || array_to_string(c.reloptions, ', ') || ')' END,
           CASE WHEN c.relpersistence = 'u' THEN 'UNLOGGED' END,
           CASE WHEN c.reltablespace <> 0 THEN 'a tablespace of its own' END,
           CASE WHEN c.relkind = 'p' THEN 'partitioned (' || pg_get_partkeydef(c.oid) || ')' END,
           CASE WHEN c.relispartition THEN 'a partition of another table' END,
           CASE WHEN NOT c.relispartition AND inh.inhrelid IS NOT NULL
                THEN 'inherits from another table' END,
           CASE WHEN c.relrowsecurity THEN 'row-level security' END,
           CASE WHEN c.relforcerowsecurity THEN 'forced row-level security' END,
           CASE WHEN c.relreplident NOT IN ('d') THEN 'replica identity ' ||
                CASE c.relreplident WHEN 'n' THEN 'NOTHING' WHEN 'f' THEN 'FULL' ELSE 'USING INDEX' END END,
           os.what
         ) AS what
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN (SELECT DISTINCT inhrelid FROM pg_inherits) inh ON inh.inhrelid = c.oid
  LEFT JOIN odd_serials os ON os.tbl = c.oid
  WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p')
) attrs
WHERE what <> ''
ORDER BY 1, 2";

fn get<'a, T: postgres::types::FromSql<'a>>(
    row: &'a Row,
    idx: usize,
    query: &str,
) -> Result<T, MigrateError> {
    row.try_get(idx)
        .map_err(|e| MigrateError::Introspect(format!("{query}: column {idx}: {e}")))
}

/// The owned sequence's options of a `RELATIONS_SQL` row (columns 13 to 19), normalised
/// against the column's type when it is an integer type (what `serial` would create for it),
/// otherwise against the sequence's own type.
fn serial_sequence(row: &Row) -> Result<Option<SequenceOptions>, MigrateError> {
    let q = "relations";
    let Some(seq_type) = get::<Option<String>>(row, 13, q)? else {
        return Ok(None);
    };
    let column_type: String = get(row, 4, q)?;
    let type_name = match column_type.as_str() {
        "smallint" | "integer" | "bigint" => column_type.as_str(),
        _ => seq_type.as_str(),
    };
    Ok(Some(SequenceOptions::from_catalog(
        type_name,
        get(row, 14, q)?,
        get(row, 15, q)?,
        get(row, 16, q)?,
        get(row, 17, q)?,
        get(row, 18, q)?,
        get(row, 19, q)?,
    )))
}

fn first_char(s: Option<String>) -> Option<char> {
    s.and_then(|s| s.chars().next()).filter(|c| *c != '\0')
}

/// Reads every relation of the given schemas, with columns, keys, indexes and enum types, in five
/// queries (schemas, relations with columns, constraints, indexes, enums).
///
/// Names in types, defaults and definitions are printed as Postgres prints them with
/// `search_path = pg_catalog`, i.e. schema-qualified (`public."User"`), so both sides of a diff
/// print them the same way whatever the session's search path. Inside a transaction the search
/// path is restored afterwards; outside one, `SET LOCAL` has no effect and names print relative to
/// the session's search path.
///
/// # Errors
/// [`MigrateError::Database`] when a query fails, [`MigrateError::Introspect`] when a row does
/// not have the expected shape.
pub fn introspect<E: Executor + ?Sized>(
    exec: &mut E,
    schemas: &[String],
) -> Result<Catalog, MigrateError> {
    read_with_catalog_path(exec, schemas, true)
}

/// [`introspect`] without [`Catalog::unexpressed`]: for the migrator's own scratch objects,
/// which hold only what the models express.
///
/// # Errors
/// As [`introspect`].
pub(crate) fn introspect_modelled<E: Executor + ?Sized>(
    exec: &mut E,
    schemas: &[String],
) -> Result<Catalog, MigrateError> {
    read_with_catalog_path(exec, schemas, false)
}

/// [`read_catalog`] with `search_path = pg_catalog` (restored afterwards), so every name prints
/// schema-qualified.
fn read_with_catalog_path<E: Executor + ?Sized>(
    exec: &mut E,
    schemas: &[String],
    unexpressed: bool,
) -> Result<Catalog, MigrateError> {
    let saved: String = exec
        .query_one("SELECT current_setting('search_path')", &[])?
        .try_get(0)
        .map_err(|e| MigrateError::Introspect(e.to_string()))?;
    exec.batch_execute("SET LOCAL search_path = pg_catalog")?;
    let result = read_catalog(exec, schemas, unexpressed);
    exec.execute("SELECT set_config('search_path', $1, true)", &[&saved])?;
    result
}

fn read_catalog<E: Executor + ?Sized>(
    exec: &mut E,
    schemas: &[String],
    unexpressed: bool,
) -> Result<Catalog, MigrateError> {
    let mut catalog = Catalog::default();
    for row in exec.query(ENUMS_SQL, &[&schemas])? {
        catalog.enums.insert(
            (get(&row, 0, "enums")?, get(&row, 1, "enums")?),
            get(&row, 2, "enums")?,
        );
    }
    for row in exec.query(UNMANAGED_SQL, &[&schemas])? {
        catalog
            .unmanaged
            .push((get(&row, 0, "unmanaged")?, get(&row, 1, "unmanaged")?));
    }
    for row in exec.query(SCHEMAS_SQL, &[&schemas])? {
        catalog.schemas.insert(get(&row, 0, "schemas")?);
    }
    for row in exec.query(RELATIONS_SQL, &[&schemas])? {
        let schema: String = get(&row, 0, "relations")?;
        let table: String = get(&row, 1, "relations")?;
        let kind = match get::<String>(&row, 2, "relations")?.as_str() {
            "v" | "m" => RelationKind::View,
            "f" => RelationKind::Foreign,
            _ => RelationKind::Table,
        };
        let info = catalog
            .tables
            .entry((schema, table))
            .or_insert_with(|| TableInfo::new(kind));
        info.comment = get(&row, 12, "relations")?;
        let Some(name) = get::<Option<String>>(&row, 3, "relations")? else {
            continue; // a relation with no columns
        };
        let expr: Option<String> = get(&row, 6, "relations")?;
        let generated = first_char(get(&row, 8, "relations")?).is_some();
        info.columns.push(ColumnInfo {
            name,
            data_type: get(&row, 4, "relations")?,
            nullable: !get::<bool>(&row, 5, "relations")?,
            default: if generated { None } else { expr.clone() },
            identity: first_char(get(&row, 7, "relations")?),
            generated: if generated { expr } else { None },
            collation: get(&row, 9, "relations")?,
            statistics: get(&row, 10, "relations")?,
            comment: get(&row, 11, "relations")?,
            serial_sequence: serial_sequence(&row)?,
        });
    }
    for row in exec.query(CONSTRAINTS_SQL, &[&schemas])? {
        let key: TableKey = (get(&row, 0, "constraints")?, get(&row, 1, "constraints")?);
        let name: String = get(&row, 2, "constraints")?;
        let kind: String = get(&row, 3, "constraints")?;
        let columns: Vec<String> = get(&row, 4, "constraints")?;
        let definition: String = get(&row, 10, "constraints")?;
        let deferrable: bool = get(&row, 11, "constraints")?;
        let initially_deferred: bool = get(&row, 12, "constraints")?;
        let nulls_not_distinct: bool = get(&row, 14, "constraints")?;
        let Some(info) = catalog.tables.get_mut(&key) else {
            continue;
        };
        match kind.as_str() {
            "p" => {
                info.primary_key = Some(ConstraintInfo {
                    name,
                    columns,
                    definition,
                    deferrable,
                    initially_deferred,
                    nulls_not_distinct,
                })
            }
            "u" => {
                info.uniques.insert(
                    name.clone(),
                    ConstraintInfo {
                        name,
                        columns,
                        definition,
                        deferrable,
                        initially_deferred,
                        nulls_not_distinct,
                    },
                );
            }
            "f" => {
                let fk = ForeignKeyInfo {
                    name: name.clone(),
                    columns,
                    ref_schema: get::<Option<String>>(&row, 5, "constraints")?.unwrap_or_default(),
                    ref_table: get::<Option<String>>(&row, 6, "constraints")?.unwrap_or_default(),
                    ref_columns: get(&row, 7, "constraints")?,
                    on_delete: first_char(get(&row, 8, "constraints")?).unwrap_or('a'),
                    on_update: first_char(get(&row, 9, "constraints")?).unwrap_or('a'),
                    match_full: first_char(get(&row, 13, "constraints")?) == Some('f'),
                    deferrable,
                    initially_deferred,
                    definition,
                };
                info.foreign_keys.insert(name, fk);
            }
            "x" => {
                let texts: Vec<String> =
                    get::<Option<_>>(&row, 16, "constraints")?.unwrap_or_default();
                let exprs: Vec<bool> =
                    get::<Option<_>>(&row, 17, "constraints")?.unwrap_or_default();
                let opclasses: Vec<Option<String>> =
                    get::<Option<_>>(&row, 18, "constraints")?.unwrap_or_default();
                let operators: Vec<Option<String>> =
                    get::<Option<_>>(&row, 19, "constraints")?.unwrap_or_default();
                let elements = texts
                    .into_iter()
                    .enumerate()
                    .map(|(k, text)| ExclusionElementInfo {
                        text,
                        expression: exprs.get(k).copied().unwrap_or(false),
                        opclass: opclasses.get(k).cloned().flatten(),
                        operator: operators.get(k).cloned().flatten().unwrap_or_default(),
                    })
                    .collect();
                info.exclusions.insert(
                    name.clone(),
                    ExclusionInfo {
                        name,
                        method: get::<Option<String>>(&row, 15, "constraints")?.unwrap_or_default(),
                        elements,
                        predicate: get(&row, 20, "constraints")?,
                        deferrable,
                        initially_deferred,
                        definition,
                    },
                );
            }
            _ => {
                info.checks.insert(name, definition);
            }
        }
    }
    for row in exec.query(INDEXES_SQL, &[&schemas])? {
        let key: TableKey = (get(&row, 0, "indexes")?, get(&row, 1, "indexes")?);
        let Some(info) = catalog.tables.get_mut(&key) else {
            continue;
        };
        let name: String = get(&row, 2, "indexes")?;
        let columns: Vec<String> = get(&row, 5, "indexes")?;
        let exprs: Vec<bool> = get(&row, 8, "indexes")?;
        let opclasses: Vec<Option<String>> = get(&row, 9, "indexes")?;
        let collations: Vec<Option<String>> = get(&row, 10, "indexes")?;
        let options: Vec<i32> = get(&row, 11, "indexes")?;
        let keys = (0..columns.len())
            .map(|k| {
                IndexKeyInfo::from_indoption(
                    exprs.get(k).copied().unwrap_or(false),
                    opclasses.get(k).cloned().flatten(),
                    collations.get(k).cloned().flatten(),
                    options.get(k).copied().unwrap_or(0),
                )
            })
            .collect();
        let storage_parameters = get::<Vec<String>>(&row, 14, "indexes")?
            .into_iter()
            .map(|option| match option.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (option, String::new()),
            })
            .collect();
        let mut index = IndexInfo {
            name: name.clone(),
            unique: get(&row, 3, "indexes")?,
            method: get(&row, 4, "indexes")?,
            columns,
            predicate: get(&row, 6, "indexes")?,
            definition: get(&row, 7, "indexes")?,
            keys,
            include: get(&row, 12, "indexes")?,
            nulls_not_distinct: get(&row, 13, "indexes")?,
            storage_parameters,
        };
        index.simplify_keys();
        info.indexes.insert(name, index);
    }
    if unexpressed {
        read_unexpressed(exec, schemas, &mut catalog)?;
    }
    Ok(catalog)
}

/// Fills [`Catalog::unexpressed`]: four whole-schema queries comparing what Postgres prints for
/// every index, constraint, column and table of the requested schemas with what the catalog
/// shape holds of them. An entry is a line a person can act on (`index "recordorder": CREATE
/// INDEX recordorder ON public.records USING btree (domain_id, ordername text_pattern_ops)`).
///
/// When the catalog shape learns an attribute, the rebuilt definitions here must learn it too,
/// or every object using it is reported although it is compared.
///
/// # Errors
/// As [`introspect`].
pub fn read_unexpressed<E: Executor + ?Sized>(
    exec: &mut E,
    schemas: &[String],
    catalog: &mut Catalog,
) -> Result<(), MigrateError> {
    let mut add = |row: &Row, on: &'static str, query: &str| -> Result<(), MigrateError> {
        let key: TableKey = (get(row, 0, query)?, get(row, 1, query)?);
        let (name, what) = if on == "table" {
            (String::new(), get(row, 2, query)?)
        } else {
            (get(row, 2, query)?, get(row, 3, query)?)
        };
        catalog
            .unexpressed
            .entry(key)
            .or_default()
            .push(Unexpressed { on, name, what });
        Ok(())
    };
    for (sql, on) in [
        (UNEXPRESSED_INDEXES_SQL, "index"),
        (UNEXPRESSED_CONSTRAINTS_SQL, "constraint"),
        (UNEXPRESSED_COLUMNS_SQL, "column"),
        (UNEXPRESSED_TABLES_SQL, "table"),
    ] {
        for row in exec.query(sql, &[&schemas])? {
            add(&row, on, on)?;
        }
    }
    Ok(())
}
