//! `pull --rust`: a schema as Rust source, one `#[derive(Model, FromRow)]` struct per model.
//!
//! [`to_rust`] writes what `cargo xtask migrate pull --rust` prints: the models of a [`Schema`]
//! (usually the one [`crate::pull()`] read from a live database) as structs that the
//! `ignis-derive` derives turn back into the same models, so a brownfield database gets typed
//! models that compile as they are:
//!
//! - one `pub struct` per model, named in UpperCamelCase after the model (`perfdata_item` ->
//!   `PerfdataItem`; `#[ignis(name = "..")]` keeps the model's own name), with `table`,
//!   `schema` and `skip_migrate` when they are not the defaults;
//! - one `pub` field per column, named in snake_case after the property (a Rust keyword as a
//!   raw identifier, `r#type`), with `property` / `column` only where the derive's defaults
//!   (lowerCamelCase / snake_case of the field name) differ; `Option<T>` for a nullable column;
//!   `primary_key`, `default`, `renamed_from` and `hidden` as the column has them;
//! - the Rust type the derive maps to the column's Postgres type (`i32` integer,
//!   `chrono::DateTime<chrono::Utc>` timestamptz, `Vec<Option<String>>` text[], ...: the
//!   inverse of the derive's table). A type with no exact Rust type keeps its Postgres type in
//!   `pg_type = ".."` on the nearest Rust type that decodes it (`String` for varchar(40),
//!   `std::net::IpAddr` for inet); where no Rust type of the workspace's crates decodes it
//!   (numeric, interval, an enum or a domain), the field is a `String` with a comment saying so:
//!   the model is exact, reading that property fails until the type is replaced;
//! - single-property unique constraints (`unique`), plain single-property indexes (`index`) and
//!   single-property foreign keys to a model (`foreign_key(model = "..")`), named only when the
//!   name is not the derive's default; relations as `Vec<T>` / `Option<T>` fields with
//!   `relation(..)`;
//! - `models()` (the derived models), `enums()` (the schema's enum types, as data) and
//!   `schema()`, the [`Schema`] of both.
//!
//! The derive cannot yet say everything a schema holds: multi-property unique constraints and
//! foreign keys, indexes with options (method, predicate, keys with operator classes or sort
//! order, `INCLUDE`), foreign keys with actions or to a table no model describes, identity
//! columns, serial sequence options, collations, statistics targets, comments, check and
//! exclusion constraints, primary key names and orders, default filters. [`to_rust_lossy`]
//! writes the structs without them and lists each one (model and object); [`to_rust`] refuses
//! with that list. A one relation that would make a struct contain itself (`Option<Self>`, or
//! two models holding each other) is left out the same way.
//!
//! Unique constraints, indexes, foreign keys and hidden properties come out in field order,
//! which may differ from the schema's order; that order means nothing to the migrator.
//!
//! ```
//! use ignis_schema::{Column, Model, PgType, Schema};
//! let schema = Schema::new(vec![Model::new("tag")
//!     .column(Column::new("id", PgType::BigInt).primary_key())
//!     .column(Column::new("label", PgType::Varchar(Some(40))).not_null())
//!     .column(Column::new("createdAt", PgType::TIMESTAMPTZ))])
//! .unwrap();
//! let rust = ignis_migrate::pull_rust::to_rust(&schema).unwrap();
//! assert!(rust.contains("#[ignis(name = \"tag\")]\npub struct Tag {"));
//! assert!(rust.contains("    #[ignis(pg_type = \"character varying(40)\")]\n    pub label: String,"));
//! assert!(rust.contains("    pub created_at: Option<chrono::DateTime<chrono::Utc>>,"));
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use ignis_schema::{
    snake_case, ForeignKey, ForeignKeyTarget, Index, Model, PgType, Relation, RelationKind, Schema,
};

/// The Rust source of a schema and what it leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustSource {
    /// The source: structs, `models()`, `enums()`, `schema()`.
    pub source: String,
    /// One line per thing of the schema the structs do not express, naming the model and the
    /// object (`model everything: check constraint ck_everything_amounts`). Empty when the
    /// source reproduces the schema.
    pub lost: Vec<String>,
}

/// What [`to_rust`] refuses: the schema holds what the derive cannot express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the typed models would not reproduce the schema; the derive cannot express {}:\n  {}",
    lost.len(),
    lost.join("\n  ")
)]
pub struct Inexpressible {
    /// As [`RustSource::lost`].
    pub lost: Vec<String>,
}

/// The Rust source of `schema` (see the [module documentation](self)).
///
/// # Errors
/// [`Inexpressible`], listing each thing of the schema the structs would leave out, when
/// there is any; [`to_rust_lossy`] writes the source anyway.
pub fn to_rust(schema: &Schema) -> Result<String, Inexpressible> {
    let out = to_rust_lossy(schema);
    if out.lost.is_empty() {
        Ok(out.source)
    } else {
        Err(Inexpressible { lost: out.lost })
    }
}

/// The Rust source of `schema`, with what it leaves out (see the
/// [module documentation](self)). Never fails: what cannot be expressed is listed.
pub fn to_rust_lossy(schema: &Schema) -> RustSource {
    let mut lost = Vec::new();
    let models = schema.models();
    let idents = struct_idents(models);
    let relations = acyclic_relations(models, &idents, &mut lost);
    let mut source = String::from(HEADER);
    for (model, ident) in models.iter().zip(&idents) {
        let rels = relations
            .get(model.name.as_str())
            .cloned()
            .unwrap_or_default();
        write_struct(&mut source, model, ident, &rels, &idents, models, &mut lost);
    }
    write_functions(&mut source, schema, &idents);
    RustSource { source, lost }
}

const HEADER: &str = "\
// Typed models, written by `cargo xtask migrate pull --rust`: each struct derives the model
// (`ignis_schema::Model`) the schema holds and reads its rows (`ignis_repo::FromRow`).
// Needs the crates ignis-schema, ignis-repo, chrono, serde_json and uuid.

use ignis_repo::FromRow;
use ignis_schema::{Model, ModelDef};
";

/// Names a generated struct must not take: the imports above and the prelude types the fields
/// use.
const RESERVED_TYPES: &[&str] = &[
    "Model",
    "ModelDef",
    "FromRow",
    "Option",
    "Vec",
    "String",
    "Box",
    "Result",
    "Some",
    "None",
    "Ok",
    "Err",
    "Self",
    "Default",
    "Clone",
    "Debug",
    "PartialEq",
];

/// Rust keywords (all editions, reserved ones too); those in the second list cannot be raw.
const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "else", "enum", "extern", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static",
    "struct", "trait", "true", "type", "unsafe", "use", "where", "while", "async", "await", "dyn",
    "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized",
    "virtual", "yield", "try", "gen",
];
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// The words of a name: runs of ASCII letters and digits, split at case changes as
/// [`snake_case`] splits them.
fn words(name: &str) -> Vec<String> {
    snake_case(name)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// `perfdata_item` -> `PerfdataItem`, `audit.log` -> `AuditLog`: a model's struct name.
fn upper_camel(name: &str) -> String {
    let mut out: String = words(name)
        .iter()
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "Model");
    }
    if RESERVED_TYPES.contains(&out.as_str()) {
        out.push_str("Row");
    }
    out
}

/// One struct name per model, unique (`_2`, `_3` appended on a clash).
fn struct_idents(models: &[Model]) -> Vec<String> {
    let mut used = HashSet::new();
    models
        .iter()
        .map(|m| unique_name(upper_camel(&m.name), &mut used))
        .collect()
}

fn unique_name(base: String, used: &mut HashSet<String>) -> String {
    let mut name = base.clone();
    let mut n = 2;
    while !used.insert(name.clone()) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

/// `createdBy` -> `created_by`, `type` -> `type` (written `r#type`): a property's field name,
/// without the raw prefix.
fn field_base(property: &str) -> String {
    let mut out: String = snake_case(property)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if out.chars().all(|c| c == '_') || NOT_RAW.contains(&out.as_str()) {
        out.push_str("_field");
    }
    out
}

/// The field as written: a keyword as a raw identifier.
fn field_ident(name: &str) -> String {
    if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_string()
    }
}

/// The derive's property of a field name: `created_at` -> `createdAt` (as `ignis-derive`'s
/// `lower_camel`: leading underscores kept, each letter after an underscore upper-cased).
fn lower_camel(name: &str) -> String {
    let leading = name.len() - name.trim_start_matches('_').len();
    let mut out = String::with_capacity(name.len());
    out.push_str(&name[..leading]);
    let mut upper_next = false;
    for c in name[leading..].chars() {
        if c == '_' {
            upper_next = true;
        } else if upper_next {
            out.extend(c.to_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `User` -> `user` (the first word of a many relation's default reference, `userId`).
fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A Rust string literal.
fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// How a Postgres type is written as a field.
struct RustType {
    /// The Rust type (without `Option`).
    ty: String,
    /// The derive maps `ty` to exactly this Postgres type (no `pg_type` needed).
    exact: bool,
    /// The `postgres` crate decodes this Postgres type into `ty`.
    decodes: bool,
}

fn rust_type(pg: &PgType) -> RustType {
    let t = |ty: &str, exact: bool, decodes: bool| RustType {
        ty: ty.to_string(),
        exact,
        decodes,
    };
    match pg {
        PgType::SmallInt => t("i16", true, true),
        PgType::Integer => t("i32", true, true),
        PgType::BigInt => t("i64", true, true),
        PgType::Real => t("f32", true, true),
        PgType::DoublePrecision => t("f64", true, true),
        PgType::Boolean => t("bool", true, true),
        PgType::Text => t("String", true, true),
        PgType::Varchar(_) | PgType::Char(_) => t("String", false, true),
        PgType::Bytea => t("Vec<u8>", true, true),
        PgType::Jsonb => t("serde_json::Value", true, true),
        PgType::Json => t("serde_json::Value", false, true),
        PgType::Timestamp {
            precision,
            with_time_zone: true,
        } => t("chrono::DateTime<chrono::Utc>", precision.is_none(), true),
        PgType::Timestamp {
            precision,
            with_time_zone: false,
        } => t("chrono::NaiveDateTime", precision.is_none(), true),
        PgType::Date => t("chrono::NaiveDate", true, true),
        PgType::Time {
            precision,
            with_time_zone: false,
        } => t("chrono::NaiveTime", precision.is_none(), true),
        PgType::Uuid => t("uuid::Uuid", true, true),
        PgType::Inet => t("std::net::IpAddr", false, true),
        PgType::Array(inner) => {
            let element = rust_type(inner);
            RustType {
                ty: format!("Vec<Option<{}>>", element.ty),
                exact: element.exact,
                decodes: element.decodes,
            }
        }
        PgType::Custom(name) => match name.as_str() {
            "serial" | "serial4" => t("i32", false, true),
            "bigserial" | "serial8" => t("i64", false, true),
            "smallserial" | "serial2" => t("i16", false, true),
            "citext" | "name" => t("String", false, true),
            _ => t("String", false, false),
        },
        // numeric (no decimal crate among the workspace's), interval, time with time zone,
        // cidr, and any type added later.
        _ => t("String", false, false),
    }
}

/// The field of one column or relation, before it is written.
#[derive(Default)]
struct Field {
    comment: Option<String>,
    attrs: Vec<String>,
    ident: String,
    ty: String,
}

/// The one relations kept: those that do not make a struct contain itself (a one relation is
/// an `Option<T>` held inline). Keyed by model name, each model's relations to write, in order.
fn acyclic_relations<'m>(
    models: &'m [Model],
    idents: &[String],
    lost: &mut Vec<String>,
) -> HashMap<&'m str, Vec<&'m Relation>> {
    let index: HashMap<&str, usize> = models
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    let mut inline: Vec<Vec<usize>> = vec![Vec::new(); models.len()];
    let reaches = |inline: &Vec<Vec<usize>>, from: usize, to: usize| {
        let mut seen = vec![false; inline.len()];
        let mut stack = vec![from];
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if !std::mem::replace(&mut seen[n], true) {
                stack.extend(&inline[n]);
            }
        }
        false
    };
    let mut out: HashMap<&str, Vec<&Relation>> = HashMap::new();
    for (i, m) in models.iter().enumerate() {
        for r in &m.relations {
            let Some(&target) = index.get(r.target.as_str()) else {
                lost.push(format!(
                    "model {}: relation {} to {}, a model the schema does not have",
                    m.name, r.name, r.target
                ));
                continue;
            };
            if r.kind == RelationKind::One {
                if reaches(&inline, target, i) {
                    lost.push(format!(
                        "model {}: one relation {} (an Option<{}> field would make {} contain \
                         itself)",
                        m.name, r.name, idents[target], idents[i]
                    ));
                    continue;
                }
                inline[i].push(target);
            }
            out.entry(m.name.as_str()).or_default().push(r);
        }
    }
    out
}

fn write_struct(
    out: &mut String,
    model: &Model,
    ident: &str,
    relations: &[&Relation],
    idents: &[String],
    models: &[Model],
    lost: &mut Vec<String>,
) {
    let name = &model.name;
    let mut loss = |what: String| lost.push(format!("model {name}: {what}"));

    // Model-level attributes the derive has no key for.
    if model.default_filter.is_some() {
        loss("default filter".into());
    }
    for c in &model.checks {
        loss(format!("check constraint {}", c.name));
    }
    for x in &model.exclusions {
        loss(format!("exclusion constraint {}", x.name));
    }
    if let Some(old) = &model.renamed_from {
        loss(format!("renamed from table {old}"));
    }
    if let Some(pk) = &model.primary_key_constraint {
        loss(format!("primary key name {pk}"));
    }
    if !model.primary_key_order.is_empty() {
        loss(format!(
            "primary key order ({})",
            model.primary_key_order.join(", ")
        ));
    }
    if model.primary_key_deferrable || model.primary_key_initially_deferred {
        loss("DEFERRABLE primary key".into());
    }
    if model.comment.is_some() {
        loss("table comment".into());
    }

    // Constraints that fit one field's attributes, by property.
    let mut unique: HashMap<&str, String> = HashMap::new();
    for u in &model.uniques {
        match u.properties.as_slice() {
            [p] if u.is_plain() && !unique.contains_key(p.as_str()) => {
                let attr = if u.name == format!("UQ_{name}_{p}") {
                    "unique".to_string()
                } else {
                    format!("unique = {}", lit(&u.name))
                };
                unique.insert(p, attr);
            }
            _ => loss(format!(
                "unique constraint {} on ({}){}",
                u.name,
                u.properties.join(", "),
                if u.is_plain() {
                    ""
                } else {
                    " with DEFERRABLE / NULLS NOT DISTINCT"
                }
            )),
        }
    }
    let mut index: HashMap<&str, String> = HashMap::new();
    for i in &model.indexes {
        match i.properties.as_slice() {
            [p] if *i == Index::new(i.name.clone(), [p.clone()])
                && !index.contains_key(p.as_str()) =>
            {
                let attr = if i.name == format!("IDX_{name}_{p}") {
                    "index".to_string()
                } else {
                    format!("index = {}", lit(&i.name))
                };
                index.insert(p, attr);
            }
            _ => loss(format!(
                "index {} (only plain indexes on one property have a derive attribute)",
                i.name
            )),
        }
    }
    let mut foreign: HashMap<&str, String> = HashMap::new();
    for fk in &model.foreign_keys {
        if let Some((p, attr)) = foreign_key_attr(name, fk) {
            if !foreign.contains_key(p) {
                foreign.insert(p, attr);
                continue;
            }
        }
        let target = match &fk.target {
            ForeignKeyTarget::Model { model, .. } => format!("model {model}"),
            ForeignKeyTarget::Table { schema, table, .. } => format!("table {schema}.{table}"),
        };
        loss(format!(
            "foreign key {} on ({}) to {target} (only foreign keys from one property to a model, \
             without actions, MATCH FULL or DEFERRABLE, have a derive attribute)",
            fk.name,
            fk.properties.join(", ")
        ));
    }
    for h in &model.hidden {
        if model.column_by_property(h).is_none() {
            loss(format!("hidden property {h}, which is no column"));
        }
    }

    let mut used = HashSet::new();
    let mut fields = Vec::new();
    for c in &model.columns {
        let base = unique_name(field_base(&c.property), &mut used);
        let mut f = Field {
            ident: field_ident(&base),
            ..Field::default()
        };
        if lower_camel(&base) != c.property {
            f.attrs.push(format!("property = {}", lit(&c.property)));
        }
        if snake_case(&base) != c.column {
            f.attrs.push(format!("column = {}", lit(&c.column)));
        }
        let rt = rust_type(&c.pg_type);
        let text = c.pg_type.to_string();
        if !rt.exact {
            if text.parse::<PgType>().ok().as_ref() != Some(&c.pg_type) {
                loss(format!(
                    "column {}: type {text} does not read back as written",
                    c.column
                ));
            }
            f.attrs.push(format!("pg_type = {}", lit(&text)));
        }
        if !rt.decodes {
            f.comment = Some(format!(
                "No Rust type of the workspace's crates decodes `{text}`: `String` keeps the\n\
                 model exact, but reading this property fails until it is a type that implements\n\
                 `postgres::types::FromSql` for `{text}`."
            ));
        }
        if c.primary_key {
            f.attrs.push("primary_key".into());
        }
        if let Some(d) = &c.default {
            f.attrs.push(format!("default = {}", lit(d)));
        }
        if let Some(old) = &c.renamed_from {
            f.attrs.push(format!("renamed_from = {}", lit(old)));
        }
        if model.hidden.contains(&c.property) {
            f.attrs.push("hidden".into());
        }
        let p = c.property.as_str();
        f.attrs.extend(unique.remove(p));
        f.attrs.extend(index.remove(p));
        f.attrs.extend(foreign.remove(p));
        let column = &c.column;
        if c.identity.is_some() {
            loss(format!(
                "column {column}: identity (GENERATED .. AS IDENTITY)"
            ));
        }
        if c.serial_sequence.is_some() {
            loss(format!("column {column}: serial sequence options"));
        }
        if let Some(seq) = &c.sequence_name {
            loss(format!("column {column}: serial sequence name {seq}"));
        }
        if let Some(coll) = &c.collation {
            loss(format!("column {column}: collation {coll}"));
        }
        if c.statistics.is_some() {
            loss(format!("column {column}: statistics target"));
        }
        if c.comment.is_some() {
            loss(format!("column {column}: comment"));
        }
        let nullable = c.nullable && !c.primary_key;
        f.ty = if nullable {
            format!("Option<{}>", rt.ty)
        } else {
            rt.ty
        };
        fields.push(f);
    }
    // Left over: constraints on a property that is no column (a schema does not hold them).
    for p in unique.keys().chain(index.keys()).chain(foreign.keys()) {
        loss(format!("constraint on {p}, which is no column"));
    }

    for r in relations {
        let base = unique_name(field_base(&r.name), &mut used);
        let mut f = Field {
            ident: field_ident(&base),
            ..Field::default()
        };
        let mut options = Vec::new();
        let (default_fields, default_references) = match r.kind {
            RelationKind::One => (vec![format!("{}Id", r.name)], vec!["id".to_string()]),
            RelationKind::Many => (
                vec!["id".to_string()],
                vec![format!("{}Id", lower_first(name))],
            ),
        };
        if r.fields != default_fields {
            options.push(format!("fields = {}", lit(&r.fields.join(", "))));
        }
        if r.references != default_references {
            options.push(format!("references = {}", lit(&r.references.join(", "))));
        }
        let relation = if options.is_empty() {
            "relation".to_string()
        } else {
            format!("relation({})", options.join(", "))
        };
        if lower_camel(&base) != r.name {
            f.attrs.push(format!("property = {}", lit(&r.name)));
        }
        f.attrs.push(relation);
        let target = models
            .iter()
            .position(|m| m.name == r.target)
            .map_or("", |i| idents[i].as_str());
        f.ty = match r.kind {
            RelationKind::One => format!("Option<{target}>"),
            RelationKind::Many => format!("Vec<{target}>"),
        };
        fields.push(f);
    }

    // The struct.
    let _ = writeln!(out);
    let qualified = format!("{}.{}", model.schema, model.table);
    let _ = writeln!(out, "/// Model `{name}`: table `{qualified}`.");
    if model.skip_migrate {
        let _ = writeln!(
            out,
            "/// The migrator never creates, alters or drops it (a view, or a table managed \
             elsewhere)."
        );
    }
    let _ = writeln!(out, "#[derive(Debug, Clone, PartialEq, Model, FromRow)]");
    let mut attrs = Vec::new();
    if ident != name {
        attrs.push(format!("name = {}", lit(name)));
    }
    if model.table != *name {
        attrs.push(format!("table = {}", lit(&model.table)));
    }
    if model.schema != "public" {
        attrs.push(format!("schema = {}", lit(&model.schema)));
    }
    if model.skip_migrate {
        attrs.push("skip_migrate".into());
    }
    if !attrs.is_empty() {
        let _ = writeln!(out, "#[ignis({})]", attrs.join(", "));
    }
    let _ = writeln!(out, "pub struct {ident} {{");
    for f in &fields {
        for line in f.comment.iter().flat_map(|c| c.lines()) {
            let _ = writeln!(out, "    // {line}");
        }
        if !f.attrs.is_empty() {
            let _ = writeln!(out, "    #[ignis({})]", f.attrs.join(", "));
        }
        let _ = writeln!(out, "    pub {}: {},", f.ident, f.ty);
    }
    let _ = writeln!(out, "}}");
}

/// `(property, attribute)` of a foreign key the derive's `foreign_key(..)` writes exactly: from
/// one property to a model, no actions or options.
fn foreign_key_attr<'f>(model: &str, fk: &'f ForeignKey) -> Option<(&'f str, String)> {
    let [p] = fk.properties.as_slice() else {
        return None;
    };
    let ForeignKeyTarget::Model {
        model: target,
        properties: refs,
    } = &fk.target
    else {
        return None;
    };
    if refs.len() != 1
        || *fk != ForeignKey::new(fk.name.clone(), [p.clone()], target.clone(), refs.clone())
    {
        return None;
    }
    let mut options = vec![format!("model = {}", lit(target))];
    if refs != &["id"] {
        options.push(format!("references = {}", lit(&refs.join(", "))));
    }
    if fk.name != format!("FK_{model}_{p}_{target}_{}", refs.join("_")) {
        options.push(format!("name = {}", lit(&fk.name)));
    }
    Some((p, format!("foreign_key({})", options.join(", "))))
}

fn write_functions(out: &mut String, schema: &Schema, idents: &[String]) {
    let _ = writeln!(out);
    let _ = writeln!(out, "/// The models of the structs above, in order.");
    let _ = writeln!(out, "pub fn models() -> Vec<ignis_schema::Model> {{");
    let _ = writeln!(out, "    vec![");
    for ident in idents {
        let _ = writeln!(out, "        {ident}::model(),");
    }
    let _ = writeln!(out, "    ]");
    let _ = writeln!(out, "}}");
    let _ = writeln!(out);
    let _ = writeln!(out, "/// The enum types the models' columns use.");
    let _ = writeln!(out, "pub fn enums() -> Vec<ignis_schema::EnumType> {{");
    if schema.enums().is_empty() {
        let _ = writeln!(out, "    Vec::new()");
    } else {
        let _ = writeln!(out, "    vec![");
        for e in schema.enums() {
            let values: Vec<String> = e.values.iter().map(|v| lit(v)).collect();
            let _ = writeln!(out, "        ignis_schema::EnumType {{");
            let _ = writeln!(out, "            name: {}.to_string(),", lit(&e.name));
            let _ = writeln!(out, "            schema: {}.to_string(),", lit(&e.schema));
            let _ = writeln!(
                out,
                "            values: [{}].map(String::from).to_vec(),",
                values.join(", ")
            );
            let _ = writeln!(out, "        }},");
        }
        let _ = writeln!(out, "    ]");
    }
    let _ = writeln!(out, "}}");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "/// The schema: [`models`] and [`enums`].\n///\n/// # Errors\n/// \
         `ignis_schema::SchemaError` when the models do not make a valid schema."
    );
    let _ = writeln!(
        out,
        "pub fn schema() -> Result<ignis_schema::Schema, ignis_schema::SchemaError> {{"
    );
    let _ = writeln!(
        out,
        "    ignis_schema::Schema::new(models())?.with_enums(enums())"
    );
    let _ = writeln!(out, "}}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use ignis_schema::{Column, UniqueConstraint};

    #[test]
    fn names_become_rust_identifiers() {
        assert_eq!(upper_camel("perfdata_item"), "PerfdataItem");
        assert_eq!(upper_camel("audit.log"), "AuditLog");
        assert_eq!(upper_camel("ConfigurationReport"), "ConfigurationReport");
        assert_eq!(upper_camel("2fa"), "Model2fa");
        assert_eq!(upper_camel("string"), "StringRow");
        assert_eq!(upper_camel("model"), "ModelRow");
        assert_eq!(field_base("createdBy"), "created_by");
        assert_eq!(field_base("e-mail"), "e_mail");
        assert_eq!(field_base("1st"), "_1st");
        assert_eq!(field_base("self"), "self_field");
        assert_eq!(field_ident("type"), "r#type");
        assert_eq!(lower_camel("created_by"), "createdBy");
    }

    #[test]
    fn what_the_derive_cannot_say_is_listed_by_model() {
        let schema = Schema::new(vec![Model::new("Slot")
            .column(Column::new("a", PgType::Integer).not_null())
            .column(Column::new("b", PgType::Integer).not_null())
            .unique_constraint(UniqueConstraint::new("UQ_Slot_a_b", ["a", "b"]))])
        .unwrap();
        let err = to_rust(&schema).unwrap_err();
        assert_eq!(err.lost.len(), 1, "{err}");
        assert!(
            err.lost[0].starts_with("model Slot: unique constraint UQ_Slot_a_b on (a, b)"),
            "{err}"
        );
        let lossy = to_rust_lossy(&schema);
        assert!(lossy
            .source
            .contains("pub struct Slot {\n    pub a: i32,\n    pub b: i32,\n}"));
    }
}
