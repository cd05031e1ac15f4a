//! Models: a table described as data.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::column::{snake_case, Column};
use crate::enrich::Enricher;
use crate::error::SchemaError;

/// The longest identifier Postgres keeps (`NAMEDATALEN - 1` bytes); longer ones are truncated.
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// A model: the Ignis model name, its table, columns, keys, indexes, relations and flags.
///
/// Everything that names a column of the model names it by its **property name** (what filters
/// and JSON rows use): unique constraints, index keys and `INCLUDE`, exclusion elements, the
/// primary key order, foreign keys (both sides, when the referenced table is a model of the
/// schema), relations, `hidden` and the default filter. A column's SQL name appears only where
/// the column declares it ([`Column::column`]). The DDL ([`crate::ddl`]) and the migrator
/// resolve property names to column names through [`Model::key_column`] and
/// [`ForeignKey::referenced`].
///
/// Where a property name is expected, a name that is no property but the SQL name of a column
/// is accepted too and stands for that column (schema files and code written when keys named
/// columns keep working); when a name is both, the property wins. [`Model::use_property_names`]
/// (run by [`crate::Schema::new`] and when a model is read from JSON) rewrites such names to
/// property names, so both spellings give the same model. A name that is neither is a
/// [`SchemaError::UnknownProperty`] naming the model, the constraint and the name.
///
/// Build one in Rust with the builder methods, or read it from JSON (see [`crate::Schema`] for the
/// file format). A model on its own is checked by [`Model::validate`]; a [`crate::Schema`] checks
/// the references between models too.
///
/// ```
/// use ignis_schema::{enrich, Column, Enricher, Model, PgType};
/// let user = Model::new("User")
///     .enrich(Enricher::Id(enrich::IdOptions::string()))
///     .column(Column::new("email", PgType::Text).not_null())
///     .unique("UQ_User_email", ["email"]);
/// assert_eq!(user.table, "User");
/// assert_eq!(user.primary_key(), vec!["id"]);
/// user.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "ModelFile")]
pub struct Model {
    /// The Ignis model name (`Configuration`), unique in a schema.
    pub name: String,
    /// The table name; the model name when not given (Ignis `TABLE_NAME`).
    pub table: String,
    /// The Postgres schema (namespace) of the table; `public` by default.
    pub schema: String,
    /// Columns in table order.
    pub columns: Vec<Column>,
    /// Unique constraints.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uniques: Vec<UniqueConstraint>,
    /// Indexes (not constraints).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    /// Foreign keys.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
    /// Relations used by `include` (Ignis `createRelations`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relations: Vec<Relation>,
    /// When true the migrator never creates, alters or drops this model's table (Ignis
    /// `@model({ skipMigrate: true })`, e.g. a model over a view managed elsewhere).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skip_migrate: bool,
    /// Property names that never leave the repository (Ignis hidden properties, e.g. a password
    /// hash); they can still be used in `where`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hidden: Vec<String>,
    /// A filter applied to every query of this model unless skipped (Ignis default filter, e.g.
    /// `{"where": {"deletedAt": null}}` for soft delete). Kept as JSON here; ignis-repo parses it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_filter: Option<serde_json::Value>,
    /// Check constraints.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// The table's previous name, when it was renamed: the migrator renames the table instead of
    /// creating a new one (never guessed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// The primary key constraint's name, when it is not the one Postgres gives
    /// (`{table}_pkey`, see [`Model::primary_key_name`]); a database created elsewhere may name
    /// it `pk_command_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_key_constraint: Option<String>,
    /// The primary key's property names in key order, when it is not the columns' order (a key
    /// `(tenant, id)` over columns declared `id, tenant`); the columns are the ones marked
    /// `primaryKey`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub primary_key_order: Vec<String>,
    /// The primary key is `DEFERRABLE` (see [`UniqueConstraint::deferrable`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub primary_key_deferrable: bool,
    /// The primary key is `INITIALLY DEFERRED`; needs `primary_key_deferrable`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub primary_key_initially_deferred: bool,
    /// The table's comment (`COMMENT ON TABLE`), or none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Exclusion constraints (`EXCLUDE USING ...`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<Exclusion>,
}

/// A named `UNIQUE [NULLS NOT DISTINCT] (columns) [DEFERRABLE [INITIALLY DEFERRED]]`
/// constraint (Postgres manual, CREATE TABLE) over properties of the model. In JSON:
///
/// ```json
/// {"name": "UQ_Slot_position", "properties": ["position"], "deferrable": true,
///  "initiallyDeferred": true, "nullsNotDistinct": true}
/// ```
///
/// The key `columns` is read as `properties` (files written when keys named columns); its
/// names may be column names (see [`Model`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UniqueConstraint {
    /// Constraint name (`UQ_Configuration_code`).
    pub name: String,
    /// Property names, in key order (JSON key `properties`, or `columns`).
    #[serde(alias = "columns")]
    pub properties: Vec<String>,
    /// `DEFERRABLE`: the check may be deferred to commit (`SET CONSTRAINTS ... DEFERRED`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deferrable: bool,
    /// `INITIALLY DEFERRED`: checked at commit unless set otherwise; needs `deferrable`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub initially_deferred: bool,
    /// `NULLS NOT DISTINCT` (Postgres 15): two rows whose keys are both null conflict.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nulls_not_distinct: bool,
}

impl UniqueConstraint {
    /// A plain `UNIQUE (columns)` constraint over the columns of these property names, in key
    /// order.
    pub fn new<I, S>(name: impl Into<String>, properties: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        UniqueConstraint {
            name: name.into(),
            properties: properties.into_iter().map(Into::into).collect(),
            deferrable: false,
            initially_deferred: false,
            nulls_not_distinct: false,
        }
    }

    /// Makes it `DEFERRABLE` (checked at the end of the statement unless deferred).
    pub fn deferrable(mut self) -> Self {
        self.deferrable = true;
        self
    }

    /// Makes it `DEFERRABLE INITIALLY DEFERRED` (checked at commit).
    pub fn initially_deferred(mut self) -> Self {
        self.deferrable = true;
        self.initially_deferred = true;
        self
    }

    /// Makes it `NULLS NOT DISTINCT`.
    pub fn nulls_not_distinct(mut self) -> Self {
        self.nulls_not_distinct = true;
        self
    }

    /// True when it has none of the attributes above: `UNIQUE (columns)` as sea-query writes
    /// it inside `CREATE TABLE` ([`Model::create_table_statement`]); the others are added by
    /// [`Model::add_unique_sql`].
    pub fn is_plain(&self) -> bool {
        !self.deferrable && !self.initially_deferred && !self.nulls_not_distinct
    }
}

/// A named index.
///
/// Its keys are either `properties` (plain keys, property names in key order) or `keys` (one
/// [`IndexKey`] per key, for operator classes, collations, sort order and expression keys);
/// exactly one of the two is non-empty. In JSON:
///
/// ```json
/// {"name": "IDX_Post_authorId", "properties": ["authorId"]}
/// {"name": "recordorder", "keys": [{"property": "domainId"},
///                                  {"property": "ordername", "opclass": "text_pattern_ops"}]}
/// {"name": "IDX_User_email", "unique": true, "keys": [{"expression": "lower(email)"}],
///  "include": ["id"], "nullsNotDistinct": true, "with": {"fillfactor": 70}}
/// ```
///
/// The keys `columns` (for `properties`) and `column` (in a key) are read too, and their names
/// may be column names (see [`Model`]). Expression keys and the predicate are SQL and name
/// columns as SQL does.
///
/// The Postgres manual (CREATE INDEX) describes each attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Index {
    /// Index name (`IDX_Configuration_group`).
    pub name: String,
    /// Property names, in key order; empty when the keys are given as `keys`. JSON key
    /// `properties` (or `columns`).
    #[serde(default, alias = "columns", skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<String>,
    /// The keys with their options, in key order, when any key has an option or is an
    /// expression; empty when the keys are plain `columns` (see [`Index::keys`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<IndexKey>,
    /// `INCLUDE (columns)`: non-key columns stored in the index (property names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// `NULLS NOT DISTINCT` (Postgres 15): a unique index treats nulls as equal.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nulls_not_distinct: bool,
    /// Storage parameters, `WITH (name = value, ...)` (`fillfactor`, `deduplicate_items`,
    /// ...), in the order given (Postgres keeps and prints them in that order). Values are
    /// numbers, booleans or identifiers (checked by [`Model::validate`]). JSON key `with`, an
    /// object (`{"fillfactor": 50}`) whose numbers and booleans are read as their text.
    #[serde(
        default,
        rename = "with",
        skip_serializing_if = "Vec::is_empty",
        with = "storage_parameters"
    )]
    pub storage_parameters: Vec<(String, String)>,
    /// `CREATE UNIQUE INDEX`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unique: bool,
    /// Access method (`btree`, `hash`, `gin`, `gist`, `brin`); `None` is Postgres's default, btree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Partial index predicate (`CREATE INDEX .. WHERE predicate`), a SQL expression written by
    /// the model's author (DDL, never user input). JSON key `where`.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
}

/// A named `CHECK (expression)` constraint; the expression is SQL written by the model's author.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Check {
    /// Constraint name (`CK_Post_views_positive`).
    pub name: String,
    /// The boolean SQL expression (`views >= 0`).
    pub expression: String,
}

/// A named exclusion constraint: `CONSTRAINT name EXCLUDE USING method (element WITH operator,
/// ...) [WHERE (predicate)] [DEFERRABLE [INITIALLY DEFERRED]]` (Postgres manual, CREATE TABLE,
/// `EXCLUDE`): no two rows may have every element compare true under its operator. In JSON:
///
/// ```json
/// {"name": "EX_Booking_room_during", "method": "gist",
///  "elements": [{"column": "room", "operator": "="}, {"column": "during", "operator": "&&"}],
///  "where": "NOT cancelled", "deferrable": true, "initiallyDeferred": true}
/// ```
///
/// Element expressions and the predicate are SQL written by the model's author (DDL, never user
/// input), compared as Postgres prints them back, like checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Exclusion {
    /// Constraint name (`EX_Booking_room_during`).
    pub name: String,
    /// The index access method (`gist`, `btree`, `hash`, `spgist`); `btree` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The elements, in order, each with its operator.
    pub elements: Vec<ExclusionElement>,
    /// `WHERE (predicate)`: the constraint covers only the rows where it holds. JSON key
    /// `where`.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// `DEFERRABLE`: the check may be deferred to commit (`SET CONSTRAINTS ... DEFERRED`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deferrable: bool,
    /// `INITIALLY DEFERRED`: checked at commit unless set otherwise; needs `deferrable`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub initially_deferred: bool,
}

/// One element of an [`Exclusion`]: a column or an expression, its operator class, and the
/// operator rows are compared with (`during WITH &&`).
///
/// Exactly one of `property` (JSON `property`, or `column`) and `expression` is set. The
/// operator is an operator name: symbols
/// (`=`, `&&`, `<>`), or schema-qualified (`pg_catalog.&&`, written
/// `OPERATOR("pg_catalog".&&)`); [`Model::validate`] checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExclusionElement {
    /// The element's column, by property name.
    #[serde(default, alias = "column", skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    /// An expression element (`lower(code)`): SQL written by the model's author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// Operator class name, when not the type's default for the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opclass: Option<String>,
    /// The operator (`&&`).
    pub operator: String,
}

impl ExclusionElement {
    /// `column WITH operator`, the column given by its property name.
    pub fn property(property: impl Into<String>, operator: impl Into<String>) -> Self {
        ExclusionElement {
            property: Some(property.into()),
            expression: None,
            opclass: None,
            operator: operator.into(),
        }
    }

    /// `(expression) WITH operator`.
    pub fn expression(expression: impl Into<String>, operator: impl Into<String>) -> Self {
        ExclusionElement {
            property: None,
            expression: Some(expression.into()),
            opclass: None,
            operator: operator.into(),
        }
    }

    /// Sets the operator class.
    pub fn opclass(mut self, opclass: impl Into<String>) -> Self {
        self.opclass = Some(opclass.into());
        self
    }
}

impl Exclusion {
    /// An exclusion constraint using `method` (`gist`, `btree`, ...) over `elements`.
    pub fn new(
        name: impl Into<String>,
        method: impl Into<String>,
        elements: impl IntoIterator<Item = ExclusionElement>,
    ) -> Self {
        Exclusion {
            name: name.into(),
            method: Some(method.into()),
            elements: elements.into_iter().collect(),
            predicate: None,
            deferrable: false,
            initially_deferred: false,
        }
    }

    /// The access method, lower case: `method`, or `btree` when not given.
    pub fn method_name(&self) -> String {
        self.method
            .as_deref()
            .unwrap_or("btree")
            .to_ascii_lowercase()
    }

    /// Restricts it to the rows where `predicate` (SQL) holds.
    pub fn where_sql(mut self, predicate: impl Into<String>) -> Self {
        self.predicate = Some(predicate.into());
        self
    }

    /// Makes it `DEFERRABLE` (checked at the end of the statement unless deferred).
    pub fn deferrable(mut self) -> Self {
        self.deferrable = true;
        self
    }

    /// Makes it `DEFERRABLE INITIALLY DEFERRED` (checked at commit).
    pub fn initially_deferred(mut self) -> Self {
        self.deferrable = true;
        self.initially_deferred = true;
        self
    }
}

/// Checks an operator name as an exclusion element takes it: one or more of Postgres's
/// operator characters (`+ - * / < > = ~ ! @ # % ^ & | ` ?`), without `--` or `/*` (they start
/// comments) and at most 63 bytes, optionally after `schema.` (an identifier). Returns the
/// schema (if any) and the symbol.
pub fn split_operator(operator: &str) -> Option<(Option<&str>, &str)> {
    let (schema, symbol) = match operator.rsplit_once('.') {
        Some((schema, symbol)) => (Some(schema), symbol),
        None => (None, operator),
    };
    let symbol_ok = !symbol.is_empty()
        && symbol.len() <= MAX_IDENTIFIER_BYTES
        && symbol.chars().all(|c| "+-*/<>=~!@#%^&|`?".contains(c))
        && !symbol.contains("--")
        && !symbol.contains("/*");
    let schema_ok = schema.is_none_or(|s| {
        !s.is_empty() && s.len() <= MAX_IDENTIFIER_BYTES && !s.contains('"') && !s.contains('\0')
    });
    (symbol_ok && schema_ok).then_some((schema, symbol))
}

/// Sort direction of an index key (`ASC`, the default, or `DESC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SortOrder {
    /// `ASC`.
    Asc,
    /// `DESC`.
    Desc,
}

/// Where an index key puts nulls: `NULLS FIRST` or `NULLS LAST` (the default is last for
/// `ASC`, first for `DESC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NullsOrder {
    /// `NULLS FIRST`.
    First,
    /// `NULLS LAST`.
    Last,
}

/// One key of an [`Index`]: a column or an expression, with its options
/// (`column COLLATE collation opclass DESC NULLS LAST` in CREATE INDEX).
///
/// Exactly one of `property` (JSON `property`, or `column`) and `expression` is set. An option
/// left out is Postgres's default:
/// the type's default operator class for the method, the column's own collation, `ASC`, nulls
/// last for `ASC` and first for `DESC`; the migrator compares a key written with its default
/// as equal to one written without it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IndexKey {
    /// The key's column, by property name.
    #[serde(default, alias = "column", skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    /// An expression key (`lower(email)`): SQL written by the model's author (DDL, never user
    /// input); the migrator compares it as Postgres prints it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// Operator class name (`text_pattern_ops`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opclass: Option<String>,
    /// Collation name (`C`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// `asc` or `desc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<SortOrder>,
    /// `first` or `last`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nulls: Option<NullsOrder>,
}

impl IndexKey {
    /// A key on the column of a property, with no options.
    pub fn property(name: impl Into<String>) -> Self {
        IndexKey {
            property: Some(name.into()),
            ..IndexKey::default()
        }
    }

    /// An expression key (`lower(email)`, SQL written by the model's author).
    pub fn expression(sql: impl Into<String>) -> Self {
        IndexKey {
            expression: Some(sql.into()),
            ..IndexKey::default()
        }
    }

    /// Sets the operator class.
    pub fn opclass(mut self, opclass: impl Into<String>) -> Self {
        self.opclass = Some(opclass.into());
        self
    }

    /// Sets the collation.
    pub fn collate(mut self, collation: impl Into<String>) -> Self {
        self.collation = Some(collation.into());
        self
    }

    /// Sorts the key `DESC`.
    pub fn desc(mut self) -> Self {
        self.order = Some(SortOrder::Desc);
        self
    }

    /// Sets `NULLS FIRST` or `NULLS LAST`.
    pub fn nulls(mut self, nulls: NullsOrder) -> Self {
        self.nulls = Some(nulls);
        self
    }

    /// True when the key sorts descending.
    pub fn is_desc(&self) -> bool {
        self.order == Some(SortOrder::Desc)
    }

    /// True when the key puts nulls first: as given, else the default for its direction.
    pub fn nulls_first(&self) -> bool {
        match self.nulls {
            Some(n) => n == NullsOrder::First,
            None => self.is_desc(),
        }
    }
}

/// Storage parameters as a JSON object, in order: values given as strings, numbers or booleans
/// are read as their text, and written as strings.
mod storage_parameters {
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(params: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(params.len()))?;
        for (k, v) in params {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Value {
        Text(String),
        Number(serde_json::Number),
        Bool(bool),
    }

    struct Params;

    impl<'de> Visitor<'de> for Params {
        type Value = Vec<(String, String)>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of storage parameters (numbers, booleans or strings)")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((k, v)) = map.next_entry::<String, Value>()? {
                let v = match v {
                    Value::Text(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                };
                out.push((k, v));
            }
            Ok(out)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
        d.deserialize_map(Params)
    }
}

impl Index {
    /// A btree index on the columns of these property names, in key order.
    pub fn new<I, S>(name: impl Into<String>, properties: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Index {
            name: name.into(),
            properties: properties.into_iter().map(Into::into).collect(),
            keys: Vec::new(),
            include: Vec::new(),
            nulls_not_distinct: false,
            storage_parameters: Vec::new(),
            unique: false,
            method: None,
            predicate: None,
        }
    }

    /// A btree index on keys with options (see [`IndexKey`]).
    pub fn with_keys(name: impl Into<String>, keys: impl IntoIterator<Item = IndexKey>) -> Self {
        Index {
            keys: keys.into_iter().collect(),
            ..Index::new(name, Vec::<String>::new())
        }
    }

    /// The index's keys in key order: `keys` when given, else one plain key per property.
    pub fn keys(&self) -> Vec<IndexKey> {
        if self.keys.is_empty() {
            self.properties.iter().map(IndexKey::property).collect()
        } else {
            self.keys.clone()
        }
    }

    /// True when some key is an expression.
    pub fn has_expression(&self) -> bool {
        self.keys.iter().any(|k| k.expression.is_some())
    }

    /// Adds `INCLUDE (columns)`: the columns of these property names.
    pub fn include<I, S>(mut self, properties: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.include.extend(properties.into_iter().map(Into::into));
        self
    }

    /// Makes a unique index treat nulls as equal (`NULLS NOT DISTINCT`).
    pub fn nulls_not_distinct(mut self) -> Self {
        self.nulls_not_distinct = true;
        self
    }

    /// Sets a storage parameter (`fillfactor`, `"50"`): `WITH (name = value)`, replacing one
    /// of the same name.
    pub fn storage_parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        match self.storage_parameters.iter_mut().find(|(k, _)| *k == name) {
            Some(p) => p.1 = value,
            None => self.storage_parameters.push((name, value)),
        }
        self
    }

    /// Makes the index partial: it covers the rows where `predicate` (SQL) holds.
    pub fn where_sql(mut self, predicate: impl Into<String>) -> Self {
        self.predicate = Some(predicate.into());
        self
    }

    /// Makes the index unique.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// Sets the access method (`gin`, `hash`, ...).
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }
}

/// What a foreign key does when the referenced row is deleted or its key updated (Postgres
/// manual, CREATE TABLE, `REFERENCES ... ON DELETE action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ForeignKeyAction {
    /// `NO ACTION` (the Postgres default): fail at the end of the statement.
    #[default]
    NoAction,
    /// `RESTRICT`: fail at once.
    Restrict,
    /// `CASCADE`: delete or update the referencing rows too.
    Cascade,
    /// `SET NULL`.
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
}

impl ForeignKeyAction {
    /// The SQL words (`SET NULL`).
    pub fn as_sql(self) -> &'static str {
        match self {
            ForeignKeyAction::NoAction => "NO ACTION",
            ForeignKeyAction::Restrict => "RESTRICT",
            ForeignKeyAction::Cascade => "CASCADE",
            ForeignKeyAction::SetNull => "SET NULL",
            ForeignKeyAction::SetDefault => "SET DEFAULT",
        }
    }

    /// The action of a `pg_constraint.confdeltype` / `confupdtype` letter (`a` no action, `r`
    /// restrict, `c` cascade, `n` set null, `d` set default; Postgres manual, 53.13
    /// "pg_constraint"); anything else is NO ACTION, Postgres's default.
    pub fn from_pg_code(code: char) -> Self {
        match code {
            'r' => ForeignKeyAction::Restrict,
            'c' => ForeignKeyAction::Cascade,
            'n' => ForeignKeyAction::SetNull,
            'd' => ForeignKeyAction::SetDefault,
            _ => ForeignKeyAction::NoAction,
        }
    }

    /// The `pg_constraint` letter of this action (see [`ForeignKeyAction::from_pg_code`]).
    pub fn pg_code(self) -> char {
        match self {
            ForeignKeyAction::NoAction => 'a',
            ForeignKeyAction::Restrict => 'r',
            ForeignKeyAction::Cascade => 'c',
            ForeignKeyAction::SetNull => 'n',
            ForeignKeyAction::SetDefault => 'd',
        }
    }

    fn is_default(&self) -> bool {
        *self == ForeignKeyAction::NoAction
    }
}

/// What a [`ForeignKey`] references.
///
/// In JSON the target is given by the keys `refModel` and `refProperties`, or by `refTable`,
/// `refSchema` (default `public`) and `refColumns`:
///
/// ```json
/// {"name": "FK_Post_authorId_User_id", "properties": ["authorId"],
///  "refModel": "User", "refProperties": ["id"]}
/// {"name": "FK_Post_legacyId", "properties": ["legacyId"],
///  "refTable": "legacy_users", "refSchema": "archive", "refColumns": ["id"]}
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForeignKeyTarget {
    /// A model of the schema, by its name, and the referenced properties of that model (in the
    /// order of the foreign key's properties). [`crate::Schema::new`] resolves it to the model's
    /// table and column names. A model name that no model of the schema has is read as a table
    /// of schema `public`, its names as column names ([`ForeignKeyTarget::Table`]).
    Model {
        /// The referenced model's name (`User`).
        model: String,
        /// Property names of the referenced model.
        properties: Vec<String>,
    },
    /// A table no model of the schema describes (a table of another application or schema, left
    /// out of a pulled schema), by its schema, name and column names. [`crate::Schema::new`]
    /// turns a table that a model of the schema does describe into
    /// [`ForeignKeyTarget::Model`], its column names into that model's property names.
    Table {
        /// The table's Postgres schema.
        schema: String,
        /// The table name.
        table: String,
        /// Referenced column names.
        columns: Vec<String>,
    },
}

impl ForeignKeyTarget {
    /// The referenced names as written: the model's property names or the table's column names.
    pub fn names(&self) -> &[String] {
        match self {
            ForeignKeyTarget::Model { properties, .. } => properties,
            ForeignKeyTarget::Table { columns, .. } => columns,
        }
    }
}

/// The table and columns a foreign key references, as SQL names them (see
/// [`ForeignKey::referenced`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferencedTable {
    /// The table's Postgres schema.
    pub schema: String,
    /// The table name.
    pub table: String,
    /// The referenced column names, in the order of the foreign key's properties.
    pub columns: Vec<String>,
}

/// The referenced table a [`crate::Schema`] resolved a target to, with the target it resolved.
/// It is derived from the target and the schema's models, so it never makes two foreign keys
/// differ; it is used only while the target is still the one resolved.
#[derive(Debug, Clone, Default)]
struct Resolved(Option<(ForeignKeyTarget, ReferencedTable)>);

impl PartialEq for Resolved {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Resolved {}

/// A named foreign key: `FOREIGN KEY (columns) REFERENCES schema.table (columns)`, from
/// properties of this model to properties of a model of the schema, or to columns of a table
/// no model describes ([`ForeignKeyTarget`]).
///
/// In JSON (the actions, `matchFull`, `deferrable` and `initiallyDeferred` may be left out):
///
/// ```json
/// {"name": "FK_Configuration_createdBy_User_id", "properties": ["createdBy"],
///  "refModel": "User", "refProperties": ["id"], "onDelete": "setNull",
///  "onUpdate": "noAction", "matchFull": false, "deferrable": false, "initiallyDeferred": false}
/// ```
///
/// Files written when foreign keys named columns (`"columns": ["created_by"], "refTable":
/// "User", "refColumns": ["id"]`) load to the same foreign key: `columns` is read as
/// `properties` and its column names are rewritten to property names, and a `refTable` that is
/// the table of a model of the schema becomes that model ([`crate::Schema::new`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ForeignKeyFile", into = "ForeignKeyFile")]
pub struct ForeignKey {
    /// Constraint name (`FK_Configuration_createdBy_User_id`).
    pub name: String,
    /// Referencing property names of this model.
    pub properties: Vec<String>,
    /// The referenced model and properties, or table and columns.
    pub target: ForeignKeyTarget,
    /// `ON DELETE` action.
    pub on_delete: ForeignKeyAction,
    /// `ON UPDATE` action.
    pub on_update: ForeignKeyAction,
    /// `MATCH FULL`: a row with some but not all of `columns` null is rejected. The default,
    /// `MATCH SIMPLE`, checks only rows with no null key column (`MATCH PARTIAL` is not
    /// implemented by Postgres).
    pub match_full: bool,
    /// `DEFERRABLE`: the check may be deferred to commit (`SET CONSTRAINTS ... DEFERRED`).
    pub deferrable: bool,
    /// `INITIALLY DEFERRED`: checked at commit unless set otherwise; needs `deferrable`.
    pub initially_deferred: bool,
    resolved: Resolved,
}

/// The JSON form of a [`ForeignKey`].
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ForeignKeyFile {
    name: String,
    #[serde(alias = "columns")]
    properties: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ref_model: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ref_properties: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ref_table: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ref_schema: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ref_columns: Vec<String>,
    #[serde(default, skip_serializing_if = "ForeignKeyAction::is_default")]
    on_delete: ForeignKeyAction,
    #[serde(default, skip_serializing_if = "ForeignKeyAction::is_default")]
    on_update: ForeignKeyAction,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    match_full: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    deferrable: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    initially_deferred: bool,
}

impl TryFrom<ForeignKeyFile> for ForeignKey {
    type Error = String;

    fn try_from(f: ForeignKeyFile) -> Result<Self, String> {
        let target = match (f.ref_model, f.ref_table) {
            (Some(model), None) if f.ref_schema.is_none() && f.ref_columns.is_empty() => {
                ForeignKeyTarget::Model {
                    model,
                    properties: f.ref_properties,
                }
            }
            (None, Some(table)) if f.ref_properties.is_empty() => ForeignKeyTarget::Table {
                schema: f.ref_schema.unwrap_or_else(public),
                table,
                columns: f.ref_columns,
            },
            _ => {
                return Err(format!(
                    "foreign key `{}`: give either `refModel` and `refProperties` (a model of \
                     the schema), or `refTable`, `refColumns` and optionally `refSchema` (a \
                     table no model describes)",
                    f.name
                ))
            }
        };
        Ok(ForeignKey {
            name: f.name,
            properties: f.properties,
            target,
            on_delete: f.on_delete,
            on_update: f.on_update,
            match_full: f.match_full,
            deferrable: f.deferrable,
            initially_deferred: f.initially_deferred,
            resolved: Resolved::default(),
        })
    }
}

impl From<ForeignKey> for ForeignKeyFile {
    fn from(fk: ForeignKey) -> Self {
        let (ref_model, ref_properties, ref_table, ref_schema, ref_columns) = match fk.target {
            ForeignKeyTarget::Model { model, properties } => {
                (Some(model), properties, None, None, Vec::new())
            }
            ForeignKeyTarget::Table {
                schema,
                table,
                columns,
            } => (
                None,
                Vec::new(),
                Some(table),
                (!is_public(&schema)).then_some(schema),
                columns,
            ),
        };
        ForeignKeyFile {
            name: fk.name,
            properties: fk.properties,
            ref_model,
            ref_properties,
            ref_table,
            ref_schema,
            ref_columns,
            on_delete: fk.on_delete,
            on_update: fk.on_update,
            match_full: fk.match_full,
            deferrable: fk.deferrable,
            initially_deferred: fk.initially_deferred,
        }
    }
}

fn public() -> String {
    "public".to_string()
}

fn is_public(s: &str) -> bool {
    s == "public"
}

impl ForeignKey {
    /// A foreign key from this model's `properties` to the properties `ref_properties` of the
    /// model named `ref_model`, with `NO ACTION` on delete and update:
    /// `ForeignKey::new("FK_Post_authorId_User_id", ["authorId"], "User", ["id"])`.
    ///
    /// [`crate::Schema::new`] resolves the referenced model to its table and columns; when no
    /// model of the schema is named `ref_model`, it is a table of schema `public` and
    /// `ref_properties` are its column names (see [`ForeignKeyTarget`]).
    pub fn new<I, S, J, T>(
        name: impl Into<String>,
        properties: I,
        ref_model: impl Into<String>,
        ref_properties: J,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
        J: IntoIterator<Item = T>,
        T: Into<String>,
    {
        let target = ForeignKeyTarget::Model {
            model: ref_model.into(),
            properties: ref_properties.into_iter().map(Into::into).collect(),
        };
        ForeignKey::with_target(name, properties, target)
    }

    /// A foreign key from this model's `properties` to the columns `ref_columns` (column
    /// names) of the table `ref_schema.ref_table`, which no model of the schema describes
    /// (when one does, [`crate::Schema::new`] makes the target that model).
    pub fn to_table<I, S, J, T>(
        name: impl Into<String>,
        properties: I,
        ref_schema: impl Into<String>,
        ref_table: impl Into<String>,
        ref_columns: J,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
        J: IntoIterator<Item = T>,
        T: Into<String>,
    {
        let target = ForeignKeyTarget::Table {
            schema: ref_schema.into(),
            table: ref_table.into(),
            columns: ref_columns.into_iter().map(Into::into).collect(),
        };
        ForeignKey::with_target(name, properties, target)
    }

    fn with_target<I, S>(name: impl Into<String>, properties: I, target: ForeignKeyTarget) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ForeignKey {
            name: name.into(),
            properties: properties.into_iter().map(Into::into).collect(),
            target,
            on_delete: ForeignKeyAction::NoAction,
            on_update: ForeignKeyAction::NoAction,
            match_full: false,
            deferrable: false,
            initially_deferred: false,
            resolved: Resolved::default(),
        }
    }

    /// The referenced table and column names as SQL names them: for a model target, the
    /// model's table and the columns of the referenced properties as [`crate::Schema::new`]
    /// resolved them; for a table target, the table and columns as given. A model target not
    /// resolved by a schema (a foreign key of a model used on its own) is read as a table named
    /// like the model in schema `public`, with its names as column names.
    pub fn referenced(&self) -> ReferencedTable {
        if let Some((target, table)) = &self.resolved.0 {
            if *target == self.target {
                return table.clone();
            }
        }
        match &self.target {
            ForeignKeyTarget::Model { model, properties } => ReferencedTable {
                schema: public(),
                table: model.clone(),
                columns: properties.clone(),
            },
            ForeignKeyTarget::Table {
                schema,
                table,
                columns,
            } => ReferencedTable {
                schema: schema.clone(),
                table: table.clone(),
                columns: columns.clone(),
            },
        }
    }

    /// Sets the target and what it resolves to (by [`crate::Schema::new`]).
    pub(crate) fn resolve(&mut self, target: ForeignKeyTarget, referenced: ReferencedTable) {
        self.target = target.clone();
        self.resolved = Resolved(Some((target, referenced)));
    }
    /// Makes it `MATCH FULL`.
    pub fn match_full(mut self) -> Self {
        self.match_full = true;
        self
    }

    /// Makes it `DEFERRABLE` (checked at the end of the statement unless deferred).
    pub fn deferrable(mut self) -> Self {
        self.deferrable = true;
        self
    }

    /// Makes it `DEFERRABLE INITIALLY DEFERRED` (checked at commit).
    pub fn initially_deferred(mut self) -> Self {
        self.deferrable = true;
        self.initially_deferred = true;
        self
    }

    /// Sets the `ON DELETE` action.
    pub fn on_delete(mut self, action: ForeignKeyAction) -> Self {
        self.on_delete = action;
        self
    }

    /// Sets the `ON UPDATE` action.
    pub fn on_update(mut self, action: ForeignKeyAction) -> Self {
        self.on_update = action;
        self
    }
}

/// `one` (the result is an object or null) or `many` (an array), as Ignis `RelationTypes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RelationKind {
    /// At most one target row per source row.
    One,
    /// Any number of target rows per source row.
    Many,
}

/// A relation for `include` (Ignis `createRelations`): source rows join target rows where
/// `source.fields[i] = target.references[i]` for every i. `fields` are property names of this
/// model, `references` property names of the target. A `many` relation states its join the same
/// way (`User.configurations`: fields `["id"]`, references `["createdBy"]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Relation {
    /// The relation name used in `include` (`creator`).
    pub name: String,
    /// `one` or `many`.
    #[serde(rename = "type")]
    pub kind: RelationKind,
    /// The target model's name.
    pub target: String,
    /// Property names of this model.
    pub fields: Vec<String>,
    /// Property names of the target model.
    pub references: Vec<String>,
}

impl Relation {
    /// A `one` relation.
    pub fn one<I, S, J, T>(name: &str, target: &str, fields: I, references: J) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
        J: IntoIterator<Item = T>,
        T: Into<String>,
    {
        Relation {
            name: name.into(),
            kind: RelationKind::One,
            target: target.into(),
            fields: fields.into_iter().map(Into::into).collect(),
            references: references.into_iter().map(Into::into).collect(),
        }
    }

    /// A `many` relation.
    pub fn many<I, S, J, T>(name: &str, target: &str, fields: I, references: J) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
        J: IntoIterator<Item = T>,
        T: Into<String>,
    {
        Relation {
            kind: RelationKind::Many,
            ..Relation::one(name, target, fields, references)
        }
    }
}

/// The JSON form of a model: the same fields, plus `enrichers`, whose columns come first, in
/// order, before `columns`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ModelFile {
    name: String,
    #[serde(default)]
    table: Option<String>,
    #[serde(default = "public")]
    schema: String,
    #[serde(default)]
    enrichers: Vec<Enricher>,
    #[serde(default)]
    columns: Vec<Column>,
    #[serde(default)]
    uniques: Vec<UniqueConstraint>,
    #[serde(default)]
    indexes: Vec<Index>,
    #[serde(default)]
    foreign_keys: Vec<ForeignKey>,
    #[serde(default)]
    relations: Vec<Relation>,
    #[serde(default)]
    skip_migrate: bool,
    #[serde(default)]
    hidden: Vec<String>,
    #[serde(default)]
    default_filter: Option<serde_json::Value>,
    #[serde(default)]
    checks: Vec<Check>,
    #[serde(default)]
    renamed_from: Option<String>,
    #[serde(default)]
    primary_key_constraint: Option<String>,
    #[serde(default)]
    primary_key_order: Vec<String>,
    #[serde(default)]
    primary_key_deferrable: bool,
    #[serde(default)]
    primary_key_initially_deferred: bool,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    exclusions: Vec<Exclusion>,
}

impl TryFrom<ModelFile> for Model {
    type Error = SchemaError;

    fn try_from(f: ModelFile) -> Result<Self, SchemaError> {
        let mut model = Model::new(f.name);
        if let Some(table) = f.table {
            model.table = table;
        }
        model.schema = f.schema;
        for e in &f.enrichers {
            model = model.enrich(e.clone());
        }
        for mut c in f.columns {
            if c.column.is_empty() {
                c.column = snake_case(&c.property);
            }
            if c.primary_key || c.identity.is_some() {
                c.nullable = false;
            }
            model.columns.push(c);
        }
        model.uniques = f.uniques;
        model.indexes = f.indexes;
        model.foreign_keys = f.foreign_keys;
        model.relations = f.relations;
        model.skip_migrate = f.skip_migrate;
        model.hidden = f.hidden;
        model.default_filter = f.default_filter;
        model.checks = f.checks;
        model.renamed_from = f.renamed_from;
        model.primary_key_constraint = f.primary_key_constraint;
        model.primary_key_order = f.primary_key_order;
        model.primary_key_deferrable = f.primary_key_deferrable;
        model.primary_key_initially_deferred = f.primary_key_initially_deferred;
        model.comment = f.comment;
        model.exclusions = f.exclusions;
        model.validate()?;
        model.use_property_names()?;
        Ok(model)
    }
}

impl Model {
    /// An empty model whose table is named like the model, in schema `public`.
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        Model {
            table: name.clone(),
            name,
            schema: public(),
            columns: Vec::new(),
            uniques: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            relations: Vec::new(),
            skip_migrate: false,
            hidden: Vec::new(),
            default_filter: None,
            checks: Vec::new(),
            renamed_from: None,
            primary_key_constraint: None,
            primary_key_order: Vec::new(),
            primary_key_deferrable: false,
            primary_key_initially_deferred: false,
            comment: None,
            exclusions: Vec::new(),
        }
    }

    /// Sets the table's comment (`COMMENT ON TABLE`).
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    /// Sets the table name.
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// Sets the Postgres schema of the table.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// Appends the columns of an enricher.
    pub fn enrich(mut self, enricher: Enricher) -> Self {
        self.columns.extend(enricher.columns());
        self
    }

    /// Appends a column.
    pub fn column(mut self, column: Column) -> Self {
        self.columns.push(column);
        self
    }

    /// Adds a named unique constraint over the columns of these property names.
    pub fn unique<I, S>(mut self, name: impl Into<String>, properties: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.uniques.push(UniqueConstraint::new(name, properties));
        self
    }

    /// Adds a unique constraint with its attributes (see [`UniqueConstraint`]).
    pub fn unique_constraint(mut self, unique: UniqueConstraint) -> Self {
        self.uniques.push(unique);
        self
    }

    /// Adds an index.
    pub fn index(mut self, index: Index) -> Self {
        self.indexes.push(index);
        self
    }

    /// Adds a foreign key.
    pub fn foreign_key(mut self, foreign_key: ForeignKey) -> Self {
        self.foreign_keys.push(foreign_key);
        self
    }

    /// Adds a relation.
    pub fn relation(mut self, relation: Relation) -> Self {
        self.relations.push(relation);
        self
    }

    /// Marks the model `skip_migrate`.
    pub fn skip_migrate(mut self) -> Self {
        self.skip_migrate = true;
        self
    }

    /// Hides properties from every result.
    pub fn hide<I, S>(mut self, properties: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.hidden.extend(properties.into_iter().map(Into::into));
        self
    }

    /// Sets the default filter (Ignis filter JSON).
    pub fn default_filter(mut self, filter: serde_json::Value) -> Self {
        self.default_filter = Some(filter);
        self
    }

    /// Adds a check constraint `CHECK (expression)`.
    pub fn check(mut self, name: impl Into<String>, expression: impl Into<String>) -> Self {
        self.checks.push(Check {
            name: name.into(),
            expression: expression.into(),
        });
        self
    }

    /// Adds an exclusion constraint (see [`Exclusion`]).
    pub fn exclusion(mut self, exclusion: Exclusion) -> Self {
        self.exclusions.push(exclusion);
        self
    }

    /// Declares that the table was called `old` before (see [`Model::renamed_from`]).
    pub fn renamed_from(mut self, old: impl Into<String>) -> Self {
        self.renamed_from = Some(old.into());
        self
    }

    /// Makes the primary key `DEFERRABLE`, and `INITIALLY DEFERRED` when `initially_deferred`.
    pub fn primary_key_deferrable(mut self, initially_deferred: bool) -> Self {
        self.primary_key_deferrable = true;
        self.primary_key_initially_deferred = initially_deferred;
        self
    }

    /// Names the primary key constraint `name` instead of Postgres's `{table}_pkey`.
    pub fn primary_key_constraint(mut self, name: impl Into<String>) -> Self {
        self.primary_key_constraint = Some(name.into());
        self
    }

    /// Column names of the primary key in key order ([`Model::primary_key_order`] when set,
    /// else the columns' order); empty when the model has none.
    pub fn primary_key(&self) -> Vec<&str> {
        if !self.primary_key_order.is_empty() {
            return self
                .primary_key_order
                .iter()
                .map(|p| self.key_column(p).map_or(p.as_str(), |c| c.column.as_str()))
                .collect();
        }
        self.columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.column.as_str())
            .collect()
    }

    /// Orders the primary key's columns as `properties` (property names; each column must be
    /// marked `primary_key`, see [`Model::validate`]).
    pub fn primary_key_order<I, S>(mut self, properties: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.primary_key_order = properties.into_iter().map(Into::into).collect();
        self
    }

    /// The column a key, index, constraint or foreign key names: the column whose property is
    /// `name`, else the column whose SQL name is `name` (the form keys were written in when they
    /// named columns); `None` when neither exists.
    pub fn key_column(&self, name: &str) -> Option<&Column> {
        self.column_by_property(name)
            .or_else(|| self.column_by_name(name))
    }

    /// The SQL column names of `names` (see [`Model::key_column`]), in order; a name that
    /// names no column is kept as written ([`Model::validate`] rejects such a model).
    pub fn key_columns<S: AsRef<str>>(&self, names: &[S]) -> Vec<String> {
        names
            .iter()
            .map(|n| {
                let n = n.as_ref();
                self.key_column(n)
                    .map_or_else(|| n.to_string(), |c| c.column.clone())
            })
            .collect()
    }

    /// The SQL column names of a foreign key's referencing properties (see
    /// [`ForeignKey::referenced`] for the referenced side).
    pub fn foreign_key_columns(&self, fk: &ForeignKey) -> Vec<String> {
        self.key_columns(&fk.properties)
    }

    /// Rewrites every name that stands for a column by its SQL name (see [`Model`]) to the
    /// column's property name: in unique constraints, index keys and `INCLUDE`, exclusion
    /// elements, the primary key order and foreign keys' referencing side. Run by
    /// [`crate::Schema::new`] and when a model is read from JSON, so a file written with column
    /// names loads to the same model as one written with property names.
    ///
    /// # Errors
    /// [`SchemaError::UnknownProperty`] for a name that is neither a property nor a column of
    /// the model, naming the model, the constraint and the name.
    pub fn use_property_names(&mut self) -> Result<(), SchemaError> {
        let columns = &self.columns;
        let model = &self.name;
        let rename = |context: &dyn Fn() -> String, name: &mut String| {
            if columns.iter().any(|c| c.property == *name) {
                return Ok(());
            }
            match columns.iter().find(|c| c.column == *name) {
                Some(c) => {
                    *name = c.property.clone();
                    Ok(())
                }
                None => Err(SchemaError::UnknownProperty {
                    model: model.clone(),
                    context: context(),
                    property: name.clone(),
                }),
            }
        };
        for name in &mut self.primary_key_order {
            rename(&|| "primaryKeyOrder".into(), name)?;
        }
        for u in &mut self.uniques {
            let context = || format!("unique `{}`", u.name);
            for name in &mut u.properties {
                rename(&context, name)?;
            }
        }
        for i in &mut self.indexes {
            let context = || format!("index `{}`", i.name);
            let keys = i.keys.iter_mut().filter_map(|k| k.property.as_mut());
            for name in i.properties.iter_mut().chain(keys) {
                rename(&context, name)?;
            }
            let context = || format!("index `{}` INCLUDE", i.name);
            for name in &mut i.include {
                rename(&context, name)?;
            }
        }
        for x in &mut self.exclusions {
            let context = || format!("exclusion constraint `{}`", x.name);
            for name in x.elements.iter_mut().filter_map(|e| e.property.as_mut()) {
                rename(&context, name)?;
            }
        }
        for fk in &mut self.foreign_keys {
            let context = || format!("foreign key `{}`", fk.name);
            for name in &mut fk.properties {
                rename(&context, name)?;
            }
        }
        Ok(())
    }

    /// The column with this property name.
    pub fn column_by_property(&self, property: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.property == property)
    }

    /// The column with this SQL column name.
    pub fn column_by_name(&self, column: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.column == column)
    }

    /// The relation with this name.
    pub fn relation_by_name(&self, name: &str) -> Option<&Relation> {
        self.relations.iter().find(|r| r.name == name)
    }

    /// True when the property is hidden.
    pub fn is_hidden(&self, property: &str) -> bool {
        self.hidden.iter().any(|h| h == property)
    }

    /// `"schema"."table"` for messages (not for SQL: statements quote with sea-query).
    pub fn qualified_table(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }

    /// Checks the model on its own: identifiers, unique names, that keys, indexes, hidden
    /// properties and relation fields name existing columns and properties, and that identity
    /// columns are integers.
    ///
    /// # Errors
    /// The first problem found, as a [`SchemaError`] naming this model and the field.
    pub fn validate(&self) -> Result<(), SchemaError> {
        let m = &self.name;
        if m.is_empty() {
            return Err(SchemaError::InvalidModel {
                model: m.clone(),
                reason: "the model name is empty".into(),
            });
        }
        check_ident(m, "table", &self.table)?;
        check_ident(m, "schema", &self.schema)?;
        if let Some(pk) = &self.primary_key_constraint {
            check_ident(m, "primary key constraint", pk)?;
        }
        check_comment(m, "the table", self.comment.as_deref())?;
        if !self.primary_key_order.is_empty() {
            let mut marked: Vec<&str> = self
                .columns
                .iter()
                .filter(|c| c.primary_key)
                .map(|c| c.column.as_str())
                .collect();
            let mut ordered: Vec<&str> = self
                .primary_key_order
                .iter()
                .map(|p| self.key_column(p).map_or(p.as_str(), |c| c.column.as_str()))
                .collect();
            marked.sort_unstable();
            ordered.sort_unstable();
            if marked != ordered {
                return Err(SchemaError::InvalidModel {
                    model: m.clone(),
                    reason: format!(
                        "primaryKeyOrder ({}) must list exactly the primary key columns ({})",
                        self.primary_key_order.join(", "),
                        marked.join(", ")
                    ),
                });
            }
        }
        if self.columns.is_empty() {
            return Err(SchemaError::InvalidModel {
                model: m.clone(),
                reason: "a model needs at least one column".into(),
            });
        }
        let mut columns = HashSet::new();
        let mut properties = HashSet::new();
        for c in &self.columns {
            check_ident(m, "column", &c.column)?;
            if c.property.is_empty() || c.property.contains('.') || c.property.contains('[') {
                return Err(SchemaError::InvalidIdentifier {
                    model: m.clone(),
                    what: "property",
                    name: c.property.clone(),
                    reason: "a property name must be non-empty and contain no `.` or `[` (they \
                             start JSON paths in filters)"
                        .into(),
                });
            }
            if !columns.insert(c.column.as_str()) {
                return Err(SchemaError::DuplicateColumn {
                    model: m.clone(),
                    what: "column",
                    name: c.column.clone(),
                });
            }
            if !properties.insert(c.property.as_str()) {
                return Err(SchemaError::DuplicateColumn {
                    model: m.clone(),
                    what: "property",
                    name: c.property.clone(),
                });
            }
            if c.identity.is_some() && !c.pg_type.is_integer() {
                return Err(SchemaError::InvalidModel {
                    model: m.clone(),
                    reason: format!(
                        "column `{}` is an identity column but its type is {} (identity needs \
                         smallint, integer or bigint)",
                        c.column, c.pg_type
                    ),
                });
            }
            if c.serial_sequence.is_some() && !c.pg_type.is_serial() {
                return Err(SchemaError::InvalidModel {
                    model: m.clone(),
                    reason: format!(
                        "column `{}` has serial sequence options but its type is {} (they \
                         need serial, bigserial or smallserial)",
                        c.column, c.pg_type
                    ),
                });
            }
            if let Some(name) = &c.sequence_name {
                if !c.pg_type.is_serial() {
                    return Err(SchemaError::InvalidModel {
                        model: m.clone(),
                        reason: format!(
                            "column `{}` names a sequence but its type is {} (a sequence name \
                             needs serial, bigserial or smallserial)",
                            c.column, c.pg_type
                        ),
                    });
                }
                check_ident(m, "sequence", name)?;
            }
            if let Some(collation) = &c.collation {
                check_ident(m, "collation", collation)?;
            }
            if let Some(n) = c
                .statistics
                .filter(|n| !(0..=MAX_STATISTICS_TARGET).contains(n))
            {
                return Err(SchemaError::InvalidModel {
                    model: m.clone(),
                    reason: format!(
                        "column `{}` has statistics target {n} (0 to {MAX_STATISTICS_TARGET}; \
                         leave it out for the server's default)",
                        c.column
                    ),
                });
            }
            check_comment(m, &format!("column `{}`", c.column), c.comment.as_deref())?;
            if c.identity.is_some() && c.default.is_some() {
                return Err(SchemaError::InvalidModel {
                    model: m.clone(),
                    reason: format!("column `{}` has both an identity and a default", c.column),
                });
            }
        }
        // Keys name properties, or columns by their SQL name (see `Model`).
        let known_column = |context: String, names: &[String]| -> Result<(), SchemaError> {
            if names.is_empty() {
                return Err(SchemaError::InvalidModel {
                    model: m.clone(),
                    reason: format!("{context} has no columns"),
                });
            }
            for name in names {
                if !properties.contains(name.as_str()) && !columns.contains(name.as_str()) {
                    return Err(SchemaError::UnknownProperty {
                        model: m.clone(),
                        context,
                        property: name.clone(),
                    });
                }
            }
            Ok(())
        };
        let mut names = HashSet::new();
        let mut unique_name = |what: &'static str, name: &str| -> Result<(), SchemaError> {
            check_ident(m, what, name)?;
            if !names.insert(name.to_string()) {
                return Err(SchemaError::DuplicateConstraint {
                    name: name.into(),
                    first: m.clone(),
                    second: m.clone(),
                });
            }
            Ok(())
        };
        let deferral = |what: String, deferrable: bool, initially_deferred: bool| {
            if initially_deferred && !deferrable {
                return Err(SchemaError::InvalidModel {
                    model: m.clone(),
                    reason: format!("{what} is INITIALLY DEFERRED but not DEFERRABLE"),
                });
            }
            Ok(())
        };
        if self.primary_key_deferrable || self.primary_key_initially_deferred {
            if self.primary_key().is_empty() {
                return Err(SchemaError::InvalidModel {
                    model: m.clone(),
                    reason: "primaryKeyDeferrable is set but the model has no primary key".into(),
                });
            }
            deferral(
                "the primary key".into(),
                self.primary_key_deferrable,
                self.primary_key_initially_deferred,
            )?;
        }
        for u in &self.uniques {
            unique_name("unique constraint", &u.name)?;
            known_column(format!("unique `{}`", u.name), &u.properties)?;
            deferral(
                format!("unique constraint `{}`", u.name),
                u.deferrable,
                u.initially_deferred,
            )?;
        }
        for i in &self.indexes {
            unique_name("index", &i.name)?;
            let context = format!("index `{}`", i.name);
            let invalid = |reason: String| SchemaError::InvalidModel {
                model: m.clone(),
                reason: format!("index `{}` {reason}", i.name),
            };
            if i.keys.is_empty() {
                known_column(context.clone(), &i.properties)?;
            } else if !i.properties.is_empty() {
                return Err(invalid(
                    "has both `properties` and `keys` (give the keys one way)".into(),
                ));
            }
            for (n, k) in i.keys.iter().enumerate() {
                match (&k.property, &k.expression) {
                    (Some(c), None) => known_column(context.clone(), std::slice::from_ref(c))?,
                    (None, Some(e)) if !e.trim().is_empty() && !e.contains('\0') => {}
                    _ => {
                        return Err(invalid(format!(
                            "key {} needs exactly one of `property` and a non-empty `expression`",
                            n + 1
                        )))
                    }
                }
                for (what, name) in [("operator class", &k.opclass), ("collation", &k.collation)] {
                    if let Some(name) = name {
                        check_ident(m, what, name)?;
                    }
                }
            }
            if !i.include.is_empty() {
                known_column(format!("{context} INCLUDE"), &i.include)?;
            }
            for (n, (name, value)) in i.storage_parameters.iter().enumerate() {
                check_ident(m, "storage parameter", name)?;
                if i.storage_parameters[..n].iter().any(|(k, _)| k == name) {
                    return Err(invalid(format!("sets storage parameter `{name}` twice")));
                }
                let simple = !value.is_empty()
                    && value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '+'));
                if !simple {
                    return Err(invalid(format!(
                        "storage parameter `{name}` has the value `{value}` (a number, boolean or \
                         identifier is expected)"
                    )));
                }
            }
            if let Some(method) = &i.method {
                if method.is_empty()
                    || !method
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    return Err(SchemaError::InvalidModel {
                        model: m.clone(),
                        reason: format!("index `{}` has an invalid method `{method}`", i.name),
                    });
                }
            }
        }
        for x in &self.exclusions {
            unique_name("exclusion constraint", &x.name)?;
            let invalid = |reason: String| SchemaError::InvalidModel {
                model: m.clone(),
                reason: format!("exclusion constraint `{}` {reason}", x.name),
            };
            if x.elements.is_empty() {
                return Err(invalid("has no elements".into()));
            }
            let method = x.method_name();
            if method.is_empty()
                || !method
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(invalid(format!("has an invalid method `{method}`")));
            }
            let context = format!("exclusion constraint `{}`", x.name);
            for (n, e) in x.elements.iter().enumerate() {
                match (&e.property, &e.expression) {
                    (Some(c), None) => known_column(context.clone(), std::slice::from_ref(c))?,
                    (None, Some(e)) if !e.trim().is_empty() && !e.contains('\0') => {}
                    _ => {
                        return Err(invalid(format!(
                            "element {} needs exactly one of `property` and a non-empty \
                             `expression`",
                            n + 1
                        )))
                    }
                }
                if let Some(o) = &e.opclass {
                    check_ident(m, "operator class", o)?;
                }
                if split_operator(&e.operator).is_none() {
                    return Err(invalid(format!(
                        "element {} has the operator `{}` (an operator name such as `=` or \
                         `&&`, optionally `schema.` before it, is expected)",
                        n + 1,
                        e.operator.chars().take(64).collect::<String>()
                    )));
                }
            }
            if x.predicate
                .as_ref()
                .is_some_and(|p| p.trim().is_empty() || p.contains('\0'))
            {
                return Err(invalid("has an empty predicate (leave `where` out)".into()));
            }
            deferral(context, x.deferrable, x.initially_deferred)?;
        }
        for fk in &self.foreign_keys {
            unique_name("foreign key", &fk.name)?;
            known_column(format!("foreign key `{}`", fk.name), &fk.properties)?;
            match &fk.target {
                ForeignKeyTarget::Model { model, .. } => {
                    if model.is_empty() {
                        return Err(SchemaError::InvalidModel {
                            model: m.clone(),
                            reason: format!("foreign key `{}` names no model", fk.name),
                        });
                    }
                }
                ForeignKeyTarget::Table {
                    schema,
                    table,
                    columns,
                } => {
                    check_ident(m, "table", table)?;
                    check_ident(m, "schema", schema)?;
                    for c in columns {
                        check_ident(m, "column", c)?;
                    }
                }
            }
            deferral(
                format!("foreign key `{}`", fk.name),
                fk.deferrable,
                fk.initially_deferred,
            )?;
            let referenced = fk.target.names();
            if fk.properties.len() != referenced.len() {
                return Err(SchemaError::InvalidModel {
                    model: m.clone(),
                    reason: format!(
                        "foreign key `{}` has {} properties but references {}",
                        fk.name,
                        fk.properties.len(),
                        referenced.len()
                    ),
                });
            }
        }
        for h in &self.hidden {
            if !properties.contains(h.as_str()) {
                return Err(SchemaError::UnknownProperty {
                    model: m.clone(),
                    context: "hidden".into(),
                    property: h.clone(),
                });
            }
        }
        let mut relation_names = HashSet::new();
        for r in &self.relations {
            if r.name.is_empty() || !relation_names.insert(r.name.as_str()) {
                return Err(SchemaError::InvalidModel {
                    model: m.clone(),
                    reason: format!("relation name `{}` is empty or used twice", r.name),
                });
            }
            if properties.contains(r.name.as_str()) {
                return Err(SchemaError::InvalidModel {
                    model: m.clone(),
                    reason: format!("relation `{}` has the name of a property", r.name),
                });
            }
            if r.fields.is_empty() || r.fields.len() != r.references.len() {
                return Err(SchemaError::InvalidModel {
                    model: m.clone(),
                    reason: format!(
                        "relation `{}` needs as many references as fields, at least one ({} fields, {} references)",
                        r.name,
                        r.fields.len(),
                        r.references.len()
                    ),
                });
            }
            for f in &r.fields {
                if !properties.contains(f.as_str()) {
                    return Err(SchemaError::UnknownProperty {
                        model: m.clone(),
                        context: format!("relation `{}`", r.name),
                        property: f.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// The largest statistics target Postgres takes (`ALTER COLUMN .. SET STATISTICS`).
const MAX_STATISTICS_TARGET: i32 = 10000;

/// Checks a comment: none, or non-empty text without NUL (Postgres removes a comment set to
/// the empty string, and text cannot hold NUL).
fn check_comment(model: &str, on: &str, comment: Option<&str>) -> Result<(), SchemaError> {
    match comment {
        Some(c) if c.is_empty() || c.contains('\0') => Err(SchemaError::InvalidModel {
            model: model.to_string(),
            reason: format!("the comment of {on} is empty or contains NUL (leave it out for none)"),
        }),
        _ => Ok(()),
    }
}

/// Checks that Postgres would keep `name` as written: non-empty, at most 63 bytes, no `"` or NUL.
pub(crate) fn check_ident(model: &str, what: &'static str, name: &str) -> Result<(), SchemaError> {
    let reason = if name.is_empty() {
        "it is empty".to_string()
    } else if name.len() > MAX_IDENTIFIER_BYTES {
        format!(
            "it is {} bytes long and Postgres truncates identifiers to {MAX_IDENTIFIER_BYTES}",
            name.len()
        )
    } else if name.contains('"') || name.contains('\0') {
        "it contains a double quote or NUL".to_string()
    } else {
        return Ok(());
    };
    Err(SchemaError::InvalidIdentifier {
        model: model.to_string(),
        what,
        name: name.to_string(),
        reason,
    })
}
