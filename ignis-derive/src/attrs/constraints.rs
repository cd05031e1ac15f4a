//! The `#[ignis(..)]` keys that carry a column's generation and the constraints beyond plain
//! uniques and indexes: identity and serial sequence options, foreign keys with their actions
//! and targets, index keys with options, exclusion constraints and the primary key's options.
//! Each maps one to one onto a field of the `ignis_schema` type it describes, so a pulled
//! schema can be written back as attributes without loss.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{LitInt, LitStr};

use super::{flag, name_list, object_name, once, required, sql_text, string};

/// The key of a nested meta item, `""` when it is not a plain identifier.
fn key_of(meta: &ParseNestedMeta<'_>) -> String {
    meta.path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// A whole number, optionally negative (`-100`), that fits an `i64`.
pub(crate) fn integer(meta: &ParseNestedMeta<'_>) -> syn::Result<i64> {
    let input = meta.value()?;
    let negative = input.peek(syn::Token![-]);
    if negative {
        input.parse::<syn::Token![-]>()?;
    }
    let lit: LitInt = input.parse()?;
    let value: i128 = lit.base10_parse()?;
    let value = if negative { -value } else { value };
    i64::try_from(value).map_err(|_| {
        syn::Error::new_spanned(&lit, "the number does not fit a 64-bit sequence value")
    })
}

/// Sequence options (Postgres manual, CREATE SEQUENCE); `None` leaves Postgres's default.
#[derive(Default)]
pub(crate) struct SequenceAttr {
    pub(crate) start: Option<i64>,
    pub(crate) increment: Option<i64>,
    pub(crate) min_value: Option<i64>,
    pub(crate) max_value: Option<i64>,
    pub(crate) cache: Option<i64>,
    pub(crate) cycle: bool,
}

impl SequenceAttr {
    /// Reads `key` when it is a sequence option; `Ok(false)` when it is not one.
    fn option(&mut self, key: &str, meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
        let slot = match key {
            "start" => &mut self.start,
            "increment" => &mut self.increment,
            "min_value" => &mut self.min_value,
            "max_value" => &mut self.max_value,
            "cache" => &mut self.cache,
            "cycle" => {
                if self.cycle {
                    return Err(meta.error("duplicate `cycle` attribute"));
                }
                self.cycle = true;
                return Ok(true);
            }
            _ => return Ok(false),
        };
        let value = integer(meta)?;
        if key == "increment" && value == 0 {
            return Err(meta.error("a sequence's `increment` cannot be 0"));
        }
        if key == "cache" && value < 1 {
            return Err(meta.error("a sequence's `cache` is at least 1"));
        }
        once(slot, value, meta, key)?;
        Ok(true)
    }
}

const SEQUENCE_OPTIONS: &str = "`start = n`, `increment = n`, `min_value = n`, \
                                `max_value = n`, `cache = n`, `cycle`";

/// `identity`, `identity = "always" | "by_default"` or `identity(by_default, start = 10, ..)`
/// on a field: `GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY (options)`.
pub(crate) struct IdentityAttr {
    /// Where the attribute is, for errors.
    pub(crate) span: Span,
    pub(crate) by_default: bool,
    pub(crate) sequence: SequenceAttr,
}

fn generation(lit: &LitStr) -> syn::Result<bool> {
    match lit.value().to_ascii_lowercase().replace(' ', "_").as_str() {
        "always" => Ok(false),
        "by_default" => Ok(true),
        other => Err(syn::Error::new_spanned(
            lit,
            format!("`identity` is \"always\" or \"by_default\", not \"{other}\""),
        )),
    }
}

pub(crate) fn parse_identity(meta: &ParseNestedMeta<'_>) -> syn::Result<IdentityAttr> {
    let mut out = IdentityAttr {
        span: meta.path.span(),
        by_default: false,
        sequence: SequenceAttr::default(),
    };
    if meta.input.peek(syn::Token![=]) {
        out.by_default = generation(&string(meta)?)?;
    } else if meta.input.peek(syn::token::Paren) {
        let mut kind: Option<Span> = None;
        meta.parse_nested_meta(|inner| {
            let key = key_of(&inner);
            match key.as_str() {
                "always" | "by_default" => {
                    flag(&mut kind, &inner, "always` / `by_default")?;
                    out.by_default = key == "by_default";
                    Ok(())
                }
                _ if out.sequence.option(&key, &inner)? => Ok(()),
                _ => Err(inner.error(format!(
                    "unknown identity option; expected `always` or `by_default`, and sequence \
                     options: {SEQUENCE_OPTIONS}"
                ))),
            }
        })?;
    }
    Ok(out)
}

/// `sequence(name = "..", start = n, ..)` on a serial field: the options (and the name, when
/// not the one `serial` gives it) of the sequence the column owns.
pub(crate) struct SerialAttr {
    pub(crate) name: Option<LitStr>,
    pub(crate) sequence: SequenceAttr,
}

pub(crate) fn parse_serial(meta: &ParseNestedMeta<'_>) -> syn::Result<SerialAttr> {
    let example =
        format!("`sequence(..)` with `name = \"..\"` and sequence options: {SEQUENCE_OPTIONS}");
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!("expected {example}")));
    }
    let mut out = SerialAttr {
        name: None,
        sequence: SequenceAttr::default(),
    };
    meta.parse_nested_meta(|inner| {
        let key = key_of(&inner);
        if key == "name" {
            return once(&mut out.name, object_name(string(&inner)?)?, &inner, "name");
        }
        if out.sequence.option(&key, &inner)? {
            return Ok(());
        }
        Err(inner.error(format!("unknown sequence option; expected {example}")))
    })?;
    Ok(out)
}

/// A referential action (`ON DELETE cascade`), as `ignis_schema::ForeignKeyAction` names it.
#[derive(Clone, Copy)]
pub(crate) enum Action {
    Nothing,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl Action {
    fn parse(lit: &LitStr) -> syn::Result<Self> {
        Ok(
            match lit.value().to_ascii_lowercase().replace(' ', "_").as_str() {
                "no_action" => Action::Nothing,
                "restrict" => Action::Restrict,
                "cascade" => Action::Cascade,
                "set_null" => Action::SetNull,
                "set_default" => Action::SetDefault,
                other => {
                    return Err(syn::Error::new_spanned(
                        lit,
                        format!(
                            "unknown referential action \"{other}\"; expected \"no_action\", \
                             \"restrict\", \"cascade\", \"set_null\" or \"set_default\""
                        ),
                    ))
                }
            },
        )
    }

    /// The `ignis_schema::ForeignKeyAction` variant's name.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Action::Nothing => "NoAction",
            Action::Restrict => "Restrict",
            Action::Cascade => "Cascade",
            Action::SetNull => "SetNull",
            Action::SetDefault => "SetDefault",
        }
    }
}

/// What a foreign key references: a model of the schema, or a table no model describes.
pub(crate) enum ForeignTarget {
    /// `model = "User"`: the model's properties.
    Model(LitStr),
    /// `table = "users", schema = "legacy"`: the table's columns (schema `public` when not
    /// given).
    Table {
        schema: Option<LitStr>,
        table: LitStr,
    },
}

/// `foreign_key(..)`: on a field, from that field's property (`properties` not allowed); on
/// the struct, from `properties` (required, like `name`).
pub(crate) struct ForeignKeyAttr {
    /// The referencing properties, on the struct.
    pub(crate) properties: Option<Vec<String>>,
    pub(crate) target: ForeignTarget,
    /// The referenced properties (or columns of a table target); `id` when not given.
    pub(crate) references: Vec<String>,
    /// The constraint name; on a field, `FK_{Model}_{property}_{Target}_{references}` when not
    /// given.
    pub(crate) name: Option<LitStr>,
    pub(crate) on_delete: Option<Action>,
    pub(crate) on_update: Option<Action>,
    pub(crate) match_full: bool,
    pub(crate) deferrable: bool,
    pub(crate) initially_deferred: bool,
}

const FK_OPTIONS: &str = "`references = \"id\"`, `name = \"..\"`, `on_delete = \"cascade\"`, \
                          `on_update = \"..\"`, `match_full`, `deferrable`, \
                          `initially_deferred`";

pub(crate) fn parse_foreign_key(
    meta: &ParseNestedMeta<'_>,
    on_struct: bool,
) -> syn::Result<ForeignKeyAttr> {
    let example = if on_struct {
        format!(
            "`foreign_key(name = \"FK_..\", properties = \"a, b\", model = \"User\", references \
             = \"a, b\")` (or `table = \"..\"`, `schema = \"..\"` for a table no model \
             describes; optionally with {FK_OPTIONS})"
        )
    } else {
        format!(
            "`foreign_key(model = \"User\")` (or `table = \"..\"`, `schema = \"..\"` for a table \
             no model describes; optionally with {FK_OPTIONS})"
        )
    };
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!("expected {example}")));
    }
    let (mut model, mut table, mut schema) = (None::<LitStr>, None::<LitStr>, None::<LitStr>);
    let (mut properties, mut references, mut name) = (None, None, None);
    let (mut on_delete, mut on_update) = (None, None);
    let (mut match_full, mut deferrable, mut initially_deferred) = (None, None, None);
    meta.parse_nested_meta(|inner| {
        let key = key_of(&inner);
        match key.as_str() {
            "model" => once(&mut model, string(&inner)?, &inner, "model"),
            "table" => once(&mut table, string(&inner)?, &inner, "table"),
            "schema" => once(&mut schema, string(&inner)?, &inner, "schema"),
            "properties" if on_struct => once(
                &mut properties,
                name_list(&string(&inner)?)?,
                &inner,
                "properties",
            ),
            "references" => once(
                &mut references,
                name_list(&string(&inner)?)?,
                &inner,
                "references",
            ),
            "name" => once(&mut name, object_name(string(&inner)?)?, &inner, "name"),
            "on_delete" => once(
                &mut on_delete,
                Action::parse(&string(&inner)?)?,
                &inner,
                "on_delete",
            ),
            "on_update" => once(
                &mut on_update,
                Action::parse(&string(&inner)?)?,
                &inner,
                "on_update",
            ),
            "match_full" => flag(&mut match_full, &inner, "match_full"),
            "deferrable" => flag(&mut deferrable, &inner, "deferrable"),
            "initially_deferred" => flag(&mut initially_deferred, &inner, "initially_deferred"),
            "properties" => Err(inner.error(
                "a field's foreign key is from the field's own property: `properties` belongs \
                 to a foreign key on the struct",
            )),
            _ => Err(inner.error(format!("unknown foreign_key option; expected {example}"))),
        }
    })?;
    let target = match (model, table) {
        (Some(model), None) => {
            if let Some(schema) = &schema {
                return Err(syn::Error::new_spanned(
                    schema,
                    "`schema` goes with `table = \"..\"` (a table no model describes); a model \
                     knows its own schema",
                ));
            }
            ForeignTarget::Model(model)
        }
        (None, Some(table)) => ForeignTarget::Table { schema, table },
        (Some(_), Some(table)) => {
            return Err(syn::Error::new_spanned(
                table,
                "a foreign key references either a model (`model = \"..\"`) or a table \
                 (`table = \"..\"`), not both",
            ))
        }
        (None, None) => {
            return Err(meta.error(format!("`foreign_key` needs what it references: {example}")))
        }
    };
    let properties = if on_struct {
        Some(required(properties, meta, &example)?)
    } else {
        None
    };
    let name = if on_struct {
        Some(required(name, meta, &example)?)
    } else {
        name
    };
    let references = references.unwrap_or_else(|| vec!["id".to_string()]);
    if let Some(properties) = &properties {
        if properties.len() != references.len() {
            return Err(meta.error(format!(
                "the foreign key has {} properties but {} references (one referenced name per \
                 property, in order)",
                properties.len(),
                references.len()
            )));
        }
    }
    Ok(ForeignKeyAttr {
        properties,
        target,
        references,
        name,
        on_delete,
        on_update,
        match_full: match_full.is_some(),
        deferrable: deferrable.is_some() || initially_deferred.is_some(),
        initially_deferred: initially_deferred.is_some(),
    })
}

/// `key(property = "email", opclass = "text_pattern_ops", collation = "C", order = "desc",
/// nulls = "first")` or `key(expression = "lower(email)", ..)` in a struct's `index(..)`.
pub(crate) struct IndexKeyAttr {
    pub(crate) property: Option<String>,
    pub(crate) expression: Option<LitStr>,
    pub(crate) opclass: Option<LitStr>,
    pub(crate) collation: Option<LitStr>,
    /// `Some(true)` for `order = "desc"`, `Some(false)` for `"asc"`.
    pub(crate) desc: Option<bool>,
    /// `Some(true)` for `nulls = "first"`, `Some(false)` for `"last"`.
    pub(crate) nulls_first: Option<bool>,
}

/// An operator class, collation or access method name as a catalog holds it (`text_pattern_ops`,
/// `en-x-icu`, `public.my_ops`): not empty, at most 127 bytes, without `"` or NUL (the schema
/// quotes it as an identifier).
fn sql_name(lit: LitStr, what: &str) -> syn::Result<LitStr> {
    let value = lit.value();
    let plain = !value.trim().is_empty()
        && value.len() <= 127
        && !value.contains('"')
        && !value.contains('\0');
    if !plain {
        return Err(syn::Error::new_spanned(
            &lit,
            format!("{what} is a name of 1 to 127 bytes without `\"`, not \"{value}\""),
        ));
    }
    Ok(lit)
}

/// A property named on its own (`property = "email"`).
fn one_property(lit: &LitStr) -> syn::Result<String> {
    let names = name_list(lit)?;
    match names.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(syn::Error::new_spanned(
            lit,
            "one property name, e.g. \"email\"",
        )),
    }
}

pub(crate) fn parse_index_key(meta: &ParseNestedMeta<'_>) -> syn::Result<IndexKeyAttr> {
    const EXAMPLE: &str = "`key(property = \"email\")` or `key(expression = \"lower(email)\")`, \
                           optionally with `opclass = \"..\"`, `collation = \"..\"`, `order = \
                           \"asc\" | \"desc\"`, `nulls = \"first\" | \"last\"`";
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!("expected {EXAMPLE}")));
    }
    let mut out = IndexKeyAttr {
        property: None,
        expression: None,
        opclass: None,
        collation: None,
        desc: None,
        nulls_first: None,
    };
    meta.parse_nested_meta(|inner| {
        let key = key_of(&inner);
        match key.as_str() {
            "property" => {
                let p = one_property(&string(&inner)?)?;
                once(&mut out.property, p, &inner, "property")
            }
            "expression" => once(
                &mut out.expression,
                sql_text(string(&inner)?, "index key expression")?,
                &inner,
                "expression",
            ),
            "opclass" => once(
                &mut out.opclass,
                sql_name(string(&inner)?, "an operator class")?,
                &inner,
                "opclass",
            ),
            "collation" => once(
                &mut out.collation,
                sql_name(string(&inner)?, "a collation")?,
                &inner,
                "collation",
            ),
            "order" => {
                let lit = string(&inner)?;
                let desc = match lit.value().to_ascii_lowercase().as_str() {
                    "asc" => false,
                    "desc" => true,
                    _ => {
                        return Err(syn::Error::new_spanned(
                            &lit,
                            "`order` is \"asc\" or \"desc\"",
                        ))
                    }
                };
                once(&mut out.desc, desc, &inner, "order")
            }
            "nulls" => {
                let lit = string(&inner)?;
                let first = match lit.value().to_ascii_lowercase().as_str() {
                    "first" => true,
                    "last" => false,
                    _ => {
                        return Err(syn::Error::new_spanned(
                            &lit,
                            "`nulls` is \"first\" or \"last\"",
                        ))
                    }
                };
                once(&mut out.nulls_first, first, &inner, "nulls")
            }
            _ => Err(inner.error(format!("unknown index key option; expected {EXAMPLE}"))),
        }
    })?;
    if out.property.is_some() == out.expression.is_some() {
        return Err(meta.error(format!(
            "an index key is either a property or an expression: {EXAMPLE}"
        )));
    }
    Ok(out)
}

/// `with = "fillfactor = 70, deduplicate_items = off"`: an index's storage parameters, each a
/// name and a number, boolean or identifier.
pub(crate) fn storage_parameters(lit: &LitStr) -> syn::Result<Vec<(String, String)>> {
    let text = lit.value();
    let mut out = Vec::new();
    for part in text.split(',') {
        let bad = || {
            syn::Error::new_spanned(
                lit,
                format!(
                    "expected storage parameters as `name = value` separated by commas, e.g. \
                     \"fillfactor = 70\"; `{}` is not one",
                    part.trim()
                ),
            )
        };
        let (name, value) = part.split_once('=').ok_or_else(bad)?;
        let (name, value) = (name.trim(), value.trim());
        let word = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        };
        if !word(name) || !word(value) {
            return Err(bad());
        }
        out.push((name.to_string(), value.to_string()));
    }
    Ok(out)
}

/// `exclusion(name = "..", method = "gist", element(property = "room", operator = "="), ..,
/// where = "<sql>", deferrable, initially_deferred)` on the struct.
pub(crate) struct ExclusionAttr {
    pub(crate) name: LitStr,
    pub(crate) method: Option<LitStr>,
    pub(crate) elements: Vec<ElementAttr>,
    pub(crate) predicate: Option<LitStr>,
    pub(crate) deferrable: bool,
    pub(crate) initially_deferred: bool,
}

/// One `element(..)` of an exclusion constraint.
pub(crate) struct ElementAttr {
    pub(crate) property: Option<String>,
    pub(crate) expression: Option<LitStr>,
    pub(crate) opclass: Option<LitStr>,
    pub(crate) operator: LitStr,
}

/// An operator as an exclusion element takes it (as `ignis_schema::split_operator` checks
/// it): operator characters, optionally after `schema.`.
fn operator(lit: LitStr) -> syn::Result<LitStr> {
    let value = lit.value();
    let (schema, symbol) = match value.rsplit_once('.') {
        Some((s, o)) => (Some(s), o),
        None => (None, value.as_str()),
    };
    let symbol_ok = !symbol.is_empty()
        && symbol.len() <= 63
        && symbol.chars().all(|c| "+-*/<>=~!@#%^&|`?".contains(c))
        && !symbol.contains("--")
        && !symbol.contains("/*");
    let schema_ok = schema
        .is_none_or(|s| !s.is_empty() && s.len() <= 63 && !s.contains('"') && !s.contains('\0'));
    if !(symbol_ok && schema_ok) {
        return Err(syn::Error::new_spanned(
            &lit,
            format!(
                "an exclusion operator is made of operator characters (`=`, `&&`, `<>`, ...), \
                 optionally schema-qualified (`pg_catalog.&&`), not \"{value}\""
            ),
        ));
    }
    Ok(lit)
}

fn parse_element(meta: &ParseNestedMeta<'_>) -> syn::Result<ElementAttr> {
    const EXAMPLE: &str = "`element(property = \"room\", operator = \"=\")` or \
                           `element(expression = \"<sql>\", operator = \"&&\")`, optionally with \
                           `opclass = \"..\"`";
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!("expected {EXAMPLE}")));
    }
    let (mut property, mut expression, mut opclass, mut op) = (None, None, None, None);
    meta.parse_nested_meta(|inner| {
        let key = key_of(&inner);
        match key.as_str() {
            "property" => {
                let p = one_property(&string(&inner)?)?;
                once(&mut property, p, &inner, "property")
            }
            "expression" => once(
                &mut expression,
                sql_text(string(&inner)?, "element expression")?,
                &inner,
                "expression",
            ),
            "opclass" => once(
                &mut opclass,
                sql_name(string(&inner)?, "an operator class")?,
                &inner,
                "opclass",
            ),
            "operator" => once(&mut op, operator(string(&inner)?)?, &inner, "operator"),
            _ => Err(inner.error(format!("unknown element option; expected {EXAMPLE}"))),
        }
    })?;
    if property.is_some() == expression.is_some() {
        return Err(meta.error(format!(
            "an exclusion element is either a property or an expression: {EXAMPLE}"
        )));
    }
    Ok(ElementAttr {
        property,
        expression,
        opclass,
        operator: required(op, meta, EXAMPLE)?,
    })
}

pub(crate) fn parse_exclusion(meta: &ParseNestedMeta<'_>) -> syn::Result<ExclusionAttr> {
    const EXAMPLE: &str = "`exclusion(name = \"EX_..\", method = \"gist\", element(property = \
                           \"room\", operator = \"=\"), element(property = \"during\", operator \
                           = \"&&\"))` (optionally with `where = \"<sql>\"`, `deferrable`, \
                           `initially_deferred`)";
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!("expected {EXAMPLE}")));
    }
    let (mut name, mut method, mut predicate) = (None, None, None);
    let (mut deferrable, mut initially_deferred) = (None, None);
    let mut elements = Vec::new();
    meta.parse_nested_meta(|inner| {
        let key = key_of(&inner);
        match key.as_str() {
            "name" => once(&mut name, object_name(string(&inner)?)?, &inner, "name"),
            "method" => once(
                &mut method,
                sql_name(string(&inner)?, "an access method")?,
                &inner,
                "method",
            ),
            "element" => {
                elements.push(parse_element(&inner)?);
                Ok(())
            }
            "where" => once(
                &mut predicate,
                sql_text(string(&inner)?, "exclusion predicate")?,
                &inner,
                "where",
            ),
            "deferrable" => flag(&mut deferrable, &inner, "deferrable"),
            "initially_deferred" => flag(&mut initially_deferred, &inner, "initially_deferred"),
            _ => Err(inner.error(format!("unknown exclusion option; expected {EXAMPLE}"))),
        }
    })?;
    if elements.is_empty() {
        return Err(meta.error(format!(
            "an exclusion constraint needs at least one `element(..)`: {EXAMPLE}"
        )));
    }
    Ok(ExclusionAttr {
        name: required(name, meta, EXAMPLE)?,
        method,
        elements,
        predicate,
        deferrable: deferrable.is_some() || initially_deferred.is_some(),
        initially_deferred: initially_deferred.is_some(),
    })
}

/// `primary_key(name = "pk_..", order = "tenant, id", deferrable, initially_deferred)` on the
/// struct: options of the key its `primary_key` fields make.
pub(crate) struct PrimaryKeyAttr {
    pub(crate) name: Option<LitStr>,
    pub(crate) order: Vec<String>,
    pub(crate) deferrable: bool,
    pub(crate) initially_deferred: bool,
}

pub(crate) fn parse_primary_key(meta: &ParseNestedMeta<'_>) -> syn::Result<PrimaryKeyAttr> {
    const EXAMPLE: &str = "`primary_key(name = \"pk_..\", order = \"tenantId, id\", deferrable, \
                           initially_deferred)` (each optional; the key's columns are the fields \
                           marked `#[ignis(primary_key)]`)";
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!(
            "on the struct, `primary_key` takes options: {EXAMPLE}"
        )));
    }
    let (mut name, mut order) = (None, None);
    let (mut deferrable, mut initially_deferred) = (None, None);
    meta.parse_nested_meta(|inner| {
        let key = key_of(&inner);
        match key.as_str() {
            "name" => once(&mut name, object_name(string(&inner)?)?, &inner, "name"),
            "order" => once(&mut order, name_list(&string(&inner)?)?, &inner, "order"),
            "deferrable" => flag(&mut deferrable, &inner, "deferrable"),
            "initially_deferred" => flag(&mut initially_deferred, &inner, "initially_deferred"),
            _ => Err(inner.error(format!("unknown primary_key option; expected {EXAMPLE}"))),
        }
    })?;
    Ok(PrimaryKeyAttr {
        name,
        order: order.unwrap_or_default(),
        deferrable: deferrable.is_some() || initially_deferred.is_some(),
        initially_deferred: initially_deferred.is_some(),
    })
}

/// `statistics = n` on a field: 0 to 10000.
pub(crate) fn statistics(meta: &ParseNestedMeta<'_>) -> syn::Result<i32> {
    let span = meta.path.span();
    let value = integer(meta)?;
    i32::try_from(value)
        .ok()
        .filter(|v| (0..=10000).contains(v))
        .ok_or_else(|| {
            syn::Error::new(
                span,
                format!("a statistics target is 0 to 10000, not {value}"),
            )
        })
}

/// `collation = "C"` on a field.
pub(crate) fn collation(lit: LitStr) -> syn::Result<LitStr> {
    sql_name(lit, "a collation")
}
