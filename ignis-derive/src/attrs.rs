//! Parsing of the `#[ignis(..)]` attributes, shared by both derives: a key either derive knows
//! is accepted by both (one struct usually derives both), anything else is a compile error that
//! points at the key.

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

/// `foreign_key(model = "User", references = "id", name = "..")` on a field.
pub(crate) struct ForeignKeyAttr {
    /// The referenced model.
    pub(crate) model: LitStr,
    /// The referenced properties (`id` when not given).
    pub(crate) references: Vec<String>,
    /// The constraint name, when not `FK_{Model}_{property}_{Target}_{references}`.
    pub(crate) name: Option<LitStr>,
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
    /// Span of the first key that describes a column (for "not on a relation" errors).
    column_key: Option<(Span, &'static str)>,
}

const FIELD_KEYS: &str = "property, column, pg_type, default, renamed_from, primary_key, hidden, \
                          unique, index, foreign_key(..), relation, skip";

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
                let fk = parse_foreign_key(meta)?;
                once(&mut self.foreign_key, fk, meta, "foreign_key")
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

fn parse_foreign_key(meta: &ParseNestedMeta<'_>) -> syn::Result<ForeignKeyAttr> {
    let mut model = None;
    let mut references = None;
    let mut name = None;
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error("expected `foreign_key(model = \"User\")` (optionally with `references = \"id\"`, `name = \"..\"`)"));
    }
    meta.parse_nested_meta(|inner| {
        let key = inner.path.get_ident().map(ToString::to_string).unwrap_or_default();
        match key.as_str() {
            "model" => once(&mut model, string(&inner)?, &inner, "model"),
            "references" => once(&mut references, name_list(&string(&inner)?)?, &inner, "references"),
            "name" => once(&mut name, string(&inner)?, &inner, "name"),
            _ => Err(inner.error(
                "unknown foreign_key option; expected `model = \"..\"`, `references = \"..\"` or `name = \"..\"`",
            )),
        }
    })?;
    let Some(model) = model else {
        return Err(
            meta.error("`foreign_key` needs the referenced model: `foreign_key(model = \"User\")`")
        );
    };
    Ok(ForeignKeyAttr {
        model,
        references: references.unwrap_or_else(|| vec!["id".to_string()]),
        name,
    })
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

/// The `#[ignis(..)]` keys of the struct.
#[derive(Default)]
pub(crate) struct StructAttrs {
    pub(crate) name: Option<LitStr>,
    pub(crate) table: Option<LitStr>,
    pub(crate) schema: Option<LitStr>,
    pub(crate) skip_migrate: Option<Span>,
    pub(crate) enrichers: Vec<EnricherAttr>,
}

const STRUCT_KEYS: &str = "name, table, schema, skip_migrate, id, tz, user_audit, data_type, \
                           user_columns, principal";

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
                if seen.contains(&key) {
                    return Err(meta.error(format!("duplicate `{key}` attribute")));
                }
                seen.push(key.clone());
                match key.as_str() {
                    "name" => out.name = Some(string(&meta)?),
                    "table" => out.table = Some(string(&meta)?),
                    "schema" => out.schema = Some(string(&meta)?),
                    "skip_migrate" => out.skip_migrate = Some(meta.path.span()),
                    "id" => {
                        let lit = string(&meta)?;
                        let kind = lit.value().replace('_', "-");
                        if !matches!(kind.as_str(), "string" | "number" | "big-number") {
                            return Err(syn::Error::new_spanned(
                                &lit,
                                "`id` takes \"string\", \"number\" or \"big-number\"",
                            ));
                        }
                        out.enrichers.push(EnricherAttr::Id(kind));
                    }
                    "tz" => {
                        let mut deleted = false;
                        if meta.input.peek(syn::token::Paren) {
                            meta.parse_nested_meta(|inner| {
                                if inner.path.is_ident("deleted") {
                                    deleted = true;
                                    Ok(())
                                } else {
                                    Err(inner.error("unknown tz option; expected `deleted`"))
                                }
                            })?;
                        }
                        out.enrichers.push(EnricherAttr::Tz { deleted });
                    }
                    "user_audit" => {
                        let string = string_or_number(&meta, "user_audit")?;
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
