//! Schema enrichers: the column sets the Ignis package adds to a model.
//!
//! Each function returns the columns that the Ignis enricher of the same purpose creates, with the
//! same property names, column names, types, nullability and defaults (Ignis
//! `packages/core/src/base/models/enrichers/*.ts`: `generateIdColumnDefs`, `generateTzColumnDefs`,
//! `generateUserAuditColumnDefs`, `generateDataTypeColumnDefs`, `generatePrincipalColumnDefs`, and
//! the user model's `extraUserColumns`). Where ignis-rs differs, the item says so.
//!
//! In a schema file an enricher is an object with a `kind` and the options in camelCase:
//! ```
//! use ignis_schema::Enricher;
//! let e: Enricher = serde_json::from_str(r#"{"kind":"id","dataType":"string"}"#).unwrap();
//! assert_eq!(e.columns()[0].default.as_deref(), Some("gen_random_uuid()::text"));
//! let e: Enricher = serde_json::from_str(r#"{"kind":"tz","deleted":{"enable":true}}"#).unwrap();
//! assert_eq!(e.columns().len(), 3);
//! ```

use serde::{Deserialize, Serialize};

use crate::column::{Column, Identity, SequenceOptions};
use crate::types::PgType;

/// One enricher with its options, as written in a schema file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Enricher {
    /// [`id`].
    Id(IdOptions),
    /// [`tz`].
    Tz(TzOptions),
    /// [`user_audit`].
    UserAudit(UserAuditOptions),
    /// [`data_type`].
    DataType(DataTypeOptions),
    /// [`principal`].
    Principal(PrincipalOptions),
    /// [`user_columns`].
    UserColumns(UserColumnsOptions),
}

impl Enricher {
    /// The columns this enricher adds, in the order Ignis declares them.
    pub fn columns(&self) -> Vec<Column> {
        match self {
            Enricher::Id(o) => id(o),
            Enricher::Tz(o) => tz(o),
            Enricher::UserAudit(o) => user_audit(o),
            Enricher::DataType(o) => data_type(o),
            Enricher::Principal(o) => principal(o),
            Enricher::UserColumns(o) => user_columns(o),
        }
    }
}

/// The type of a generated primary key (Ignis `id.dataType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdType {
    /// `text`, a UUID string.
    String,
    /// `integer GENERATED ALWAYS AS IDENTITY` (the Ignis default).
    #[default]
    Number,
    /// `bigint GENERATED ALWAYS AS IDENTITY`.
    BigNumber,
}

/// Options of [`id`] (Ignis `TIdEnricherOptions`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdOptions {
    /// `string`, `number` (default) or `big-number`.
    #[serde(default)]
    pub data_type: IdType,
    /// The SQL column name; `id` when not given. The property name is always `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_name: Option<String>,
    /// Identity sequence options (number and big-number only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_options: Option<SequenceOptions>,
}

impl IdOptions {
    /// A text primary key holding a UUID string.
    pub fn string() -> Self {
        IdOptions {
            data_type: IdType::String,
            ..Default::default()
        }
    }

    /// An `integer` identity primary key (the Ignis default).
    pub fn number() -> Self {
        IdOptions::default()
    }

    /// A `bigint` identity primary key.
    pub fn big_number() -> Self {
        IdOptions {
            data_type: IdType::BigNumber,
            ..Default::default()
        }
    }
}

/// The primary key column `id` (Ignis `generateIdColumnDefs`).
///
/// - `string`: `id text PRIMARY KEY DEFAULT gen_random_uuid()::text`. Ignis fills it with a random
///   UUID on the client and declares `uuid_generate_v4()`, which needs the `uuid-ossp` extension;
///   ignis-rs uses the built-in `gen_random_uuid()` (Postgres 13+) so raw inserts work on any server.
/// - `number`: `id integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY`.
/// - `big-number`: `id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY`.
pub fn id(options: &IdOptions) -> Vec<Column> {
    let mut column = match options.data_type {
        IdType::String => Column::new("id", PgType::Text).default_sql("gen_random_uuid()::text"),
        IdType::Number | IdType::BigNumber => {
            let ty = if options.data_type == IdType::Number {
                PgType::Integer
            } else {
                PgType::BigInt
            };
            Column::new("id", ty).identity(Identity {
                sequence: options.sequence_options.clone().unwrap_or_default(),
                ..Identity::always()
            })
        }
    }
    .primary_key();
    if let Some(name) = &options.column_name {
        column.column = name.clone();
    }
    vec![column]
}

/// One timestamp column of [`tz`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TzColumn {
    /// Whether the column exists (Ignis `enable`; `createdAt` is always on).
    #[serde(default = "default_true")]
    pub enable: bool,
    /// SQL column name, or the Ignis default for that column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_name: Option<String>,
    /// `timestamp with time zone` (default) or `without`.
    #[serde(default = "default_true")]
    pub with_timezone: bool,
}

fn default_true() -> bool {
    true
}

impl TzColumn {
    fn on() -> Self {
        TzColumn {
            enable: true,
            column_name: None,
            with_timezone: true,
        }
    }

    fn off() -> Self {
        TzColumn {
            enable: false,
            ..TzColumn::on()
        }
    }

    fn pg_type(&self) -> PgType {
        PgType::Timestamp {
            precision: None,
            with_time_zone: self.with_timezone,
        }
    }

    fn name(&self, default: &str) -> String {
        self.column_name.clone().unwrap_or_else(|| default.into())
    }
}

/// Options of [`tz`] (Ignis `TTzEnricherOptions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TzOptions {
    /// `createdAt` (always enabled).
    #[serde(default = "TzColumn::on")]
    pub created: TzColumn,
    /// `modifiedAt`, enabled by default.
    #[serde(default = "TzColumn::on")]
    pub modified: TzColumn,
    /// `deletedAt` (soft delete), disabled by default.
    #[serde(default = "TzColumn::off")]
    pub deleted: TzColumn,
}

impl Default for TzOptions {
    fn default() -> Self {
        TzOptions {
            created: TzColumn::on(),
            modified: TzColumn::on(),
            deleted: TzColumn::off(),
        }
    }
}

impl TzOptions {
    /// The defaults plus `deletedAt`, for soft-deletable models.
    pub fn with_deleted() -> Self {
        TzOptions {
            deleted: TzColumn::on(),
            ..TzOptions::default()
        }
    }
}

/// Timestamps (Ignis `generateTzColumnDefs`): `createdAt` -> `created_at` and `modifiedAt` ->
/// `modified_at`, `timestamp with time zone NOT NULL DEFAULT now()`; optionally `deletedAt` ->
/// `deleted_at`, nullable with no default. Ignis sets `modifiedAt` on every update in the
/// repository (`$onUpdate`), not with a trigger; so does ignis-rs.
pub fn tz(options: &TzOptions) -> Vec<Column> {
    let mut columns = vec![Column::new("createdAt", options.created.pg_type())
        .column_name(options.created.name("created_at"))
        .not_null()
        .default_sql("now()")];
    if options.modified.enable {
        columns.push(
            Column::new("modifiedAt", options.modified.pg_type())
                .column_name(options.modified.name("modified_at"))
                .not_null()
                .default_sql("now()"),
        );
    }
    if options.deleted.enable {
        columns.push(
            Column::new("deletedAt", options.deleted.pg_type())
                .column_name(options.deleted.name("deleted_at")),
        );
    }
    columns
}

/// The type of a column that holds another row's id (Ignis `dataType: 'number' | 'string'`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RefIdType {
    /// `integer` (Ignis default).
    #[default]
    Number,
    /// `text`.
    String,
}

impl RefIdType {
    fn pg_type(self) -> PgType {
        match self {
            RefIdType::Number => PgType::Integer,
            RefIdType::String => PgType::Text,
        }
    }
}

/// One column of [`user_audit`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditColumn {
    /// `number` (default, `integer`) or `string` (`text`).
    #[serde(default)]
    pub data_type: RefIdType,
    /// SQL column name, or the Ignis default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_name: Option<String>,
}

/// Options of [`user_audit`] (Ignis `TUserAuditEnricherOptions`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserAuditOptions {
    /// `createdBy`.
    #[serde(default)]
    pub created: AuditColumn,
    /// `modifiedBy`.
    #[serde(default)]
    pub modified: AuditColumn,
}

impl UserAuditOptions {
    /// Both columns `text`, for models whose users have string ids.
    pub fn string() -> Self {
        let text = AuditColumn {
            data_type: RefIdType::String,
            column_name: None,
        };
        UserAuditOptions {
            created: text.clone(),
            modified: text,
        }
    }
}

/// Who created and last modified a row (Ignis `generateUserAuditColumnDefs`): `createdBy` ->
/// `created_by` and `modifiedBy` -> `modified_by`, `integer` by default or `text`, nullable, no
/// default. The repository fills them from an explicit audit actor.
pub fn user_audit(options: &UserAuditOptions) -> Vec<Column> {
    let make = |property: &str, default_name: &str, c: &AuditColumn| {
        Column::new(property, c.data_type.pg_type())
            .column_name(c.column_name.clone().unwrap_or_else(|| default_name.into()))
    };
    vec![
        make("createdBy", "created_by", &options.created),
        make("modifiedBy", "modified_by", &options.modified),
    ]
}

/// Options of [`data_type`] (Ignis `TDataTypeEnricherOptions.defaultValue`): column defaults as
/// JSON values; `bValue` has no default.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataTypeOptions {
    /// Default of `dataType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    /// Default of `nValue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_value: Option<f64>,
    /// Default of `tValue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_value: Option<String>,
    /// Default of `jValue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub j_value: Option<serde_json::Value>,
    /// Default of `boValue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bo_value: Option<bool>,
}

/// `'it''s'`: a SQL string literal with quotes doubled.
pub fn sql_string_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A generic value slot (Ignis `generateDataTypeColumnDefs`): `dataType` -> `data_type` text,
/// `nValue` -> `n_value` double precision, `tValue` -> `t_value` text, `bValue` -> `b_value` bytea,
/// `jValue` -> `j_value` jsonb, `boValue` -> `bo_value` boolean; all nullable, defaults only when
/// given in the options.
pub fn data_type(options: &DataTypeOptions) -> Vec<Column> {
    let with_default = |c: Column, d: Option<String>| match d {
        Some(d) => c.default_sql(d),
        None => c,
    };
    vec![
        with_default(
            Column::new("dataType", PgType::Text),
            options.data_type.as_deref().map(sql_string_literal),
        ),
        with_default(
            Column::new("nValue", PgType::DoublePrecision),
            options
                .n_value
                .filter(|v| v.is_finite())
                .map(|v| format!("{v:?}")),
        ),
        with_default(
            Column::new("tValue", PgType::Text),
            options.t_value.as_deref().map(sql_string_literal),
        ),
        Column::new("bValue", PgType::Bytea),
        with_default(
            Column::new("jValue", PgType::Jsonb),
            options
                .j_value
                .as_ref()
                .map(|v| format!("{}::jsonb", sql_string_literal(&v.to_string()))),
        ),
        with_default(
            Column::new("boValue", PgType::Boolean),
            options.bo_value.map(|b| b.to_string()),
        ),
    ]
}

/// Options of [`principal`] (Ignis `TPrincipalEnricherOptions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrincipalOptions {
    /// Prefix of both columns; `principal` by default.
    #[serde(default = "default_discriminator")]
    pub discriminator: String,
    /// Default of the `{d}Type` column; `''` by default.
    #[serde(default)]
    pub default_polymorphic: String,
    /// Type of the `{d}Id` column.
    #[serde(default)]
    pub polymorphic_id_type: RefIdType,
}

fn default_discriminator() -> String {
    "principal".into()
}

impl Default for PrincipalOptions {
    fn default() -> Self {
        PrincipalOptions {
            discriminator: default_discriminator(),
            default_polymorphic: String::new(),
            polymorphic_id_type: RefIdType::Number,
        }
    }
}

/// A polymorphic owner (Ignis `generatePrincipalColumnDefs`): `{d}Type` -> `{d}_type` text,
/// nullable, default the `defaultPolymorphic` option (`''` when none), and `{d}Id` -> `{d}_id`,
/// `integer` or `text`, `NOT NULL`. The discriminator defaults to `principal`.
pub fn principal(options: &PrincipalOptions) -> Vec<Column> {
    let d = &options.discriminator;
    vec![
        Column::new(format!("{d}Type"), PgType::Text)
            .column_name(format!("{}_type", crate::column::snake_case(d)))
            .default_sql(sql_string_literal(&options.default_polymorphic)),
        Column::new(format!("{d}Id"), options.polymorphic_id_type.pg_type())
            .column_name(format!("{}_id", crate::column::snake_case(d)))
            .not_null(),
    ]
}

/// Options of [`user_columns`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserColumnsOptions {
    /// Type of `parentId`: `string` (default, matching a string user id) or `number`.
    #[serde(default = "default_string_ref")]
    pub parent_id_type: RefIdType,
}

fn default_string_ref() -> RefIdType {
    RefIdType::String
}

impl Default for UserColumnsOptions {
    fn default() -> Self {
        UserColumnsOptions {
            parent_id_type: RefIdType::String,
        }
    }
}

/// The Ignis user model's extra columns (`extraUserColumns`): `realm` text default `''`, `status`
/// text `NOT NULL` default `'000_UNKNOWN'`, `type` text `NOT NULL` default `'SYSTEM'`,
/// `activatedAt` -> `activated_at` and `lastLoginAt` -> `last_login_at` (timestamptz, nullable),
/// `parentId` -> `parent_id` (text or integer, nullable).
pub fn user_columns(options: &UserColumnsOptions) -> Vec<Column> {
    vec![
        Column::new("realm", PgType::Text).default_sql("''"),
        Column::new("status", PgType::Text)
            .not_null()
            .default_sql("'000_UNKNOWN'"),
        Column::new("type", PgType::Text)
            .not_null()
            .default_sql("'SYSTEM'"),
        Column::new("activatedAt", PgType::TIMESTAMPTZ),
        Column::new("lastLoginAt", PgType::TIMESTAMPTZ),
        Column::new("parentId", options.parent_id_type.pg_type()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(cols: &[Column]) -> Vec<(String, String, String, bool, Option<String>)> {
        cols.iter()
            .map(|c| {
                (
                    c.property.clone(),
                    c.column.clone(),
                    c.pg_type.to_string(),
                    c.nullable,
                    c.default.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn id_number_is_integer_identity_primary_key() {
        let cols = id(&IdOptions::default());
        assert_eq!(cols.len(), 1);
        assert_eq!(cols[0].pg_type, PgType::Integer);
        assert!(cols[0].primary_key && !cols[0].nullable);
        assert_eq!(
            cols[0].identity.as_ref().map(Identity::to_sql).as_deref(),
            Some("GENERATED ALWAYS AS IDENTITY")
        );
    }

    #[test]
    fn id_big_number_with_sequence_and_column_name() {
        let cols = id(&IdOptions {
            data_type: IdType::BigNumber,
            column_name: Some("pk".into()),
            sequence_options: Some(SequenceOptions {
                start: Some(1000),
                ..Default::default()
            }),
        });
        assert_eq!(
            (cols[0].property.as_str(), cols[0].column.as_str()),
            ("id", "pk")
        );
        assert_eq!(cols[0].pg_type, PgType::BigInt);
        assert_eq!(
            cols[0].identity.as_ref().map(Identity::to_sql).as_deref(),
            Some("GENERATED ALWAYS AS IDENTITY (START WITH 1000)")
        );
    }

    #[test]
    fn tz_defaults_and_switches() {
        let s = |p: &str, c: &str, t: &str, n: bool, d: Option<&str>| {
            (
                p.to_string(),
                c.to_string(),
                t.to_string(),
                n,
                d.map(String::from),
            )
        };
        assert_eq!(
            summary(&tz(&TzOptions::default())),
            vec![
                s(
                    "createdAt",
                    "created_at",
                    "timestamp with time zone",
                    false,
                    Some("now()")
                ),
                s(
                    "modifiedAt",
                    "modified_at",
                    "timestamp with time zone",
                    false,
                    Some("now()")
                ),
            ]
        );
        let opts: TzOptions = serde_json::from_str(
            r#"{"modified":{"enable":false},"deleted":{"enable":true,"withTimezone":false}}"#,
        )
        .unwrap();
        assert_eq!(
            summary(&tz(&opts)),
            vec![
                s(
                    "createdAt",
                    "created_at",
                    "timestamp with time zone",
                    false,
                    Some("now()")
                ),
                s(
                    "deletedAt",
                    "deleted_at",
                    "timestamp without time zone",
                    true,
                    None
                ),
            ]
        );
    }

    #[test]
    fn principal_uses_discriminator() {
        let cols = principal(&PrincipalOptions {
            discriminator: "owner".into(),
            default_polymorphic: "User".into(),
            polymorphic_id_type: RefIdType::String,
        });
        assert_eq!(
            summary(&cols),
            vec![
                (
                    "ownerType".into(),
                    "owner_type".into(),
                    "text".into(),
                    true,
                    Some("'User'".into())
                ),
                (
                    "ownerId".into(),
                    "owner_id".into(),
                    "text".into(),
                    false,
                    None
                ),
            ]
        );
    }

    #[test]
    fn data_type_defaults_are_sql_literals() {
        let cols = data_type(&DataTypeOptions {
            data_type: Some("it's".into()),
            n_value: Some(1.5),
            j_value: Some(serde_json::json!({"a": "b'c"})),
            bo_value: Some(false),
            ..Default::default()
        });
        let defaults: Vec<_> = cols.iter().map(|c| c.default.as_deref()).collect();
        assert_eq!(
            defaults,
            vec![
                Some("'it''s'"),
                Some("1.5"),
                None,
                None,
                Some(r#"'{"a":"b''c"}'::jsonb"#),
                Some("false")
            ]
        );
    }
}
