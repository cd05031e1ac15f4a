//! sea-query DDL statements built from a model.
//!
//! The migrator creates a table in steps, so that tables that reference each other can be created
//! in any order: [`Model::create_table_statement`] (columns, primary key, unique constraints), then
//! [`Model::create_index_statements`], then [`Model::create_foreign_key_statements`] once every
//! table exists. Identifiers are quoted by sea-query, or by [`quote_ident`] in the statements
//! written as text (indexes, whose operator classes, collations, `INCLUDE` and storage
//! parameters sea-query cannot write); types, defaults, identity clauses, index expressions and
//! predicates come from the model's author (DDL, never user input).

use sea_query::{
    Alias, ColumnDef, Expr, ForeignKey as SqForeignKey, ForeignKeyAction as SqAction,
    ForeignKeyCreateStatement, Index as SqIndex, IndexCreateStatement, PostgresQueryBuilder, Table,
    TableAlterStatement, TableCreateStatement, TableRef,
};

use crate::column::Column;
use crate::model::{ForeignKey, ForeignKeyAction, Index, Model, UniqueConstraint};

/// `"name"` with inner double quotes doubled: a Postgres quoted identifier (Postgres manual,
/// 4.1.1 "Identifiers and Key Words").
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `"schema"."name"`: a schema-qualified name, both parts quoted with [`quote_ident`].
pub fn quote_qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// `"a", "b"`: identifiers quoted with [`quote_ident`] and joined by `, ` (column lists).
pub fn quote_ident_list<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| quote_ident(n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `{name1}_{suffix}` as Postgres's `makeObjectName` builds it: `name1` is cut (on a character
/// boundary) so the whole name fits in 63 bytes, instead of Postgres silently truncating the end
/// (which would make `{63-byte table}_pkey` collide with the table's own name).
pub fn object_name(name1: &str, suffix: &str) -> String {
    let room = crate::MAX_IDENTIFIER_BYTES.saturating_sub(suffix.len() + 1);
    let mut cut = name1.len().min(room);
    while !name1.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{suffix}", &name1[..cut])
}

/// `{name1}_{name2}_{label}` as Postgres's `makeObjectName` builds it for a serial column's
/// sequence (`{table}_{column}_seq`) or an index or key named after a column: while the whole
/// name is longer than 63 bytes, the longer of `name1` and `name2` loses its last byte, then each
/// is cut back to a character boundary (src/backend/commands/indexcmds.c).
pub fn object_name_pair(name1: &str, name2: &str, label: &str) -> String {
    let overhead = 2 + label.len();
    let avail = crate::MAX_IDENTIFIER_BYTES.saturating_sub(overhead);
    let (mut n1, mut n2) = (name1.len(), name2.len());
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    while !name1.is_char_boundary(n1) {
        n1 -= 1;
    }
    while !name2.is_char_boundary(n2) {
        n2 -= 1;
    }
    format!("{}_{}_{label}", &name1[..n1], &name2[..n2])
}

/// The parts of a `CREATE INDEX` statement, for [`index_definition`].
#[derive(Debug, Clone, Copy)]
pub struct IndexDefinition<'a> {
    /// `CREATE UNIQUE INDEX`.
    pub unique: bool,
    /// The index name (quoted by [`index_definition`]).
    pub name: &'a str,
    /// The table as SQL names it (`"public"."t"`).
    pub table: &'a str,
    /// The access method as SQL names it (`btree`, `"gin"`).
    pub method: &'a str,
    /// The keys as SQL: a quoted column or a parenthesised expression, each with its own
    /// `COLLATE`, operator class, `DESC` and `NULLS` clauses.
    pub keys: &'a [String],
    /// `INCLUDE` column names (quoted by [`index_definition`]).
    pub include: &'a [String],
    /// `NULLS NOT DISTINCT` (Postgres 15).
    pub nulls_not_distinct: bool,
    /// Storage parameters in order, `(name, value)`.
    pub storage_parameters: &'a [(String, String)],
    /// The partial index predicate, as SQL.
    pub predicate: Option<&'a str>,
}

/// `CREATE [UNIQUE] INDEX name ON table USING method (keys) [INCLUDE (..)] [NULLS NOT DISTINCT]
/// [WITH (name = value, ..)] [WHERE predicate]`, clauses in the order of Postgres's CREATE INDEX
/// synopsis. A storage parameter value that is not a plain word or number is written as a
/// string literal.
pub fn index_definition(d: &IndexDefinition<'_>) -> String {
    let mut sql = format!(
        "CREATE {}INDEX {} ON {} USING {} ({})",
        if d.unique { "UNIQUE " } else { "" },
        quote_ident(d.name),
        d.table,
        d.method,
        d.keys.join(", ")
    );
    if !d.include.is_empty() {
        sql.push_str(&format!(" INCLUDE ({})", quote_ident_list(d.include)));
    }
    if d.nulls_not_distinct {
        sql.push_str(" NULLS NOT DISTINCT");
    }
    if !d.storage_parameters.is_empty() {
        let params: Vec<String> = d
            .storage_parameters
            .iter()
            .map(|(k, v)| format!("{} = {}", quote_ident(k), parameter_value(v)))
            .collect();
        sql.push_str(&format!(" WITH ({})", params.join(", ")));
    }
    if let Some(p) = d.predicate {
        sql.push_str(" WHERE ");
        sql.push_str(p);
    }
    sql
}

/// A storage parameter value as SQL: a plain word or number as it is, anything else as a string
/// literal.
fn parameter_value(value: &str) -> String {
    let simple = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '+'));
    if simple {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "''"))
    }
}

/// Renames the sequence a serial column owns (found with `pg_get_serial_sequence`) to `name`:
/// a `DO` block, since the sequence's current name is only known to the server. `quoted_table`
/// is the table as SQL names it (`"public"."t"`), `column` the column's name.
pub fn rename_serial_sequence_sql(quoted_table: &str, column: &str, name: &str) -> String {
    let lit = |s: &str| s.replace('\'', "''");
    format!(
        "DO $ignis$\nBEGIN\nEXECUTE format('ALTER SEQUENCE %s RENAME TO %I', \
         pg_get_serial_sequence('{}', '{}'), '{}');\nEND\n$ignis$",
        lit(quoted_table),
        lit(column),
        lit(name)
    )
}

impl crate::Model {
    /// The table as SQL text: `"schema"."table"` ([`quote_qualified`]).
    pub fn quoted_table(&self) -> String {
        quote_qualified(&self.schema, &self.table)
    }

    /// The primary key constraint's name: [`Model::primary_key_constraint`](struct@crate::Model) when
    /// set, else `{table}_pkey`, as Postgres names it (the table part shortened to fit 63
    /// bytes).
    pub fn primary_key_name(&self) -> String {
        match &self.primary_key_constraint {
            Some(name) => name.clone(),
            None => object_name(&self.table, "pkey"),
        }
    }
}

fn table_ref(schema: &str, table: &str) -> TableRef {
    (Alias::new(schema), Alias::new(table)).into()
}

fn action(a: ForeignKeyAction) -> SqAction {
    match a {
        ForeignKeyAction::NoAction => SqAction::NoAction,
        ForeignKeyAction::Restrict => SqAction::Restrict,
        ForeignKeyAction::Cascade => SqAction::Cascade,
        ForeignKeyAction::SetNull => SqAction::SetNull,
        ForeignKeyAction::SetDefault => SqAction::SetDefault,
    }
}

/// `E'text'`: a Postgres escape string literal (Postgres manual, 4.1.2.2 "String Constants
/// with C-Style Escapes") with `\` and `'` escaped, so it reads back as `text` whatever
/// `standard_conforming_strings` is. For text that is data in a statement (comments); `text`
/// must not contain NUL ([`Model::validate`] checks the comments).
pub fn quote_literal(text: &str) -> String {
    format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

impl Column {
    /// The column's type as it goes into a column definition, with its collation:
    /// `text COLLATE "C"`.
    pub fn type_sql(&self) -> String {
        match &self.collation {
            Some(c) => format!("{} COLLATE {}", self.pg_type, quote_ident(c)),
            None => self.pg_type.to_string(),
        }
    }

    /// The column definition: type with its collation, `NOT NULL`, `DEFAULT` and identity. The
    /// primary key is a table constraint ([`Model::create_table_statement`]), not part of the
    /// column; the statistics target and the comment are statements of their own
    /// ([`Model::column_metadata_sql`]).
    pub fn column_def(&self) -> ColumnDef {
        let mut def = ColumnDef::new(Alias::new(&self.column));
        def.custom(Alias::new(self.type_sql()));
        if self.nullable {
            def.null();
        } else {
            def.not_null();
        }
        if let Some(default) = &self.default {
            def.default(Expr::cust(default.clone()));
        }
        if let Some(identity) = &self.identity {
            def.extra(identity.to_sql());
        }
        def
    }
}

impl Model {
    /// The table's `TableRef` (`"schema"."table"`).
    pub fn table_ref(&self) -> TableRef {
        table_ref(&self.schema, &self.table)
    }

    /// `CREATE TABLE` with every column, the primary key and the unique constraints (no indexes,
    /// no foreign keys). A `DEFERRABLE` primary key and unique constraints with attributes
    /// (see [`UniqueConstraint::is_plain`]) are left out: sea-query cannot write them, and
    /// [`Model::add_primary_key_sql`] / [`Model::add_unique_sql`] add them
    /// ([`Model::create_sql`] does).
    ///
    /// ```
    /// use ignis_schema::{Column, Model, PgType};
    /// use sea_query::PostgresQueryBuilder;
    /// let m = Model::new("Tag")
    ///     .column(Column::new("id", PgType::Integer).primary_key())
    ///     .column(Column::new("label", PgType::Text).not_null().default_sql("''"))
    ///     .unique("UQ_Tag_label", ["label"]);
    /// assert_eq!(
    ///     m.create_table_statement().to_string(PostgresQueryBuilder),
    ///     r#"CREATE TABLE "public"."Tag" ( "id" integer NOT NULL, "label" text NOT NULL DEFAULT (''), CONSTRAINT "Tag_pkey" PRIMARY KEY ("id"), CONSTRAINT "UQ_Tag_label" UNIQUE ("label") )"#
    /// );
    /// ```
    pub fn create_table_statement(&self) -> TableCreateStatement {
        let mut stmt = Table::create();
        stmt.table(self.table_ref());
        for c in &self.columns {
            stmt.col(c.column_def());
        }
        let pk = self.primary_key();
        if !pk.is_empty() && !self.primary_key_deferrable {
            let mut idx = SqIndex::create();
            idx.name(self.primary_key_name());
            for c in pk {
                idx.col(Alias::new(c));
            }
            stmt.primary_key(&mut idx);
        }
        for u in self.uniques.iter().filter(|u| u.is_plain()) {
            stmt.index(&mut self.unique_index(u));
        }
        stmt
    }

    /// The statements that add the keys [`Model::create_table_statement`] leaves out, in order:
    /// the `DEFERRABLE` primary key, then unique constraints with attributes.
    pub fn add_keys_sql(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.primary_key_deferrable {
            out.extend(self.add_primary_key_sql());
        }
        out.extend(
            self.uniques
                .iter()
                .filter(|u| !u.is_plain())
                .map(|u| self.add_unique_sql(u)),
        );
        out
    }

    /// `ALTER TABLE "schema"."table" ADD CONSTRAINT "name" PRIMARY KEY (columns) [DEFERRABLE
    /// [INITIALLY DEFERRED]]`; `None` when the model has no primary key.
    pub fn add_primary_key_sql(&self) -> Option<String> {
        let pk = self.primary_key();
        if pk.is_empty() {
            return None;
        }
        Some(format!(
            "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({}){}",
            self.quoted_table(),
            quote_ident(&self.primary_key_name()),
            quote_ident_list(&pk),
            deferral_sql(
                self.primary_key_deferrable,
                self.primary_key_initially_deferred
            )
        ))
    }

    /// `CREATE [UNIQUE] INDEX` for each of the model's indexes, as SQL text (see
    /// [`Model::index_sql`]).
    pub fn create_index_statements(&self) -> Vec<String> {
        self.indexes.iter().map(|i| self.index_sql(i)).collect()
    }

    /// `CREATE [UNIQUE] INDEX "name" ON "schema"."table" USING method (keys) [INCLUDE (..)]
    /// [NULLS NOT DISTINCT] [WITH (..)] [WHERE predicate]`, as SQL text (sea-query cannot write
    /// operator classes, collations, `NULLS FIRST`, `INCLUDE` or storage parameters). Names,
    /// operator classes and collations are quoted identifiers; expression keys and the predicate
    /// are the model author's SQL (DDL, never user input); storage parameter values are the
    /// numbers, booleans or identifiers [`Model::validate`] accepts.
    pub fn index_sql(&self, index: &Index) -> String {
        let keys: Vec<String> = index
            .keys()
            .iter()
            .map(|k| {
                let mut key = match (&k.property, &k.expression) {
                    (Some(p), _) => quote_ident(self.key_column(p).map_or(p, |c| &c.column)),
                    (None, Some(e)) => format!("({e})"),
                    (None, None) => String::new(),
                };
                if let Some(c) = &k.collation {
                    key.push_str(" COLLATE ");
                    key.push_str(&quote_ident(c));
                }
                if let Some(o) = &k.opclass {
                    key.push(' ');
                    key.push_str(&quote_ident(o));
                }
                if k.is_desc() {
                    key.push_str(" DESC");
                }
                match k.nulls {
                    Some(crate::NullsOrder::First) => key.push_str(" NULLS FIRST"),
                    Some(crate::NullsOrder::Last) => key.push_str(" NULLS LAST"),
                    None => {}
                }
                key
            })
            .collect();
        let method = quote_ident(
            &index
                .method
                .as_deref()
                .unwrap_or("btree")
                .to_ascii_lowercase(),
        );
        index_definition(&IndexDefinition {
            unique: index.unique,
            name: &index.name,
            table: &self.quoted_table(),
            method: &method,
            keys: &keys,
            include: &self.key_columns(&index.include),
            nulls_not_distinct: index.nulls_not_distinct,
            storage_parameters: &index.storage_parameters,
            predicate: index.predicate.as_deref(),
        })
    }

    /// `ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY` for each foreign key, as SQL text
    /// (see [`Model::foreign_key_sql`]).
    pub fn create_foreign_key_sql(&self) -> Vec<String> {
        self.foreign_keys
            .iter()
            .map(|fk| self.foreign_key_sql(fk))
            .collect()
    }

    /// `ALTER TABLE "schema"."table" ADD CONSTRAINT "name" FOREIGN KEY (columns) REFERENCES
    /// "schema"."table" (columns) [MATCH FULL] ON UPDATE .. ON DELETE .. [DEFERRABLE [INITIALLY
    /// DEFERRED]]`, as SQL text (sea-query cannot write the match type or deferral). The
    /// referencing columns are those of the foreign key's properties
    /// ([`Model::foreign_key_columns`]), the referenced ones [`ForeignKey::referenced`].
    pub fn foreign_key_sql(&self, fk: &ForeignKey) -> String {
        let referenced = fk.referenced();
        format!(
            "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){} ON UPDATE {} \
             ON DELETE {}{}",
            self.quoted_table(),
            quote_ident(&fk.name),
            quote_ident_list(&self.foreign_key_columns(fk)),
            quote_qualified(&referenced.schema, &referenced.table),
            quote_ident_list(&referenced.columns),
            if fk.match_full { " MATCH FULL" } else { "" },
            fk.on_update.as_sql(),
            fk.on_delete.as_sql(),
            deferral_sql(fk.deferrable, fk.initially_deferred)
        )
    }

    /// `ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY` for each foreign key, as sea-query
    /// statements (without `MATCH FULL` or `DEFERRABLE`: see [`Model::foreign_key_sql`]).
    pub fn create_foreign_key_statements(&self) -> Vec<ForeignKeyCreateStatement> {
        self.foreign_keys
            .iter()
            .map(|fk| self.foreign_key_statement(fk))
            .collect()
    }

    /// `ALTER TABLE "schema"."table" ADD CONSTRAINT "name" FOREIGN KEY (...) REFERENCES ...`
    /// (without `MATCH FULL` or `DEFERRABLE`: see [`Model::foreign_key_sql`]).
    pub fn foreign_key_statement(&self, fk: &ForeignKey) -> ForeignKeyCreateStatement {
        let referenced = fk.referenced();
        let mut stmt = SqForeignKey::create();
        stmt.name(&fk.name)
            .from_tbl(self.table_ref())
            .to_tbl(table_ref(&referenced.schema, &referenced.table))
            .on_delete(action(fk.on_delete))
            .on_update(action(fk.on_update));
        for c in self.foreign_key_columns(fk) {
            stmt.from_col(Alias::new(c));
        }
        for c in referenced.columns {
            stmt.to_col(Alias::new(c));
        }
        stmt
    }

    /// `ALTER TABLE "schema"."table" ADD COLUMN ...` for one column of this model.
    pub fn add_column_statement(&self, column: &Column) -> TableAlterStatement {
        let mut stmt = Table::alter();
        stmt.table(self.table_ref()).add_column(column.column_def());
        stmt
    }

    /// `ALTER TABLE "schema"."table" ADD CONSTRAINT "name" UNIQUE [NULLS NOT DISTINCT]
    /// (columns) [DEFERRABLE [INITIALLY DEFERRED]]`, as SQL text (sea-query has no statement
    /// for a named table constraint on an existing table).
    pub fn add_unique_sql(&self, unique: &UniqueConstraint) -> String {
        format!(
            "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE {}({}){}",
            self.quoted_table(),
            quote_ident(&unique.name),
            if unique.nulls_not_distinct {
                "NULLS NOT DISTINCT "
            } else {
                ""
            },
            quote_ident_list(&self.key_columns(&unique.properties)),
            deferral_sql(unique.deferrable, unique.initially_deferred)
        )
    }

    /// Every statement that creates this model's table from nothing, in order, as SQL text:
    /// table, statistics targets and comments, indexes, checks, exclusion constraints, then
    /// foreign keys.
    pub fn create_sql(&self) -> Vec<String> {
        let mut out = vec![self
            .create_table_statement()
            .to_string(PostgresQueryBuilder)];
        out.extend(self.add_keys_sql());
        out.extend(self.column_metadata_sql());
        out.extend(self.create_index_statements());
        out.extend(self.checks.iter().map(|c| self.add_check_sql(c)));
        out.extend(self.exclusions.iter().map(|x| self.add_exclusion_sql(x)));
        out.extend(self.create_foreign_key_sql());
        out
    }

    /// `ALTER TABLE "schema"."table" ALTER COLUMN "column" SET STATISTICS n`; `None` resets it
    /// to the server's default (`-1`).
    pub fn set_statistics_sql(&self, column: &str, target: Option<i32>) -> String {
        format!(
            "ALTER TABLE {} ALTER COLUMN {} SET STATISTICS {}",
            self.quoted_table(),
            quote_ident(column),
            target.unwrap_or(-1)
        )
    }

    /// `COMMENT ON TABLE "schema"."table" IS E'..'`, or `IS NULL` to remove it.
    pub fn table_comment_sql(&self, comment: Option<&str>) -> String {
        format!(
            "COMMENT ON TABLE {} IS {}",
            self.quoted_table(),
            comment.map_or_else(|| "NULL".to_string(), quote_literal)
        )
    }

    /// `COMMENT ON COLUMN "schema"."table"."column" IS E'..'`, or `IS NULL` to remove it.
    pub fn column_comment_sql(&self, column: &str, comment: Option<&str>) -> String {
        format!(
            "COMMENT ON COLUMN {}.{} IS {}",
            self.quoted_table(),
            quote_ident(column),
            comment.map_or_else(|| "NULL".to_string(), quote_literal)
        )
    }

    /// The statements a new table needs after `CREATE TABLE` for its statistics targets and
    /// comments (table comment first, then per column its statistics target and comment).
    pub fn column_metadata_sql(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(c) = &self.comment {
            out.push(self.table_comment_sql(Some(c)));
        }
        for c in &self.columns {
            if let Some(n) = c.statistics {
                out.push(self.set_statistics_sql(&c.column, Some(n)));
            }
            if let Some(comment) = &c.comment {
                out.push(self.column_comment_sql(&c.column, Some(comment)));
            }
        }
        out
    }

    /// `ALTER TABLE "schema"."table" ADD CONSTRAINT "name" CHECK (expression)`.
    pub fn add_check_sql(&self, check: &crate::Check) -> String {
        format!(
            "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({})",
            self.quoted_table(),
            quote_ident(&check.name),
            check.expression
        )
    }
}

impl Model {
    /// `ALTER TABLE "schema"."table" ADD CONSTRAINT "name" EXCLUDE USING "method" (element
    /// [opclass] WITH operator, ...) [WHERE (predicate)] [DEFERRABLE [INITIALLY DEFERRED]]`, as
    /// SQL text (sea-query has no exclusion constraints). Names, the method and operator classes
    /// are quoted identifiers; an operator is written as it is when it is symbols only, else as
    /// `OPERATOR("schema".symbols)` (both checked by [`Model::validate`]); element expressions
    /// and the predicate are the model author's SQL (DDL, never user input).
    pub fn add_exclusion_sql(&self, exclusion: &crate::Exclusion) -> String {
        let elements: Vec<String> = exclusion
            .elements
            .iter()
            .map(|e| {
                let mut el = match (&e.property, &e.expression) {
                    (Some(p), _) => quote_ident(self.key_column(p).map_or(p, |c| &c.column)),
                    (None, Some(x)) => format!("({x})"),
                    (None, None) => String::new(),
                };
                if let Some(o) = &e.opclass {
                    el.push(' ');
                    el.push_str(&quote_ident(o));
                }
                el.push_str(" WITH ");
                el.push_str(&operator_sql(&e.operator));
                el
            })
            .collect();
        let mut sql = format!(
            "ALTER TABLE {} ADD CONSTRAINT {} EXCLUDE USING {} ({})",
            self.quoted_table(),
            quote_ident(&exclusion.name),
            quote_ident(&exclusion.method_name()),
            elements.join(", ")
        );
        if let Some(p) = &exclusion.predicate {
            sql.push_str(&format!(" WHERE ({p})"));
        }
        sql.push_str(deferral_sql(
            exclusion.deferrable,
            exclusion.initially_deferred,
        ));
        sql
    }
}

/// An operator name as SQL: `&&` as it is, `schema.&&` as `OPERATOR("schema".&&)` (Postgres
/// manual, 4.1.3 "Operators"). A name [`crate::split_operator`] refuses is written as
/// `OPERATOR()`, which Postgres rejects, so it never reaches SQL as text.
pub fn operator_sql(operator: &str) -> String {
    match crate::split_operator(operator) {
        Some((None, symbol)) => symbol.to_string(),
        Some((Some(schema), symbol)) => format!("OPERATOR({}.{symbol})", quote_ident(schema)),
        None => "OPERATOR()".to_string(),
    }
}

/// ` DEFERRABLE`, ` DEFERRABLE INITIALLY DEFERRED` or nothing, as constraint attributes end a
/// constraint definition (Postgres manual, CREATE TABLE).
pub fn deferral_sql(deferrable: bool, initially_deferred: bool) -> &'static str {
    match (deferrable, initially_deferred) {
        (_, true) => " DEFERRABLE INITIALLY DEFERRED",
        (true, false) => " DEFERRABLE",
        (false, false) => "",
    }
}

impl Model {
    /// `CONSTRAINT "name" UNIQUE (columns)` as sea-query writes it inside CREATE TABLE.
    fn unique_index(&self, u: &UniqueConstraint) -> IndexCreateStatement {
        let mut idx = SqIndex::create();
        idx.name(&u.name).unique();
        for c in self.key_columns(&u.properties) {
            idx.col(Alias::new(c));
        }
        idx
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn object_name_pair_truncates_as_postgres() {
        assert_eq!(super::object_name_pair("t", "id", "seq"), "t_id_seq");
        // Postgres: icinga_contactnotificationmethods + contact_notificationcommand_id + seq
        assert_eq!(
            super::object_name_pair(
                "icinga_contactnotificationmethods",
                "contact_notificationcommand_id",
                "seq"
            ),
            "icinga_contactnotificationmet_contact_notificationcommand_i_seq"
        );
        let long = "a".repeat(70);
        let name = super::object_name_pair(&long, "b", "seq");
        assert_eq!(name.len(), 63);
        assert!(name.ends_with("_b_seq"));
    }

    use super::*;
    use crate::enrich::{self, Enricher};
    use crate::model::ForeignKeyAction;
    use crate::{Column, ForeignKey, Index, PgType};

    #[test]
    fn identity_and_defaults_render_in_column_definitions() {
        let m = Model::new("Counter")
            .enrich(Enricher::Id(enrich::IdOptions::big_number()))
            .enrich(Enricher::Tz(enrich::TzOptions::default()));
        assert_eq!(
            m.create_table_statement().to_string(PostgresQueryBuilder),
            concat!(
                r#"CREATE TABLE "public"."Counter" ( "id" bigint NOT NULL GENERATED ALWAYS AS IDENTITY, "#,
                r#""created_at" timestamp with time zone NOT NULL DEFAULT (now()), "#,
                r#""modified_at" timestamp with time zone NOT NULL DEFAULT (now()), "#,
                r#"CONSTRAINT "Counter_pkey" PRIMARY KEY ("id") )"#
            )
        );
    }

    #[test]
    fn index_and_foreign_key_statements() {
        let m = Model::new("Post")
            .schema("blog")
            .column(Column::new("id", PgType::Integer).primary_key())
            .column(Column::new("authorId", PgType::Text))
            .column(Column::new(
                "tags",
                "text[]".parse().unwrap_or(PgType::Text),
            ))
            .index(Index::new("IDX_Post_author", ["authorId"]).unique())
            .index(Index::new("IDX_Post_tags", ["tags"]).method("gin"))
            .foreign_key(
                ForeignKey::new("FK_Post_author", ["authorId"], "User", ["id"])
                    .on_delete(ForeignKeyAction::SetNull),
            );
        assert_eq!(
            m.create_index_statements(),
            vec![
                r#"CREATE UNIQUE INDEX "IDX_Post_author" ON "blog"."Post" USING "btree" ("author_id")"#,
                r#"CREATE INDEX "IDX_Post_tags" ON "blog"."Post" USING "gin" ("tags")"#,
            ]
        );
        let full = Index::with_keys(
            "IDX_Post_full",
            [
                crate::IndexKey::property("authorId")
                    .collate("C")
                    .opclass("text_pattern_ops")
                    .desc()
                    .nulls(crate::NullsOrder::Last),
                crate::IndexKey::expression("lower(author_id)"),
            ],
        )
        .unique()
        .include(["id"])
        .nulls_not_distinct()
        .storage_parameter("fillfactor", "50")
        .where_sql("id > 0");
        assert_eq!(
            m.index_sql(&full),
            concat!(
                r#"CREATE UNIQUE INDEX "IDX_Post_full" ON "blog"."Post" USING "btree" ("author_id" "#,
                r#"COLLATE "C" "text_pattern_ops" DESC NULLS LAST, (lower(author_id))) INCLUDE ("id") "#,
                r#"NULLS NOT DISTINCT WITH ("fillfactor" = 50) WHERE id > 0"#
            )
        );
        assert_eq!(
            m.create_foreign_key_statements()[0].to_string(PostgresQueryBuilder),
            concat!(
                r#"ALTER TABLE "blog"."Post" ADD CONSTRAINT "FK_Post_author" FOREIGN KEY ("author_id") "#,
                r#"REFERENCES "public"."User" ("id") ON DELETE SET NULL ON UPDATE NO ACTION"#
            )
        );
        assert_eq!(
            m.add_unique_sql(&crate::UniqueConstraint::new("UQ_x", ["authorId", "id"])),
            r#"ALTER TABLE "blog"."Post" ADD CONSTRAINT "UQ_x" UNIQUE ("author_id", "id")"#
        );
        assert_eq!(
            m.add_column_statement(&m.columns[1])
                .to_string(PostgresQueryBuilder),
            r#"ALTER TABLE "blog"."Post" ADD COLUMN "author_id" text NULL"#
        );
    }

    #[test]
    fn deferrable_keys_match_full_and_nulls_not_distinct_render() {
        let m = Model::new("Slot")
            .column(Column::new("id", PgType::Integer).primary_key())
            .column(Column::new("pos", PgType::Integer))
            .column(Column::new("owner", PgType::Integer))
            .primary_key_deferrable(true)
            .unique("UQ_Slot_id_pos", ["id", "pos"])
            .unique_constraint(
                crate::UniqueConstraint::new("UQ_Slot_pos", ["pos"])
                    .nulls_not_distinct()
                    .deferrable(),
            )
            .foreign_key(
                ForeignKey::new("FK_Slot_owner", ["owner"], "Slot", ["id"])
                    .match_full()
                    .initially_deferred(),
            );
        m.validate().unwrap();
        assert_eq!(
            m.create_sql(),
            vec![
                r#"CREATE TABLE "public"."Slot" ( "id" integer NOT NULL, "pos" integer NULL, "owner" integer NULL, CONSTRAINT "UQ_Slot_id_pos" UNIQUE ("id", "pos") )"#.to_string(),
                r#"ALTER TABLE "public"."Slot" ADD CONSTRAINT "Slot_pkey" PRIMARY KEY ("id") DEFERRABLE INITIALLY DEFERRED"#.into(),
                r#"ALTER TABLE "public"."Slot" ADD CONSTRAINT "UQ_Slot_pos" UNIQUE NULLS NOT DISTINCT ("pos") DEFERRABLE"#.into(),
                r#"ALTER TABLE "public"."Slot" ADD CONSTRAINT "FK_Slot_owner" FOREIGN KEY ("owner") REFERENCES "public"."Slot" ("id") MATCH FULL ON UPDATE NO ACTION ON DELETE NO ACTION DEFERRABLE INITIALLY DEFERRED"#.into(),
            ]
        );
    }

    #[test]
    fn collation_statistics_and_comments_render() {
        let m = Model::new("Doc")
            .comment("it's a doc")
            .column(Column::new("id", PgType::Integer).primary_key())
            .column(
                Column::new("title", PgType::Text)
                    .collate("C")
                    .statistics(500)
                    .comment(r"a \ b"),
            );
        assert_eq!(
            m.add_column_statement(&m.columns[1])
                .to_string(PostgresQueryBuilder),
            r#"ALTER TABLE "public"."Doc" ADD COLUMN "title" text COLLATE "C" NULL"#
        );
        assert_eq!(
            m.column_metadata_sql(),
            vec![
                r#"COMMENT ON TABLE "public"."Doc" IS E'it''s a doc'"#.to_string(),
                r#"ALTER TABLE "public"."Doc" ALTER COLUMN "title" SET STATISTICS 500"#.into(),
                r#"COMMENT ON COLUMN "public"."Doc"."title" IS E'a \\ b'"#.into(),
            ]
        );
        assert_eq!(
            m.column_comment_sql("title", None),
            r#"COMMENT ON COLUMN "public"."Doc"."title" IS NULL"#
        );
    }

    #[test]
    fn exclusion_constraints_render_and_validate() {
        use crate::{Exclusion, ExclusionElement};
        let m = Model::new("Booking")
            .column(Column::new("id", PgType::Integer).primary_key())
            .column(Column::new("room", PgType::Text))
            .column(Column::new(
                "during",
                "int4range".parse().unwrap_or(PgType::Text),
            ))
            .exclusion(
                Exclusion::new(
                    "EX_Booking",
                    "gist",
                    [
                        ExclusionElement::property("during", "&&").opclass("range_ops"),
                        ExclusionElement::expression("lower(room)", "pg_catalog.="),
                    ],
                )
                .where_sql("id > 0")
                .initially_deferred(),
            );
        m.validate().unwrap();
        assert_eq!(
            m.add_exclusion_sql(&m.exclusions[0]),
            concat!(
                r#"ALTER TABLE "public"."Booking" ADD CONSTRAINT "EX_Booking" EXCLUDE USING "gist" "#,
                r#"("during" "range_ops" WITH &&, (lower(room)) WITH OPERATOR("pg_catalog".=)) "#,
                r#"WHERE (id > 0) DEFERRABLE INITIALLY DEFERRED"#
            )
        );
        for bad in ["", "=; DROP TABLE x", "--", "&&/*", ".=", "=)"] {
            let mut m = m.clone();
            m.exclusions[0].elements[0].operator = bad.into();
            assert!(m.validate().is_err(), "operator {bad:?} accepted");
            assert_eq!(operator_sql(bad), "OPERATOR()");
        }
        let mut unknown = m.clone();
        unknown.exclusions[0].elements[0].property = Some("nope".into());
        assert!(unknown.validate().is_err());
        let json = serde_json::to_value(&m).unwrap();
        let back: Model = serde_json::from_value(json).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn quote_ident_doubles_quotes() {
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
    }
}
