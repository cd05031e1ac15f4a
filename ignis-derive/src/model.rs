//! `#[derive(Model)]`: `impl ignis_schema::ModelDef`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, LitStr};

use crate::attrs::{
    Action, EnricherAttr, EnricherOptions, ForeignKeyAttr, ForeignTarget, SequenceAttr, StructAttrs,
};
use crate::fields::{combine, fields, Cardinality};
use crate::names;
use crate::types;

/// The impl for `input`, or the compile errors.
pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let attrs = StructAttrs::parse(&input.attrs)?;
    let fields = fields(input, "Model")?;
    let schema = quote!(::ignis_schema);
    let model_name = match &attrs.name {
        Some(lit) => lit.value(),
        None => names::field_name(&input.ident),
    };

    let mut builder = Vec::new();
    if let Some(table) = &attrs.table {
        builder.push(quote!(.table(#table)));
    }
    if let Some(pg_schema) = &attrs.schema {
        builder.push(quote!(.schema(#pg_schema)));
    }
    for e in &attrs.enrichers {
        let enricher = enricher_with_options(e, &attrs.enricher_options);
        builder.push(quote!(.enrich(#schema::Enricher::#enricher)));
    }
    if attrs.skip_migrate.is_some() {
        builder.push(quote!(.skip_migrate()));
    }
    if let Some(old) = &attrs.renamed_from {
        builder.push(quote!(.renamed_from(#old)));
    }

    let mut columns = Vec::new();
    let mut constraints = Vec::new();
    let mut relations = Vec::new();
    let mut hidden = Vec::new();
    let mut enums: Vec<&syn::Type> = Vec::new();
    let mut errors = None;
    for f in &fields {
        if f.attrs.skip.is_some() {
            continue;
        }
        let property = &f.property;
        if let Some((cardinality, target)) = f.relation {
            relations.push(relation(
                f.attrs.relation.as_ref(),
                cardinality,
                target,
                property,
                &model_name,
            ));
            continue;
        }
        if f.attrs.hidden.is_some() {
            hidden.push(property.clone());
        }
        let (value_ty, nullable) = match types::option_inner(f.ty) {
            Some(inner) => (inner, true),
            None => (f.ty, false),
        };
        let pg_type = match &f.attrs.pg_type {
            Some(text) => quote!(#schema::derive_support::pg_type(#text)),
            None => match types::column_type(value_ty) {
                Some((tokens, used)) => {
                    if let Some(ty) = used {
                        if !enums
                            .iter()
                            .any(|t| types::display(t) == types::display(ty))
                        {
                            enums.push(ty);
                        }
                    }
                    tokens
                }
                None => {
                    combine(
                        &mut errors,
                        syn::Error::new_spanned(
                            f.ty,
                            format!(
                                "no Postgres type for the Rust type `{}`: use a mapped type (i16, i32, \
                                 i64, f32, f64, bool, String, Vec<u8>, serde_json::Value, chrono's \
                                 DateTime<Utc> / NaiveDateTime / NaiveDate / NaiveTime, uuid::Uuid, \
                                 Decimal, Vec<T> of those, Option<T>) or name the column's type with \
                                 #[ignis(pg_type = \"...\")]",
                                types::display(value_ty)
                            ),
                        ),
                    );
                    continue;
                }
            },
        };
        let column_name = match &f.attrs.column {
            Some(lit) => lit.value(),
            None => names::snake_case(&f.name()),
        };
        let mut column =
            quote!(#schema::Column::new(#property, #pg_type).column_name(#column_name));
        if !nullable {
            column.extend(quote!(.not_null()));
        }
        if let Some(default) = &f.attrs.default {
            column.extend(quote!(.default_sql(#default)));
        }
        if f.attrs.primary_key.is_some() {
            column.extend(quote!(.primary_key()));
        }
        if let Some(old) = &f.attrs.renamed_from {
            column.extend(quote!(.renamed_from(#old)));
        }
        if let Some(identity) = &f.attrs.identity {
            let generation = if identity.by_default {
                quote!(ByDefault)
            } else {
                quote!(Always)
            };
            let sequence = sequence_options(&identity.sequence);
            column.extend(quote!(.identity(#schema::Identity {
                generation: #schema::IdentityGeneration::#generation,
                sequence: #sequence,
            })));
        }
        if let Some(serial) = &f.attrs.sequence {
            let s = &serial.sequence;
            let any = s.start.is_some()
                || s.increment.is_some()
                || s.min_value.is_some()
                || s.max_value.is_some()
                || s.cache.is_some()
                || s.cycle;
            if any {
                let sequence = sequence_options(s);
                column.extend(quote!(.serial_sequence(#sequence)));
            }
        }
        if let Some(collation) = &f.attrs.collation {
            column.extend(quote!(.collate(#collation)));
        }
        if let Some(target) = f.attrs.statistics {
            column.extend(quote!(.statistics(#target)));
        }
        if let Some(comment) = &f.attrs.comment {
            column.extend(quote!(.comment(#comment)));
        }
        if let Some(name) = f.attrs.sequence.as_ref().and_then(|s| s.name.as_ref()) {
            column = quote!({
                let mut column = #column;
                column.sequence_name = ::std::option::Option::Some(::std::string::String::from(#name));
                column
            });
        }
        columns.push(column);

        if let Some(name) = &f.attrs.unique {
            let name = lit_or(name.as_ref(), || format!("UQ_{model_name}_{property}"));
            constraints.push(quote!(.unique(#name, [#property])));
        }
        if let Some(name) = &f.attrs.index {
            let name = lit_or(name.as_ref(), || format!("IDX_{model_name}_{property}"));
            constraints.push(quote!(.index(#schema::Index::new(#name, [#property]))));
        }
        if let Some(fk) = &f.attrs.foreign_key {
            let target = match &fk.target {
                ForeignTarget::Model(model) => model.value(),
                ForeignTarget::Table { table, .. } => table.value(),
            };
            let name = lit_or(fk.name.as_ref(), || {
                format!(
                    "FK_{model_name}_{property}_{target}_{}",
                    fk.references.join("_")
                )
            });
            constraints.push(foreign_key(fk, &name, std::slice::from_ref(property)));
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }
    for u in &attrs.uniques {
        let (name, properties) = (&u.name, &u.properties);
        let mut unique = quote!(#schema::UniqueConstraint::new(#name, [#(#properties),*]));
        if u.deferrable {
            unique.extend(quote!(.deferrable()));
        }
        if u.initially_deferred {
            unique.extend(quote!(.initially_deferred()));
        }
        if u.nulls_not_distinct {
            unique.extend(quote!(.nulls_not_distinct()));
        }
        constraints.push(if u.deferrable || u.nulls_not_distinct {
            quote!(.unique_constraint(#unique))
        } else {
            quote!(.unique(#name, [#(#properties),*]))
        });
    }
    for fk in &attrs.foreign_keys {
        let name = fk.name.as_ref().map(LitStr::value).unwrap_or_default();
        let properties = fk.properties.clone().unwrap_or_default();
        constraints.push(foreign_key(fk, &name, &properties));
    }
    for i in &attrs.indexes {
        let (name, properties) = (&i.name, &i.properties);
        let mut index = if i.keys.is_empty() {
            quote!(#schema::Index::new(#name, [#(#properties),*]))
        } else {
            let keys = i.keys.iter().map(|k| {
                let mut key = match (&k.property, &k.expression) {
                    (Some(p), _) => quote!(#schema::IndexKey::property(#p)),
                    (None, Some(e)) => quote!(#schema::IndexKey::expression(#e)),
                    (None, None) => quote!(#schema::IndexKey::default()),
                };
                if let Some(o) = &k.opclass {
                    key.extend(quote!(.opclass(#o)));
                }
                if let Some(c) = &k.collation {
                    key.extend(quote!(.collate(#c)));
                }
                let order = match k.desc {
                    Some(true) => quote!(::std::option::Option::Some(#schema::SortOrder::Desc)),
                    Some(false) => quote!(::std::option::Option::Some(#schema::SortOrder::Asc)),
                    None => quote!(::std::option::Option::None),
                };
                let nulls = match k.nulls_first {
                    Some(true) => quote!(::std::option::Option::Some(#schema::NullsOrder::First)),
                    Some(false) => quote!(::std::option::Option::Some(#schema::NullsOrder::Last)),
                    None => quote!(::std::option::Option::None),
                };
                quote!(#schema::IndexKey { order: #order, nulls: #nulls, ..#key })
            });
            quote!(#schema::Index::with_keys(#name, [#(#keys),*]))
        };
        if i.nulls_not_distinct {
            index.extend(quote!(.nulls_not_distinct()));
        }
        for (k, v) in &i.storage_parameters {
            index.extend(quote!(.storage_parameter(#k, #v)));
        }
        if !i.include.is_empty() {
            let include = &i.include;
            index.extend(quote!(.include([#(#include),*])));
        }
        if let Some(predicate) = &i.predicate {
            index.extend(quote!(.where_sql(#predicate)));
        }
        if i.unique {
            index.extend(quote!(.unique()));
        }
        if let Some(method) = &i.method {
            index.extend(quote!(.method(#method)));
        }
        constraints.push(quote!(.index(#index)));
    }
    for c in &attrs.checks {
        let (name, expr) = (&c.name, &c.expr);
        constraints.push(quote!(.check(#name, #expr)));
    }
    for x in &attrs.exclusions {
        let name = &x.name;
        let method = opt_string(x.method.as_ref());
        let predicate = opt_string(x.predicate.as_ref());
        let (deferrable, initially_deferred) = (x.deferrable, x.initially_deferred);
        let elements = x.elements.iter().map(|e| {
            let property = opt_string_value(e.property.as_deref());
            let expression = opt_string(e.expression.as_ref());
            let opclass = opt_string(e.opclass.as_ref());
            let operator = &e.operator;
            quote!(#schema::ExclusionElement {
                property: #property,
                expression: #expression,
                opclass: #opclass,
                operator: ::std::string::String::from(#operator),
            })
        });
        constraints.push(quote!(.exclusion(#schema::Exclusion {
            name: ::std::string::String::from(#name),
            method: #method,
            elements: ::std::vec![#(#elements),*],
            predicate: #predicate,
            deferrable: #deferrable,
            initially_deferred: #initially_deferred,
        })));
    }
    if let Some(pk) = &attrs.primary_key {
        if let Some(name) = &pk.name {
            constraints.push(quote!(.primary_key_constraint(#name)));
        }
        if !pk.order.is_empty() {
            let order = &pk.order;
            constraints.push(quote!(.primary_key_order([#(#order),*])));
        }
        if pk.deferrable {
            let initially = pk.initially_deferred;
            constraints.push(quote!(.primary_key_deferrable(#initially)));
        }
    }
    if let Some(comment) = &attrs.comment {
        constraints.push(quote!(.comment(#comment)));
    }
    let hide = (!hidden.is_empty()).then(|| quote!(.hide([#(#hidden),*])));
    let default_filter = attrs
        .default_filter
        .as_ref()
        .map(|text| quote!(.default_filter(#schema::derive_support::json_value(#text))));
    let enums_fn = (!enums.is_empty()).then(|| {
        quote! {
            fn enums() -> ::std::vec::Vec<#schema::EnumType> {
                let mut enums = ::std::vec::Vec::new();
                #(#schema::derive_support::push_enum(
                    &mut enums,
                    <#enums as #schema::PgEnumDef>::enum_type(),
                );)*
                enums
            }
        }
    });

    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #schema::ModelDef for #ident #ty_generics #where_clause {
            const MODEL_NAME: &'static str = #model_name;

            fn model() -> #schema::Model {
                let model = #schema::Model::new(#model_name) #(#builder)*;
                #(let model = #schema::derive_support::with_column(model, #columns);)*
                model #(#constraints)* #(#relations)* #hide #default_filter
            }

            #enums_fn
        }
    })
}

/// `::std::option::Option<String>` tokens of an optional string literal.
fn opt_string(lit: Option<&LitStr>) -> TokenStream {
    match lit {
        Some(lit) => quote!(::std::option::Option::Some(::std::string::String::from(#lit))),
        None => quote!(::std::option::Option::None),
    }
}

fn opt_string_value(value: Option<&str>) -> TokenStream {
    match value {
        Some(v) => quote!(::std::option::Option::Some(::std::string::String::from(#v))),
        None => quote!(::std::option::Option::None),
    }
}

/// `ignis_schema::SequenceOptions` with these options.
fn sequence_options(s: &SequenceAttr) -> TokenStream {
    let opt = |v: Option<i64>| match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    };
    let (start, increment, min, max, cache) = (
        opt(s.start),
        opt(s.increment),
        opt(s.min_value),
        opt(s.max_value),
        opt(s.cache),
    );
    let cycle = s.cycle;
    quote!(::ignis_schema::SequenceOptions {
        start: #start,
        increment: #increment,
        min_value: #min,
        max_value: #max,
        cache: #cache,
        cycle: #cycle,
    })
}

/// `.foreign_key(..)` of a foreign key named `name` from `properties`, with its target,
/// actions and options.
fn foreign_key(fk: &ForeignKeyAttr, name: &str, properties: &[String]) -> TokenStream {
    let schema = quote!(::ignis_schema);
    let references = &fk.references;
    let mut tokens = match &fk.target {
        ForeignTarget::Model(model) => quote!(#schema::ForeignKey::new(
            #name, [#(#properties),*], #model, [#(#references),*]
        )),
        ForeignTarget::Table {
            schema: pg_schema,
            table,
        } => {
            let pg_schema = pg_schema
                .as_ref()
                .map_or_else(|| "public".to_string(), LitStr::value);
            quote!(#schema::ForeignKey::to_table(
                #name, [#(#properties),*], #pg_schema, #table, [#(#references),*]
            ))
        }
    };
    let action = |a: Action| {
        let variant = syn::Ident::new(a.variant(), proc_macro2::Span::call_site());
        quote!(#schema::ForeignKeyAction::#variant)
    };
    if let Some(a) = fk.on_delete {
        let a = action(a);
        tokens.extend(quote!(.on_delete(#a)));
    }
    if let Some(a) = fk.on_update {
        let a = action(a);
        tokens.extend(quote!(.on_update(#a)));
    }
    if fk.match_full {
        tokens.extend(quote!(.match_full()));
    }
    if fk.initially_deferred {
        tokens.extend(quote!(.initially_deferred()));
    } else if fk.deferrable {
        tokens.extend(quote!(.deferrable()));
    }
    quote!(.foreign_key(#tokens))
}

fn lit_or(lit: Option<&LitStr>, default: impl FnOnce() -> String) -> String {
    lit.map(LitStr::value).unwrap_or_else(default)
}

fn relation(
    attr: Option<&crate::attrs::RelationAttr>,
    cardinality: Cardinality,
    target: &syn::Type,
    name: &str,
    model_name: &str,
) -> TokenStream {
    let schema = quote!(::ignis_schema);
    let target_name = match attr.and_then(|a| a.model.as_ref()) {
        Some(lit) => quote!(#lit),
        None => quote!(<#target as #schema::ModelDef>::MODEL_NAME),
    };
    // LoopBack's conventions: a one relation `author` joins `authorId` to the target's `id`;
    // a many relation of `User` joins `id` to the target's `userId`.
    let (default_fields, default_references) = match cardinality {
        Cardinality::One => (vec![format!("{name}Id")], vec!["id".to_string()]),
        Cardinality::Many => (
            vec!["id".to_string()],
            vec![format!("{}Id", names::lower_first(model_name))],
        ),
    };
    let fields = attr
        .and_then(|a| a.fields.clone())
        .unwrap_or(default_fields);
    let references = attr
        .and_then(|a| a.references.clone())
        .unwrap_or(default_references);
    let constructor = match cardinality {
        Cardinality::One => quote!(one),
        Cardinality::Many => quote!(many),
    };
    quote!(.relation(#schema::Relation::#constructor(
        #name, #target_name, [#(#fields),*], [#(#references),*]
    )))
}

/// `e` with the column options of `#[ignis(id(..), tz(..), user_audit(..))]`; the enricher's
/// own constructor (as the builder's users write it) when there are none.
fn enricher_with_options(e: &EnricherAttr, options: &EnricherOptions) -> TokenStream {
    let enrich = quote!(::ignis_schema::enrich);
    let column_name = |lit: &Option<LitStr>| match lit {
        Some(lit) => quote!(::std::option::Option::Some(::std::string::String::from(#lit))),
        None => quote!(::std::option::Option::None),
    };
    match e {
        EnricherAttr::Id(kind) if options.id_column.is_some() => {
            let constructor = match kind.as_str() {
                "string" => quote!(string),
                "big-number" => quote!(big_number),
                _ => quote!(number),
            };
            let name = column_name(&options.id_column);
            quote!(Id(#enrich::IdOptions {
                column_name: #name,
                ..#enrich::IdOptions::#constructor()
            }))
        }
        EnricherAttr::Tz { deleted }
            if options.tz_no_modified
                || options.tz_without_time_zone
                || options.tz_columns.iter().any(Option::is_some) =>
        {
            let with_timezone = !options.tz_without_time_zone;
            let column = |enable: bool, name: &Option<LitStr>| {
                let name = column_name(name);
                quote!(#enrich::TzColumn {
                    enable: #enable,
                    column_name: #name,
                    with_timezone: #with_timezone,
                })
            };
            let created = column(true, &options.tz_columns[0]);
            let modified = column(!options.tz_no_modified, &options.tz_columns[1]);
            let deleted = column(*deleted, &options.tz_columns[2]);
            quote!(Tz(#enrich::TzOptions {
                created: #created,
                modified: #modified,
                deleted: #deleted,
            }))
        }
        EnricherAttr::UserAudit { string } if options.audit_columns.iter().any(Option::is_some) => {
            let ty = ref_id_type(*string);
            let created = column_name(&options.audit_columns[0]);
            let modified = column_name(&options.audit_columns[1]);
            quote!(UserAudit(#enrich::UserAuditOptions {
                created: #enrich::AuditColumn { data_type: #ty, column_name: #created },
                modified: #enrich::AuditColumn { data_type: #ty, column_name: #modified },
            }))
        }
        _ => enricher(e),
    }
}

fn enricher(e: &EnricherAttr) -> TokenStream {
    let enrich = quote!(::ignis_schema::enrich);
    match e {
        EnricherAttr::Id(kind) => match kind.as_str() {
            "string" => quote!(Id(#enrich::IdOptions::string())),
            "big-number" => quote!(Id(#enrich::IdOptions::big_number())),
            _ => quote!(Id(#enrich::IdOptions::number())),
        },
        EnricherAttr::Tz { deleted: true } => quote!(Tz(#enrich::TzOptions::with_deleted())),
        EnricherAttr::Tz { deleted: false } => {
            quote!(Tz(<#enrich::TzOptions as ::std::default::Default>::default()))
        }
        EnricherAttr::UserAudit { string: true } => {
            quote!(UserAudit(#enrich::UserAuditOptions::string()))
        }
        EnricherAttr::UserAudit { string: false } => {
            quote!(UserAudit(<#enrich::UserAuditOptions as ::std::default::Default>::default()))
        }
        EnricherAttr::DataType => {
            quote!(DataType(<#enrich::DataTypeOptions as ::std::default::Default>::default()))
        }
        EnricherAttr::UserColumns { string } => {
            let ty = ref_id_type(*string);
            quote!(UserColumns(#enrich::UserColumnsOptions { parent_id_type: #ty }))
        }
        EnricherAttr::Principal {
            discriminator,
            string_id,
            default,
        } => {
            let discriminator = discriminator
                .as_ref()
                .map_or_else(|| "principal".to_string(), LitStr::value);
            let default = default.as_ref().map(LitStr::value).unwrap_or_default();
            let ty = ref_id_type(*string_id);
            quote!(Principal(#enrich::PrincipalOptions {
                discriminator: ::std::string::String::from(#discriminator),
                default_polymorphic: ::std::string::String::from(#default),
                polymorphic_id_type: #ty,
            }))
        }
    }
}

fn ref_id_type(string: bool) -> TokenStream {
    if string {
        quote!(::ignis_schema::enrich::RefIdType::String)
    } else {
        quote!(::ignis_schema::enrich::RefIdType::Number)
    }
}
