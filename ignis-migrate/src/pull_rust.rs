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
//!   `std::net::IpAddr` for inet, `i32` for serial); where no Rust type of the workspace's
//!   crates decodes it (numeric, interval, a domain), the field is a `String` with a comment
//!   saying so: the model is exact, reading that property fails until the type is replaced;
//! - one `#[derive(PgEnum)]` enum per enum type of the schema (a variant per label, in order,
//!   `rename` where the label is not the variant's snake_case), used as the type of the
//!   columns of that type (`Vec<Option<Mood>>` for `mood[]`); a type whose name is not a
//!   lowercase SQL identifier stays `String` with its `pg_type`;
//! - a column's `identity` (`identity(by_default, start = 10, increment = 5)`), a serial's
//!   `sequence(name = .., start = .., ..)` options, `collation`, `statistics` and `comment`;
//! - single-property unique constraints (`unique`), plain single-property indexes (`index`) and
//!   single-property foreign keys (`foreign_key(model = "..", on_delete = "cascade", ..)`) on
//!   their field, named only when the name is not the derive's default; every other unique
//!   constraint, index (method, predicate, keys with operator classes, collations, sort order
//!   or expressions, `INCLUDE`, storage parameters), foreign key (several properties, or to a
//!   table no model describes), check and exclusion constraint as a struct attribute
//!   (`#[ignis(index(name = .., key(..), ..))]`), as are the primary key's name, order and
//!   deferral, the table's comment, `renamed_from` and the default filter; relations as
//!   `Vec<T>` / `Option<T>` fields with `relation(..)`;
//! - `models()` (the derived models), `enums()` (the schema's enum types) and `schema()`, the
//!   [`Schema`] of both.
//!
//! What the attributes cannot hold (a name that a comma-separated list attribute would split,
//! an operator or collation name the derive refuses, a hidden property that is no column) is
//! listed by [`to_rust_lossy`], model and object, and written in a comment at the top of the
//! source; [`to_rust`] refuses with that list. [`to_rust_noting`] adds what the schema itself
//! does not reproduce of its database (pull's notes) to that comment. A one relation that
//! would make a struct contain itself (`Option<Self>`, or two models holding each other) is
//! left out the same way.
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
    snake_case, EnumType, Exclusion, ForeignKey, ForeignKeyAction, ForeignKeyTarget, Identity,
    IdentityGeneration, Index, IndexKey, Model, NullsOrder, PgType, Relation, RelationKind, Schema,
    SequenceOptions, SortOrder, UniqueConstraint,
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
/// [module documentation](self)). Never fails: what cannot be expressed is listed, in
/// [`RustSource::lost`] and in a comment at the top of the source.
pub fn to_rust_lossy(schema: &Schema) -> RustSource {
    to_rust_noting(schema, &[])
}

/// [`to_rust_lossy`], with `notes` (what the schema itself does not reproduce of the database
/// it was pulled from: [`crate::Pulled::notes`], or what a plan against that database still
/// finds) written in the source's top comment beside what the derive cannot express. `notes`
/// are not repeated in [`RustSource::lost`], which lists only what the structs leave out of
/// `schema`.
pub fn to_rust_noting(schema: &Schema, notes: &[String]) -> RustSource {
    let mut lost = Vec::new();
    let models = schema.models();
    let idents = struct_idents(models);
    let relations = acyclic_relations(models, &idents, &mut lost);
    let mut source = String::from(HEADER);
    let mut used: HashSet<String> = idents.iter().cloned().collect();
    let enums = rust_enums(schema.enums(), &mut used);
    for e in &enums {
        write_enum(&mut source, e);
    }
    for (model, ident) in models.iter().zip(&idents) {
        let rels = relations
            .get(model.name.as_str())
            .cloned()
            .unwrap_or_default();
        write_struct(
            &mut source,
            model,
            ident,
            &rels,
            &idents,
            models,
            &enums,
            &mut lost,
        );
    }
    write_functions(&mut source, schema, &idents, &enums);
    let unreproduced: Vec<&String> = notes.iter().chain(&lost).collect();
    if !unreproduced.is_empty() {
        let mut comment = String::from(
            "//\n// NOT REPRODUCED: what these models do not say of the database they come from\n\
             // (the migrator would plan changes for each):\n",
        );
        for line in unreproduced {
            for (i, part) in line.lines().enumerate() {
                let lead = if i == 0 { "//   - " } else { "//     " };
                comment.push_str(lead);
                comment.push_str(part);
                comment.push('\n');
            }
        }
        let at = HEADER.find("\n\nuse ").map_or(0, |i| i + 1);
        source.insert_str(at, &comment);
    }
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

/// A Rust enum written for an enum type of the schema (`#[derive(PgEnum)]`).
struct RustEnum {
    /// The enum's Rust name.
    ident: String,
    /// The type, as the schema holds it.
    ty: EnumType,
    /// One `(variant, label)` per label, in order.
    variants: Vec<(String, String)>,
}

impl RustEnum {
    /// The column type a field of this enum has (as `PgEnumDef::pg_type` gives it).
    fn pg_type(&self) -> PgType {
        if self.ty.schema == "public" {
            PgType::Custom(self.ty.name.clone())
        } else {
            PgType::Custom(format!("{}.{}", self.ty.schema, self.ty.name))
        }
    }
}

/// A lowercase SQL identifier of at most 63 bytes: what `#[derive(PgEnum)]` takes as a type or
/// schema name.
fn plain_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= 63
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The enum types `#[derive(PgEnum)]` can write (plain type and schema names, labels of 1 to
/// 63 bytes); the others stay `String` fields with their `pg_type`.
fn rust_enums(types: &[EnumType], used: &mut HashSet<String>) -> Vec<RustEnum> {
    types
        .iter()
        .filter(|e| {
            plain_identifier(&e.name)
                && plain_identifier(&e.schema)
                && !e.values.is_empty()
                && e.values.iter().all(|l| !l.is_empty() && l.len() <= 63)
        })
        .map(|e| {
            let ident = unique_name(upper_camel(&e.name), used);
            let mut variants_used = HashSet::new();
            let variants = e
                .values
                .iter()
                .map(|label| {
                    let mut base = upper_camel_plain(label);
                    if base.is_empty() {
                        base = "Label".into();
                    } else if base.starts_with(|c: char| c.is_ascii_digit()) {
                        base.insert(0, 'L');
                    } else if base == "Self" {
                        base.push_str("Label");
                    }
                    let mut name = base.clone();
                    let mut n = 2;
                    while !variants_used.insert(name.clone()) {
                        name = format!("{base}{n}");
                        n += 1;
                    }
                    (name, label.clone())
                })
                .collect();
            RustEnum {
                ident,
                ty: e.clone(),
                variants,
            }
        })
        .collect()
}

/// `in_progress` -> `InProgress`: the words of a name in UpperCamelCase, nothing added.
fn upper_camel_plain(name: &str) -> String {
    words(name)
        .iter()
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn write_enum(out: &mut String, e: &RustEnum) {
    let _ = writeln!(out);
    let _ = writeln!(out, "/// Enum type `{}.{}`.", e.ty.schema, e.ty.name);
    let _ = writeln!(
        out,
        "#[derive(Debug, Clone, Copy, PartialEq, Eq, ignis_schema::PgEnum)]"
    );
    let mut attrs = Vec::new();
    if snake_case(&e.ident) != e.ty.name {
        attrs.push(format!("name = {}", lit(&e.ty.name)));
    }
    if e.ty.schema != "public" {
        attrs.push(format!("schema = {}", lit(&e.ty.schema)));
    }
    if !attrs.is_empty() {
        let _ = writeln!(out, "#[ignis({})]", attrs.join(", "));
    }
    let _ = writeln!(out, "pub enum {} {{", e.ident);
    for (variant, label) in &e.variants {
        if snake_case(variant) != *label {
            let _ = writeln!(out, "    #[ignis(rename = {})]", lit(label));
        }
        let _ = writeln!(out, "    {variant},");
    }
    let _ = writeln!(out, "}}");
}

/// The Rust type of a column of an enum type written as a Rust enum (`Mood`,
/// `Vec<Option<Mood>>` for `mood[]`), or `None`.
fn enum_type(pg: &PgType, enums: &[RustEnum]) -> Option<String> {
    if let PgType::Array(inner) = pg {
        return enum_type(inner, enums).map(|t| format!("Vec<Option<{t}>>"));
    }
    enums
        .iter()
        .find(|e| e.pg_type() == *pg)
        .map(|e| e.ident.clone())
}

/// A list of names as one attribute string (`"tenantId, id"`), or `None` when a name would not
/// read back from it (empty, a comma, spaces around it).
fn names_lit(names: &[String]) -> Option<String> {
    let fits = |n: &String| !n.is_empty() && !n.contains(',') && n.trim() == n;
    (!names.is_empty() && names.iter().all(fits)).then(|| lit(&names.join(", ")))
}

/// A raw string literal holding `text` (`r#"{"where": ..}"#`).
fn raw_lit(text: &str) -> String {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{text}\"{hashes}")
}

/// `start = 10, increment = 5, ..`: the options that are set.
fn sequence_attrs(s: &SequenceOptions) -> Vec<String> {
    let mut out = Vec::new();
    for (key, value) in [
        ("start", s.start),
        ("increment", s.increment),
        ("min_value", s.min_value),
        ("max_value", s.max_value),
        ("cache", s.cache),
    ] {
        if let Some(v) = value {
            out.push(format!("{key} = {v}"));
        }
    }
    if s.cycle {
        out.push("cycle".into());
    }
    out
}

/// The derive's `identity` attribute of an identity column.
fn identity_attr(identity: &Identity) -> String {
    let options = sequence_attrs(&identity.sequence);
    let by_default = identity.generation == IdentityGeneration::ByDefault;
    match (options.is_empty(), by_default) {
        (true, false) => "identity".into(),
        (true, true) => "identity = \"by_default\"".into(),
        (false, false) => format!("identity({})", options.join(", ")),
        (false, true) => format!("identity(by_default, {})", options.join(", ")),
    }
}

fn action_name(a: ForeignKeyAction) -> &'static str {
    match a {
        ForeignKeyAction::NoAction => "no_action",
        ForeignKeyAction::Restrict => "restrict",
        ForeignKeyAction::Cascade => "cascade",
        ForeignKeyAction::SetNull => "set_null",
        ForeignKeyAction::SetDefault => "set_default",
    }
}

/// The options of a foreign key after its target (`on_delete = "cascade"`, `match_full`, ..).
fn foreign_key_options(fk: &ForeignKey) -> Vec<String> {
    let mut out = Vec::new();
    if fk.on_delete != ForeignKeyAction::NoAction {
        out.push(format!("on_delete = \"{}\"", action_name(fk.on_delete)));
    }
    if fk.on_update != ForeignKeyAction::NoAction {
        out.push(format!("on_update = \"{}\"", action_name(fk.on_update)));
    }
    if fk.match_full {
        out.push("match_full".into());
    }
    if fk.initially_deferred {
        out.push("initially_deferred".into());
    } else if fk.deferrable {
        out.push("deferrable".into());
    }
    out
}

/// `model = ".."` or `table = "..", schema = ".."`, and the target's name as a default
/// foreign key name uses it.
fn foreign_key_target(fk: &ForeignKey) -> (Vec<String>, String) {
    match &fk.target {
        ForeignKeyTarget::Model { model, .. } => {
            (vec![format!("model = {}", lit(model))], model.clone())
        }
        ForeignKeyTarget::Table { schema, table, .. } => {
            let mut out = vec![format!("table = {}", lit(table))];
            if schema != "public" {
                out.push(format!("schema = {}", lit(schema)));
            }
            (out, table.clone())
        }
    }
}

/// `(property, attribute)` of a foreign key from one property, written on that property's
/// field: `foreign_key(model = "User")` with its references, name and options when they are
/// not the defaults.
fn field_foreign_key<'f>(model: &str, fk: &'f ForeignKey) -> Option<(&'f str, String)> {
    let [p] = fk.properties.as_slice() else {
        return None;
    };
    let refs = fk.target.names();
    let references = names_lit(refs)?;
    let (mut options, target) = foreign_key_target(fk);
    if refs != ["id"] {
        options.push(format!("references = {references}"));
    }
    if fk.name != format!("FK_{model}_{p}_{target}_{}", refs.join("_")) {
        options.push(format!("name = {}", lit(&fk.name)));
    }
    options.extend(foreign_key_options(fk));
    Some((p, format!("foreign_key({})", options.join(", "))))
}

/// A struct's `foreign_key(name = .., properties = .., ..)`, or `None` when a name list
/// would not read back.
fn struct_foreign_key(fk: &ForeignKey) -> Option<String> {
    let properties = names_lit(&fk.properties)?;
    let references = names_lit(fk.target.names())?;
    let (target, _) = foreign_key_target(fk);
    let mut options = vec![
        format!("name = {}", lit(&fk.name)),
        format!("properties = {properties}"),
    ];
    options.extend(target);
    options.push(format!("references = {references}"));
    options.extend(foreign_key_options(fk));
    Some(format!("foreign_key({})", options.join(", ")))
}

/// A struct's `unique(..)` of a unique constraint.
fn struct_unique(u: &UniqueConstraint) -> Option<String> {
    let mut options = vec![
        format!("name = {}", lit(&u.name)),
        format!("properties = {}", names_lit(&u.properties)?),
    ];
    if u.initially_deferred {
        options.push("initially_deferred".into());
    } else if u.deferrable {
        options.push("deferrable".into());
    }
    if u.nulls_not_distinct {
        options.push("nulls_not_distinct".into());
    }
    Some(format!("unique({})", options.join(", ")))
}

/// A storage parameter's name or value as `with = ".."` takes it.
fn storage_word(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

/// A name the derive takes for an operator class, collation or access method.
fn sql_name_fits(s: &str) -> bool {
    !s.trim().is_empty() && s.len() <= 127 && !s.contains('"') && !s.contains('\0')
}

/// What an index key or exclusion element reads, as attribute options: `property = ".."` or
/// `expression = ".."`, then `opclass = ".."`; `None` when it has no attribute form (both or
/// neither of property and expression, or a name SQL cannot carry).
fn key_target(
    property: &Option<String>,
    expression: &Option<String>,
    opclass: &Option<String>,
    options: &mut Vec<String>,
) -> Option<()> {
    match (property, expression) {
        (Some(p), None) if names_lit(std::slice::from_ref(p)).is_some() => {
            options.push(format!("property = {}", lit(p)));
        }
        (None, Some(e)) if !e.trim().is_empty() => {
            options.push(format!("expression = {}", lit(e)));
        }
        _ => return None,
    }
    if let Some(o) = opclass {
        if !sql_name_fits(o) {
            return None;
        }
        options.push(format!("opclass = {}", lit(o)));
    }
    Some(())
}

/// One `key(..)` of a struct's index.
fn index_key(k: &IndexKey) -> Option<String> {
    let mut options = Vec::new();
    key_target(&k.property, &k.expression, &k.opclass, &mut options)?;
    if let Some(c) = &k.collation {
        if !sql_name_fits(c) {
            return None;
        }
        options.push(format!("collation = {}", lit(c)));
    }
    match k.order {
        Some(SortOrder::Asc) => options.push("order = \"asc\"".into()),
        Some(SortOrder::Desc) => options.push("order = \"desc\"".into()),
        None => {}
    }
    match k.nulls {
        Some(NullsOrder::First) => options.push("nulls = \"first\"".into()),
        Some(NullsOrder::Last) => options.push("nulls = \"last\"".into()),
        None => {}
    }
    Some(format!("key({})", options.join(", ")))
}

/// A struct's `index(..)`, or `None` when part of it has no attribute form.
fn struct_index(i: &Index) -> Option<String> {
    let mut options = vec![format!("name = {}", lit(&i.name))];
    if i.keys.is_empty() {
        options.push(format!("properties = {}", names_lit(&i.properties)?));
    } else {
        if !i.properties.is_empty() {
            return None;
        }
        for k in &i.keys {
            options.push(index_key(k)?);
        }
    }
    if let Some(m) = &i.method {
        if m.is_empty() || !m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        options.push(format!("method = {}", lit(m)));
    }
    if let Some(p) = &i.predicate {
        if p.trim().is_empty() {
            return None;
        }
        options.push(format!("where = {}", lit(p)));
    }
    if i.unique {
        options.push("unique".into());
    }
    if !i.include.is_empty() {
        options.push(format!("include = {}", names_lit(&i.include)?));
    }
    if i.nulls_not_distinct {
        options.push("nulls_not_distinct".into());
    }
    if !i.storage_parameters.is_empty() {
        if !i
            .storage_parameters
            .iter()
            .all(|(k, v)| storage_word(k) && storage_word(v))
        {
            return None;
        }
        let with: Vec<String> = i
            .storage_parameters
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        options.push(format!("with = {}", lit(&with.join(", "))));
    }
    Some(format!("index({})", options.join(", ")))
}

/// An exclusion operator as the derive takes it (as `ignis_schema::split_operator` checks it).
fn operator_fits(op: &str) -> bool {
    ignis_schema::split_operator(op).is_some()
}

/// A struct's `exclusion(..)`, or `None` when part of it has no attribute form.
fn struct_exclusion(x: &Exclusion) -> Option<String> {
    let mut options = vec![format!("name = {}", lit(&x.name))];
    if let Some(m) = &x.method {
        if !sql_name_fits(m) {
            return None;
        }
        options.push(format!("method = {}", lit(m)));
    }
    if x.elements.is_empty() {
        return None;
    }
    for e in &x.elements {
        let mut element = Vec::new();
        key_target(&e.property, &e.expression, &e.opclass, &mut element)?;
        if !operator_fits(&e.operator) {
            return None;
        }
        element.push(format!("operator = {}", lit(&e.operator)));
        options.push(format!("element({})", element.join(", ")));
    }
    if let Some(p) = &x.predicate {
        if p.trim().is_empty() {
            return None;
        }
        options.push(format!("where = {}", lit(p)));
    }
    if x.initially_deferred {
        options.push("initially_deferred".into());
    } else if x.deferrable {
        options.push("deferrable".into());
    }
    Some(format!("exclusion({})", options.join(", ")))
}

#[allow(clippy::too_many_arguments)]
fn write_struct(
    out: &mut String,
    model: &Model,
    ident: &str,
    relations: &[&Relation],
    idents: &[String],
    models: &[Model],
    enums: &[RustEnum],
    lost: &mut Vec<String>,
) {
    let name = &model.name;
    let mut loss = |what: String| lost.push(format!("model {name}: {what}"));
    // Struct attributes after name / table / schema / skip_migrate, in this order.
    let mut model_attrs: Vec<String> = Vec::new();
    let mut constraint_attrs: Vec<String> = Vec::new();

    if let Some(old) = &model.renamed_from {
        model_attrs.push(format!("renamed_from = {}", lit(old)));
    }
    if let Some(filter) = &model.default_filter {
        match filter {
            serde_json::Value::Object(_) => {
                model_attrs.push(format!("default_filter = {}", raw_lit(&filter.to_string())));
            }
            _ => loss("default filter that is not a JSON object".into()),
        }
    }
    if let Some(comment) = &model.comment {
        model_attrs.push(format!("comment = {}", lit(comment)));
    }
    let mut pk = Vec::new();
    if let Some(c) = &model.primary_key_constraint {
        pk.push(format!("name = {}", lit(c)));
    }
    if !model.primary_key_order.is_empty() {
        match names_lit(&model.primary_key_order) {
            Some(order) => pk.push(format!("order = {order}")),
            None => loss(format!(
                "primary key order ({})",
                model.primary_key_order.join(", ")
            )),
        }
    }
    if model.primary_key_initially_deferred {
        pk.push("initially_deferred".into());
    } else if model.primary_key_deferrable {
        pk.push("deferrable".into());
    }
    if !pk.is_empty() {
        model_attrs.push(format!("primary_key({})", pk.join(", ")));
    }

    // Constraints that fit one field's attributes, by property; the others on the struct.
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
            _ => match struct_unique(u) {
                Some(attr) => constraint_attrs.push(attr),
                None => loss(format!(
                    "unique constraint {} on ({})",
                    u.name,
                    u.properties.join(", ")
                )),
            },
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
            _ => match struct_index(i) {
                Some(attr) => constraint_attrs.push(attr),
                None => loss(format!(
                    "index {} (a name, key or option the derive's attribute cannot hold)",
                    i.name
                )),
            },
        }
    }
    let mut foreign: HashMap<&str, String> = HashMap::new();
    for fk in &model.foreign_keys {
        if let Some((p, attr)) = field_foreign_key(name, fk) {
            if !foreign.contains_key(p) {
                foreign.insert(p, attr);
                continue;
            }
        }
        match struct_foreign_key(fk) {
            Some(attr) => constraint_attrs.push(attr),
            None => loss(format!(
                "foreign key {} on ({}) (a name the derive's attribute cannot hold)",
                fk.name,
                fk.properties.join(", ")
            )),
        }
    }
    for c in &model.checks {
        if c.expression.trim().is_empty() {
            loss(format!("check constraint {} (empty expression)", c.name));
        } else {
            constraint_attrs.push(format!(
                "check(name = {}, expr = {})",
                lit(&c.name),
                lit(&c.expression)
            ));
        }
    }
    for x in &model.exclusions {
        match struct_exclusion(x) {
            Some(attr) => constraint_attrs.push(attr),
            None => loss(format!(
                "exclusion constraint {} (an element, operator or name the derive's attribute \
                 cannot hold)",
                x.name
            )),
        }
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
        let text = c.pg_type.to_string();
        let rt = match enum_type(&c.pg_type, enums) {
            Some(ty) => RustType {
                ty,
                exact: true,
                decodes: true,
            },
            None => rust_type(&c.pg_type),
        };
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
        if let Some(identity) = &c.identity {
            f.attrs.push(identity_attr(identity));
        }
        let mut sequence = c
            .serial_sequence
            .as_ref()
            .map(sequence_attrs)
            .unwrap_or_default();
        if let Some(seq) = &c.sequence_name {
            sequence.insert(0, format!("name = {}", lit(seq)));
        }
        if !sequence.is_empty() {
            f.attrs.push(format!("sequence({})", sequence.join(", ")));
        } else if c.serial_sequence.is_some() {
            // All-default options: the derive writes `None`, which the migrator treats alike.
            loss(format!(
                "column {}: serial sequence options given as all defaults",
                c.column
            ));
        }
        if let Some(coll) = &c.collation {
            if sql_name_fits(coll) {
                f.attrs.push(format!("collation = {}", lit(coll)));
            } else {
                loss(format!("column {}: collation {coll}", c.column));
            }
        }
        if let Some(target) = c.statistics {
            if (0..=10000).contains(&target) {
                f.attrs.push(format!("statistics = {target}"));
            } else {
                loss(format!("column {}: statistics target {target}", c.column));
            }
        }
        if let Some(comment) = &c.comment {
            f.attrs.push(format!("comment = {}", lit(comment)));
        }
        if c.renamed_from.is_some() || model.hidden.contains(&c.property) {
            if let Some(old) = &c.renamed_from {
                f.attrs.push(format!("renamed_from = {}", lit(old)));
            }
            if model.hidden.contains(&c.property) {
                f.attrs.push("hidden".into());
            }
        }
        let p = c.property.as_str();
        f.attrs.extend(unique.remove(p));
        f.attrs.extend(index.remove(p));
        f.attrs.extend(foreign.remove(p));
        let nullable = c.nullable && !c.primary_key && c.identity.is_none();
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
    attrs.extend(model_attrs);
    if !attrs.is_empty() {
        let _ = writeln!(out, "#[ignis({})]", attrs.join(", "));
    }
    for c in &constraint_attrs {
        let _ = writeln!(out, "#[ignis({c})]");
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

fn write_functions(out: &mut String, schema: &Schema, idents: &[String], enums: &[RustEnum]) {
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
            if let Some(r) = enums.iter().find(|r| r.ty == *e) {
                let _ = writeln!(
                    out,
                    "        <{} as ignis_schema::PgEnumDef>::enum_type(),",
                    r.ident
                );
                continue;
            }
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
    fn constraints_beyond_one_field_are_struct_attributes() {
        let schema = Schema::new(vec![Model::new("Slot")
            .column(Column::new("a", PgType::Integer).not_null())
            .column(Column::new("b", PgType::Integer).not_null())
            .unique_constraint(UniqueConstraint::new("UQ_Slot_a_b", ["a", "b"]))])
        .unwrap();
        let rust = to_rust(&schema).unwrap();
        assert!(
            rust.contains(
                "#[ignis(unique(name = \"UQ_Slot_a_b\", properties = \"a, b\"))]\n\
                 pub struct Slot {\n    pub a: i32,\n    pub b: i32,\n}"
            ),
            "{rust}"
        );
    }

    #[test]
    fn what_the_derive_cannot_say_is_listed_by_model_and_in_the_source() {
        // A property whose name holds a comma cannot be named in a list attribute.
        let schema = Schema::new(vec![Model::new("Slot")
            .column(Column::new("a,b", PgType::Integer).not_null())
            .column(Column::new("c", PgType::Integer).not_null())
            .unique_constraint(UniqueConstraint::new("UQ_Slot_pair", ["a,b", "c"]))])
        .unwrap();
        let err = to_rust(&schema).unwrap_err();
        assert_eq!(err.lost.len(), 1, "{err}");
        assert!(
            err.lost[0].starts_with("model Slot: unique constraint UQ_Slot_pair on (a,b, c)"),
            "{err}"
        );
        let lossy = to_rust_noting(&schema, &["table public.x: a note".to_string()]);
        assert_eq!(lossy.lost, err.lost);
        assert!(
            lossy.source.contains("//   - table public.x: a note\n"),
            "{}",
            lossy.source
        );
        assert!(
            lossy
                .source
                .contains("//   - model Slot: unique constraint UQ_Slot_pair"),
            "{}",
            lossy.source
        );
    }

    #[test]
    fn enum_labels_become_variants() {
        let mut used = HashSet::new();
        let enums = rust_enums(
            &[
                EnumType::new("mood", ["sad", "in progress", "OK", "1st", "self", "ok"]),
                EnumType::new("Bad Name", ["x"]),
            ],
            &mut used,
        );
        assert_eq!(
            enums.len(),
            1,
            "a type name that is no plain identifier stays text"
        );
        let variants: Vec<&str> = enums[0].variants.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(
            variants,
            ["Sad", "InProgress", "Ok", "L1st", "SelfLabel", "Ok2"]
        );
        assert_eq!(raw_lit("a\"#b"), "r##\"a\"#b\"##");
    }
}
