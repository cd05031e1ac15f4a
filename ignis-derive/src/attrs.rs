//! Parsing of the `#[ignis(..)]` attributes, shared by both derives: a key either derive knows
//! is accepted by both (one struct usually derives both), anything else is a compile error that
//! points at the key.

mod constraints;

pub(crate) use constraints::{
    Action, ExclusionAttr, ForeignKeyAttr, ForeignTarget, IdentityAttr, IndexKeyAttr,
    PrimaryKeyAttr, SequenceAttr, SerialAttr,
};

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, LitStr};

/// A list of property names given as one string, comma-separated: `"tenantId, id"`.
fn name_list(lit: &LitStr) -> syn::Result<Vec<String>> {
    let names: Vec<String> = lit
        .value()
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    if names.iter().any(String::is_empty) {
        return Err(syn::Error::new_spanned(
            lit,
            "expected property names separated by commas, e.g. \"authorId\" or \"tenantId, id\"",
        ));
    }
    Ok(names)
}

fn string(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
    meta.value()?.parse()
}

/// [`string`], for closures where a local named `string` shadows it.
fn string_lit(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
    string(meta)
}

/// Sets `slot` once; a second occurrence of the same key is an error at that key.
fn once<T>(
    slot: &mut Option<T>,
    value: T,
    meta: &ParseNestedMeta<'_>,
    key: &str,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("duplicate `{key}` attribute")));
    }
    *slot = Some(value);
    Ok(())
}

fn flag(slot: &mut Option<Span>, meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<()> {
    once(slot, meta.path.span(), meta, key)
}

/// `relation` / `relation(fields = "..", references = "..", model = "..")` on a field.
#[derive(Default)]
pub(crate) struct RelationAttr {
    /// Where the attribute is, for errors.
    pub(crate) span: Option<Span>,
    /// This model's join properties.
    pub(crate) fields: Option<Vec<String>>,
    /// The target model's join properties.
    pub(crate) references: Option<Vec<String>>,
    /// The target model's name, when not the related type's `ModelDef::MODEL_NAME`.
    pub(crate) model: Option<LitStr>,
}

/// The `#[ignis(..)]` keys of one field.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    pub(crate) property: Option<LitStr>,
    pub(crate) column: Option<LitStr>,
    pub(crate) pg_type: Option<LitStr>,
    pub(crate) default: Option<LitStr>,
    pub(crate) renamed_from: Option<LitStr>,
    pub(crate) primary_key: Option<Span>,
    pub(crate) hidden: Option<Span>,
    pub(crate) skip: Option<Span>,
    /// `unique` (the default name) or `unique = "UQ_.."`.
    pub(crate) unique: Option<Option<LitStr>>,
    /// `index` (the default name) or `index = "IDX_.."`.
    pub(crate) index: Option<Option<LitStr>>,
    pub(crate) relation: Option<RelationAttr>,
    pub(crate) foreign_key: Option<ForeignKeyAttr>,
    /// `identity` / `identity(by_default, start = ..)`.
    pub(crate) identity: Option<IdentityAttr>,
    /// `sequence(name = "..", start = ..)`: a serial column's sequence.
    pub(crate) sequence: Option<SerialAttr>,
    /// `collation = "C"`.
    pub(crate) collation: Option<LitStr>,
    /// `statistics = 500`.
    pub(crate) statistics: Option<i32>,
    /// `comment = ".."`.
    pub(crate) comment: Option<LitStr>,
    /// Span of the first key that describes a column (for "not on a relation" errors).
    column_key: Option<(Span, &'static str)>,
}

const FIELD_KEYS: &str = "property, column, pg_type, default, renamed_from, primary_key, hidden, \
                          unique, index, foreign_key(..), identity, sequence(..), collation, \
                          statistics, comment, relation, skip";

impl FieldAttrs {
    /// Reads every `#[ignis(..)]` attribute of a field.
    pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = FieldAttrs::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("ignis")) {
            attr.parse_nested_meta(|meta| out.key(&meta))?;
        }
        out.check()?;
        Ok(out)
    }

    fn column_key(&mut self, meta: &ParseNestedMeta<'_>, key: &'static str) {
        if self.column_key.is_none() {
            self.column_key = Some((meta.path.span(), key));
        }
    }

    fn key(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let Some(ident) = meta.path.get_ident() else {
            return Err(meta.error(format!(
                "unknown ignis field attribute; expected one of: {FIELD_KEYS}"
            )));
        };
        match ident.to_string().as_str() {
            "property" => once(&mut self.property, string(meta)?, meta, "property"),
            "column" => {
                self.column_key(meta, "column");
                once(&mut self.column, string(meta)?, meta, "column")
            }
            "pg_type" => {
                self.column_key(meta, "pg_type");
                let lit = string(meta)?;
                if let Err(why) = crate::types::check_pg_type(&lit.value()) {
                    return Err(syn::Error::new_spanned(
                        &lit,
                        format!("invalid Postgres type `{}`: {why}", lit.value()),
                    ));
                }
                once(&mut self.pg_type, lit, meta, "pg_type")
            }
            "default" => {
                self.column_key(meta, "default");
                once(&mut self.default, string(meta)?, meta, "default")
            }
            "renamed_from" => {
                self.column_key(meta, "renamed_from");
                once(&mut self.renamed_from, string(meta)?, meta, "renamed_from")
            }
            "primary_key" => {
                self.column_key(meta, "primary_key");
                flag(&mut self.primary_key, meta, "primary_key")
            }
            "hidden" => flag(&mut self.hidden, meta, "hidden"),
            "skip" => flag(&mut self.skip, meta, "skip"),
            "unique" => {
                self.column_key(meta, "unique");
                let name = if meta.input.peek(syn::Token![=]) {
                    Some(string(meta)?)
                } else {
                    None
                };
                once(&mut self.unique, name, meta, "unique")
            }
            "index" => {
                self.column_key(meta, "index");
                let name = if meta.input.peek(syn::Token![=]) {
                    Some(string(meta)?)
                } else {
                    None
                };
                once(&mut self.index, name, meta, "index")
            }
            "foreign_key" => {
                self.column_key(meta, "foreign_key");
                let fk = constraints::parse_foreign_key(meta, false)?;
                once(&mut self.foreign_key, fk, meta, "foreign_key")
            }
            "identity" => {
                self.column_key(meta, "identity");
                let identity = constraints::parse_identity(meta)?;
                once(&mut self.identity, identity, meta, "identity")
            }
            "sequence" => {
                self.column_key(meta, "sequence");
                let serial = constraints::parse_serial(meta)?;
                once(&mut self.sequence, serial, meta, "sequence")
            }
            "collation" => {
                self.column_key(meta, "collation");
                let lit = constraints::collation(string(meta)?)?;
                once(&mut self.collation, lit, meta, "collation")
            }
            "statistics" => {
                self.column_key(meta, "statistics");
                let target = constraints::statistics(meta)?;
                once(&mut self.statistics, target, meta, "statistics")
            }
            "comment" => {
                self.column_key(meta, "comment");
                once(&mut self.comment, string(meta)?, meta, "comment")
            }
            "relation" => {
                let rel = parse_relation(meta)?;
                once(&mut self.relation, rel, meta, "relation")
            }
            other => Err(meta.error(format!(
                "unknown ignis field attribute `{other}`; expected one of: {FIELD_KEYS}"
            ))),
        }
    }

    fn check(&self) -> syn::Result<()> {
        if let Some(skip) = self.skip {
            let others = self.property.is_some()
                || self.column_key.is_some()
                || self.hidden.is_some()
                || self.relation.is_some();
            if others {
                return Err(syn::Error::new(
                    skip,
                    "a `skip` field is neither read nor part of the model: it takes no other ignis attribute",
                ));
            }
        }
        if let (Some(rel), Some((span, key))) = (&self.relation, self.column_key) {
            let _ = rel;
            return Err(syn::Error::new(
                span,
                format!("`{key}` describes a column, but a `relation` field is not a column"),
            ));
        }
        if let (Some(identity), Some(_)) = (&self.identity, &self.sequence) {
            return Err(syn::Error::new(
                identity.span,
                "a column is either an identity (`identity`) or a serial (`sequence(..)`), not both",
            ));
        }
        if let (Some(identity), Some(_)) = (&self.identity, &self.default) {
            return Err(syn::Error::new(
                identity.span,
                "an identity column takes its values from its sequence: it has no `default`",
            ));
        }
        if let (Some(rel), Some(hidden)) = (&self.relation, self.hidden) {
            let _ = rel;
            return Err(syn::Error::new(
                hidden,
                "a `relation` field cannot be `hidden`",
            ));
        }
        Ok(())
    }
}

fn parse_relation(meta: &ParseNestedMeta<'_>) -> syn::Result<RelationAttr> {
    let mut rel = RelationAttr {
        span: Some(meta.path.span()),
        ..RelationAttr::default()
    };
    if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| {
            let key = inner.path.get_ident().map(ToString::to_string).unwrap_or_default();
            match key.as_str() {
                "fields" => once(&mut rel.fields, name_list(&string(&inner)?)?, &inner, "fields"),
                "references" => {
                    once(&mut rel.references, name_list(&string(&inner)?)?, &inner, "references")
                }
                "model" => once(&mut rel.model, string(&inner)?, &inner, "model"),
                _ => Err(inner.error(
                    "unknown relation option; expected `fields = \"..\"`, `references = \"..\"` or `model = \"..\"`",
                )),
            }
        })?;
    }
    Ok(rel)
}

/// One Ignis enricher named on the struct, with its options as the derive passes them on.
pub(crate) enum EnricherAttr {
    /// `id = "string" | "number" | "big-number"`.
    Id(String),
    /// `tz` or `tz(deleted)`.
    Tz { deleted: bool },
    /// `user_audit` or `user_audit = "string" | "number"`.
    UserAudit { string: bool },
    /// `data_type`.
    DataType,
    /// `user_columns` or `user_columns = "string" | "number"` (the `parentId` type).
    UserColumns { string: bool },
    /// `principal` or `principal(discriminator = "..", id_type = "..", default = "..")`.
    Principal {
        discriminator: Option<LitStr>,
        string_id: bool,
        default: Option<LitStr>,
    },
}

/// `unique(name = "..", properties = "a, b", deferrable, initially_deferred,
/// nulls_not_distinct)` on the struct: a unique constraint over several properties.
pub(crate) struct UniqueAttr {
    pub(crate) name: LitStr,
    pub(crate) properties: Vec<String>,
    pub(crate) deferrable: bool,
    pub(crate) initially_deferred: bool,
    pub(crate) nulls_not_distinct: bool,
}

/// `index(name = "..", properties = "a, b", method = "gin", where = "<sql>", unique,
/// include = "c")` on the struct.
pub(crate) struct IndexAttr {
    pub(crate) name: LitStr,
    /// Plain keys; empty when `keys` are given.
    pub(crate) properties: Vec<String>,
    /// `key(..)` keys with options, in order.
    pub(crate) keys: Vec<IndexKeyAttr>,
    /// `nulls_not_distinct`.
    pub(crate) nulls_not_distinct: bool,
    /// `with = "fillfactor = 70"`.
    pub(crate) storage_parameters: Vec<(String, String)>,
    pub(crate) method: Option<LitStr>,
    pub(crate) predicate: Option<LitStr>,
    pub(crate) unique: bool,
    pub(crate) include: Vec<String>,
}

/// `check(name = "..", expr = "<sql>")` on the struct.
pub(crate) struct CheckAttr {
    pub(crate) name: LitStr,
    pub(crate) expr: LitStr,
}

/// Column options of the enrichers, given in their parenthesized forms (`id(column = ..)`,
/// `tz(created_column = .., ..)`, `user_audit(created_column = .., ..)`); all `None` /
/// `false` means the enricher's defaults.
#[derive(Default)]
pub(crate) struct EnricherOptions {
    /// `id(column = "..")`.
    pub(crate) id_column: Option<LitStr>,
    /// `tz(created_column = "..")`, `tz(modified_column = "..")`, `tz(deleted_column = "..")`.
    pub(crate) tz_columns: [Option<LitStr>; 3],
    /// `tz(no_modified)`: no `modifiedAt`.
    pub(crate) tz_no_modified: bool,
    /// `tz(without_time_zone)`: `timestamp without time zone` columns.
    pub(crate) tz_without_time_zone: bool,
    /// `user_audit(created_column = "..", modified_column = "..")`.
    pub(crate) audit_columns: [Option<LitStr>; 2],
}

/// The `#[ignis(..)]` keys of the struct.
#[derive(Default)]
pub(crate) struct StructAttrs {
    pub(crate) name: Option<LitStr>,
    pub(crate) table: Option<LitStr>,
    pub(crate) schema: Option<LitStr>,
    pub(crate) skip_migrate: Option<Span>,
    pub(crate) enrichers: Vec<EnricherAttr>,
    /// Multi-property unique constraints, in the order written.
    pub(crate) uniques: Vec<UniqueAttr>,
    /// Struct-level indexes, in the order written.
    pub(crate) indexes: Vec<IndexAttr>,
    /// Check constraints, in the order written.
    pub(crate) checks: Vec<CheckAttr>,
    /// Struct-level foreign keys (several properties, or options), in the order written.
    pub(crate) foreign_keys: Vec<ForeignKeyAttr>,
    /// Exclusion constraints, in the order written.
    pub(crate) exclusions: Vec<ExclusionAttr>,
    /// `primary_key(name = .., order = .., deferrable, initially_deferred)`.
    pub(crate) primary_key: Option<PrimaryKeyAttr>,
    /// `comment = ".."`: the table's comment.
    pub(crate) comment: Option<LitStr>,
    /// `default_filter = r#"{"where": ..}"#`: Ignis filter JSON, checked to be an object.
    pub(crate) default_filter: Option<LitStr>,
    /// `renamed_from = "old_table"`: the table's previous name.
    pub(crate) renamed_from: Option<LitStr>,
    /// The enrichers' column options.
    pub(crate) enricher_options: EnricherOptions,
}

const STRUCT_KEYS: &str = "name, table, schema, skip_migrate, renamed_from, default_filter, \
                           comment, primary_key(..), unique(..), index(..), check(..), \
                           foreign_key(..), exclusion(..), id, tz, user_audit, data_type, \
                           user_columns, principal";

/// Keys a struct may repeat (one constraint each).
const REPEATABLE: &[&str] = &["unique", "index", "check", "foreign_key", "exclusion"];

/// A constraint or index name: 1 to 63 bytes (Postgres truncates longer names).
fn object_name(lit: LitStr) -> syn::Result<LitStr> {
    let len = lit.value().len();
    if len == 0 || len > 63 {
        return Err(syn::Error::new_spanned(
            &lit,
            format!("a constraint or index name has 1 to 63 bytes, not {len}"),
        ));
    }
    Ok(lit)
}

/// SQL written by the model's author (a check expression, an index predicate): not empty.
fn sql_text(lit: LitStr, what: &str) -> syn::Result<LitStr> {
    if lit.value().trim().is_empty() {
        return Err(syn::Error::new_spanned(
            &lit,
            format!("the {what} is empty"),
        ));
    }
    Ok(lit)
}

fn required<T>(value: Option<T>, meta: &ParseNestedMeta<'_>, example: &str) -> syn::Result<T> {
    value.ok_or_else(|| meta.error(format!("expected {example}")))
}

fn parse_unique(meta: &ParseNestedMeta<'_>) -> syn::Result<UniqueAttr> {
    const EXAMPLE: &str =
        "`unique(name = \"UQ_..\", properties = \"a, b\")` (optionally with `deferrable`, \
         `initially_deferred`, `nulls_not_distinct`)";
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!("expected {EXAMPLE}")));
    }
    let (mut name, mut properties) = (None, None);
    let (mut deferrable, mut initially_deferred, mut nulls_not_distinct) = (None, None, None);
    meta.parse_nested_meta(|inner| {
        let key = inner
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        match key.as_str() {
            "name" => once(&mut name, object_name(string(&inner)?)?, &inner, "name"),
            "properties" => once(
                &mut properties,
                name_list(&string(&inner)?)?,
                &inner,
                "properties",
            ),
            "deferrable" => flag(&mut deferrable, &inner, "deferrable"),
            "initially_deferred" => flag(&mut initially_deferred, &inner, "initially_deferred"),
            "nulls_not_distinct" => flag(&mut nulls_not_distinct, &inner, "nulls_not_distinct"),
            _ => Err(inner.error(format!("unknown unique option; expected {EXAMPLE}"))),
        }
    })?;
    Ok(UniqueAttr {
        name: required(name, meta, EXAMPLE)?,
        properties: required(properties, meta, EXAMPLE)?,
        deferrable: deferrable.is_some() || initially_deferred.is_some(),
        initially_deferred: initially_deferred.is_some(),
        nulls_not_distinct: nulls_not_distinct.is_some(),
    })
}

fn parse_index(meta: &ParseNestedMeta<'_>) -> syn::Result<IndexAttr> {
    const EXAMPLE: &str = "`index(name = \"IDX_..\", properties = \"a, b\")` or `index(name = \
                           \"IDX_..\", key(property = \"a\", opclass = \"..\"), key(expression = \
                           \"lower(b)\"))` (optionally with `method = \"gin\"`, `where = \
                           \"<sql>\"`, `unique`, `include = \"c\"`, `nulls_not_distinct`, `with = \
                           \"fillfactor = 70\"`)";
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!(
            "on the struct, `index` needs its name and properties: {EXAMPLE} (a field's own \
             `#[ignis(index)]` indexes that field)"
        )));
    }
    let (mut name, mut properties, mut method, mut predicate) = (None, None, None, None);
    let (mut unique, mut include) = (None, None);
    let (mut nulls_not_distinct, mut storage) = (None, None);
    let mut keys = Vec::new();
    meta.parse_nested_meta(|inner| {
        let key = inner
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        match key.as_str() {
            "name" => once(&mut name, object_name(string(&inner)?)?, &inner, "name"),
            "properties" => once(
                &mut properties,
                name_list(&string(&inner)?)?,
                &inner,
                "properties",
            ),
            "method" => {
                let lit = string(&inner)?;
                let value = lit.value();
                let plain = !value.is_empty()
                    && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !plain {
                    return Err(syn::Error::new_spanned(
                        &lit,
                        "an index method is an access method's name: `btree`, `hash`, `gin`, \
                         `gist`, `spgist`, `brin`, ...",
                    ));
                }
                once(&mut method, lit, &inner, "method")
            }
            "where" => once(
                &mut predicate,
                sql_text(string(&inner)?, "index predicate")?,
                &inner,
                "where",
            ),
            "unique" => flag(&mut unique, &inner, "unique"),
            "key" => {
                keys.push(constraints::parse_index_key(&inner)?);
                Ok(())
            }
            "nulls_not_distinct" => flag(&mut nulls_not_distinct, &inner, "nulls_not_distinct"),
            "with" => once(
                &mut storage,
                constraints::storage_parameters(&string(&inner)?)?,
                &inner,
                "with",
            ),
            "include" => once(
                &mut include,
                name_list(&string(&inner)?)?,
                &inner,
                "include",
            ),
            _ => Err(inner.error(format!("unknown index option; expected {EXAMPLE}"))),
        }
    })?;
    let properties = match (properties, keys.is_empty()) {
        (Some(p), true) => p,
        (None, false) => Vec::new(),
        (Some(_), false) => {
            return Err(meta.error(format!(
                "an index's keys are either `properties = \"..\"` or `key(..)` items, not both: \
                 {EXAMPLE}"
            )))
        }
        (None, true) => return Err(meta.error(format!("expected {EXAMPLE}"))),
    };
    Ok(IndexAttr {
        name: required(name, meta, EXAMPLE)?,
        properties,
        keys,
        nulls_not_distinct: nulls_not_distinct.is_some(),
        storage_parameters: storage.unwrap_or_default(),
        method,
        predicate,
        unique: unique.is_some(),
        include: include.unwrap_or_default(),
    })
}

fn parse_check(meta: &ParseNestedMeta<'_>) -> syn::Result<CheckAttr> {
    const EXAMPLE: &str = "`check(name = \"CK_..\", expr = \"<sql>\")`";
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!("expected {EXAMPLE}")));
    }
    let (mut name, mut expr) = (None, None);
    meta.parse_nested_meta(|inner| {
        let key = inner
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        match key.as_str() {
            "name" => once(&mut name, object_name(string(&inner)?)?, &inner, "name"),
            "expr" => once(
                &mut expr,
                sql_text(string(&inner)?, "check expression")?,
                &inner,
                "expr",
            ),
            _ => Err(inner.error(format!("unknown check option; expected {EXAMPLE}"))),
        }
    })?;
    Ok(CheckAttr {
        name: required(name, meta, EXAMPLE)?,
        expr: required(expr, meta, EXAMPLE)?,
    })
}

/// `default_filter = ".."`: JSON text that is an object (an Ignis filter).
fn default_filter(lit: LitStr) -> syn::Result<LitStr> {
    match serde_json::from_str::<serde_json::Value>(&lit.value()) {
        Ok(serde_json::Value::Object(_)) => Ok(lit),
        Ok(_) => Err(syn::Error::new_spanned(
            &lit,
            "a default filter is an Ignis filter: a JSON object such as {\"where\": {\"deletedAt\": null}}",
        )),
        Err(e) => Err(syn::Error::new_spanned(
            &lit,
            format!("the default filter is not JSON: {e}"),
        )),
    }
}

/// The kind of `id = ".."` / `id(data_type = "..")`.
fn id_kind(lit: &LitStr) -> syn::Result<String> {
    let kind = lit.value().replace('_', "-");
    if !matches!(kind.as_str(), "string" | "number" | "big-number") {
        return Err(syn::Error::new_spanned(
            lit,
            "`id` takes \"string\", \"number\" or \"big-number\"",
        ));
    }
    Ok(kind)
}

/// A column name given to an enricher: 1 to 63 bytes.
fn column_name(lit: LitStr) -> syn::Result<LitStr> {
    let len = lit.value().len();
    if len == 0 || len > 63 {
        return Err(syn::Error::new_spanned(
            &lit,
            format!("a column name has 1 to 63 bytes, not {len}"),
        ));
    }
    Ok(lit)
}

fn string_or_number(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<bool> {
    if !meta.input.peek(syn::Token![=]) {
        return Ok(false);
    }
    let lit = string(meta)?;
    match lit.value().as_str() {
        "string" => Ok(true),
        "number" => Ok(false),
        other => Err(syn::Error::new_spanned(
            &lit,
            format!("`{key}` takes \"string\" or \"number\", not \"{other}\""),
        )),
    }
}

impl StructAttrs {
    /// Reads every `#[ignis(..)]` attribute of the struct.
    pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = StructAttrs::default();
        let mut seen: Vec<String> = Vec::new();
        for attr in attrs.iter().filter(|a| a.path().is_ident("ignis")) {
            attr.parse_nested_meta(|meta| {
                let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
                if seen.contains(&key) && !REPEATABLE.contains(&key.as_str()) {
                    return Err(meta.error(format!("duplicate `{key}` attribute")));
                }
                seen.push(key.clone());
                match key.as_str() {
                    "name" => out.name = Some(string(&meta)?),
                    "table" => out.table = Some(string(&meta)?),
                    "schema" => out.schema = Some(string(&meta)?),
                    "skip_migrate" => out.skip_migrate = Some(meta.path.span()),
                    "renamed_from" => out.renamed_from = Some(string(&meta)?),
                    "default_filter" => {
                        out.default_filter = Some(default_filter(string(&meta)?)?);
                    }
                    "unique" => out.uniques.push(parse_unique(&meta)?),
                    "index" => out.indexes.push(parse_index(&meta)?),
                    "check" => out.checks.push(parse_check(&meta)?),
                    "foreign_key" => out
                        .foreign_keys
                        .push(constraints::parse_foreign_key(&meta, true)?),
                    "exclusion" => out.exclusions.push(constraints::parse_exclusion(&meta)?),
                    "primary_key" => {
                        out.primary_key = Some(constraints::parse_primary_key(&meta)?);
                    }
                    "comment" => out.comment = Some(string(&meta)?),
                    "id" => {
                        let kind = if meta.input.peek(syn::token::Paren) {
                            let mut kind = None;
                            let options = &mut out.enricher_options;
                            meta.parse_nested_meta(|inner| {
                                if inner.path.is_ident("data_type") {
                                    let k = id_kind(&string(&inner)?)?;
                                    once(&mut kind, k, &inner, "data_type")
                                } else if inner.path.is_ident("column") {
                                    let c = column_name(string(&inner)?)?;
                                    once(&mut options.id_column, c, &inner, "column")
                                } else {
                                    Err(inner.error(
                                        "unknown id option; expected `data_type = \"string\" | \"number\" | \"big-number\"` or `column = \"..\"`",
                                    ))
                                }
                            })?;
                            kind.unwrap_or_else(|| "number".to_string())
                        } else {
                            id_kind(&string(&meta)?)?
                        };
                        out.enrichers.push(EnricherAttr::Id(kind));
                    }
                    "tz" => {
                        let mut deleted = false;
                        if meta.input.peek(syn::token::Paren) {
                            let options = &mut out.enricher_options;
                            meta.parse_nested_meta(|inner| {
                                let key = inner
                                    .path
                                    .get_ident()
                                    .map(ToString::to_string)
                                    .unwrap_or_default();
                                let slot = match key.as_str() {
                                    "deleted" => {
                                        deleted = true;
                                        return Ok(());
                                    }
                                    "no_modified" => {
                                        options.tz_no_modified = true;
                                        return Ok(());
                                    }
                                    "without_time_zone" => {
                                        options.tz_without_time_zone = true;
                                        return Ok(());
                                    }
                                    "created_column" => 0,
                                    "modified_column" => 1,
                                    "deleted_column" => 2,
                                    _ => {
                                        return Err(inner.error(
                                            "unknown tz option; expected `deleted`, `no_modified`, `without_time_zone`, `created_column = \"..\"`, `modified_column = \"..\"` or `deleted_column = \"..\"`",
                                        ))
                                    }
                                };
                                let c = column_name(string(&inner)?)?;
                                once(&mut options.tz_columns[slot], c, &inner, &key)
                            })?;
                            let o = &out.enricher_options;
                            if o.tz_columns[1].is_some() && o.tz_no_modified {
                                return Err(meta.error(
                                    "`tz(no_modified)` has no modifiedAt column to name",
                                ));
                            }
                            if o.tz_columns[2].is_some() && !deleted {
                                return Err(meta.error(
                                    "`deleted_column` names the deletedAt column, which only `tz(deleted)` adds",
                                ));
                            }
                        }
                        out.enrichers.push(EnricherAttr::Tz { deleted });
                    }
                    "user_audit" => {
                        let string = if meta.input.peek(syn::token::Paren) {
                            let mut string = false;
                            let options = &mut out.enricher_options;
                            meta.parse_nested_meta(|inner| {
                                let key = inner
                                    .path
                                    .get_ident()
                                    .map(ToString::to_string)
                                    .unwrap_or_default();
                                let slot = match key.as_str() {
                                    "data_type" => {
                                        string = string_or_number(&inner, "data_type")?;
                                        return Ok(());
                                    }
                                    "created_column" => 0,
                                    "modified_column" => 1,
                                    _ => {
                                        return Err(inner.error(
                                            "unknown user_audit option; expected `data_type = \"string\" | \"number\"`, `created_column = \"..\"` or `modified_column = \"..\"`",
                                        ))
                                    }
                                };
                                let c = column_name(string_lit(&inner)?)?;
                                once(&mut options.audit_columns[slot], c, &inner, &key)
                            })?;
                            string
                        } else {
                            string_or_number(&meta, "user_audit")?
                        };
                        out.enrichers.push(EnricherAttr::UserAudit { string });
                    }
                    "data_type" => out.enrichers.push(EnricherAttr::DataType),
                    "user_columns" => {
                        let string = !meta.input.peek(syn::Token![=])
                            || string_or_number(&meta, "user_columns")?;
                        out.enrichers.push(EnricherAttr::UserColumns { string });
                    }
                    "principal" => {
                        let mut discriminator = None;
                        let mut string_id = false;
                        let mut default = None;
                        if meta.input.peek(syn::token::Paren) {
                            meta.parse_nested_meta(|inner| {
                                let key =
                                    inner.path.get_ident().map(ToString::to_string).unwrap_or_default();
                                match key.as_str() {
                                    "discriminator" => discriminator = Some(string(&inner)?),
                                    "id_type" => string_id = string_or_number(&inner, "id_type")?,
                                    "default" => default = Some(string(&inner)?),
                                    _ => {
                                        return Err(inner.error(
                                            "unknown principal option; expected `discriminator`, `id_type` or `default`",
                                        ))
                                    }
                                }
                                Ok(())
                            })?;
                        }
                        out.enrichers.push(EnricherAttr::Principal {
                            discriminator,
                            string_id,
                            default,
                        });
                    }
                    other => {
                        return Err(meta.error(format!(
                            "unknown ignis struct attribute `{other}`; expected one of: {STRUCT_KEYS}"
                        )))
                    }
                }
                Ok(())
            })?;
        }
        Ok(out)
    }
}
