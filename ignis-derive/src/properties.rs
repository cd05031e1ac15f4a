//! `#[derive(Properties)]`: associated constants for typed filters
//! (`ignis_repo::filter::typed`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::DeriveInput;

use crate::attrs::{EnricherAttr, StructAttrs};
use crate::fields::fields;
use crate::names;

/// The constant's name for a field: its name in SCREAMING_SNAKE_CASE (`created_at` ->
/// `CREATED_AT`, `r#type` -> `TYPE`, `lastLogin` -> `LAST_LOGIN`).
fn const_name(field: &str) -> String {
    names::snake_case(field).to_uppercase()
}

/// The Rust type of an enricher's property, as a path under
/// `ignis_repo::filter::typed::__types` or a primitive.
#[derive(Clone, Copy)]
enum EnricherType {
    Text,
    Int,
    BigInt,
    Float,
    Bool,
    Bytes,
    Json,
    Timestamptz,
    Timestamp,
}

/// The properties the struct's enrichers add, each with its type and nullability, as
/// `ignis_schema::enrich` makes their columns (the property names do not change with the
/// column options).
fn enricher_properties(attrs: &StructAttrs) -> Vec<(String, EnricherType, bool)> {
    use EnricherType::*;
    let options = &attrs.enricher_options;
    let time = if options.tz_without_time_zone {
        Timestamp
    } else {
        Timestamptz
    };
    let id_ref = |string: bool| if string { Text } else { Int };
    let mut out = Vec::new();
    let mut add =
        |p: &str, ty: EnricherType, nullable: bool| out.push((p.to_string(), ty, nullable));
    for e in &attrs.enrichers {
        match e {
            EnricherAttr::Id(kind) => match kind.as_str() {
                "string" => add("id", Text, false),
                "big-number" => add("id", BigInt, false),
                _ => add("id", Int, false),
            },
            EnricherAttr::Tz { deleted } => {
                add("createdAt", time, false);
                if !options.tz_no_modified {
                    add("modifiedAt", time, false);
                }
                if *deleted {
                    add("deletedAt", time, true);
                }
            }
            EnricherAttr::UserAudit { string } => {
                add("createdBy", id_ref(*string), true);
                add("modifiedBy", id_ref(*string), true);
            }
            EnricherAttr::DataType => {
                add("dataType", Text, true);
                add("nValue", Float, true);
                add("tValue", Text, true);
                add("bValue", Bytes, true);
                add("jValue", Json, true);
                add("boValue", Bool, true);
            }
            EnricherAttr::UserColumns { string } => {
                add("realm", Text, true);
                add("status", Text, false);
                add("type", Text, false);
                add("activatedAt", Timestamptz, true);
                add("lastLoginAt", Timestamptz, true);
                add("parentId", id_ref(*string), true);
            }
            EnricherAttr::Principal {
                discriminator,
                string_id,
                ..
            } => {
                let d = discriminator
                    .as_ref()
                    .map_or_else(|| "principal".to_string(), syn::LitStr::value);
                add(&format!("{d}Type"), Text, true);
                add(&format!("{d}Id"), id_ref(*string_id), false);
            }
        }
    }
    out
}

fn enricher_type(ty: EnricherType, nullable: bool) -> TokenStream {
    let types = quote!(::ignis_repo::filter::typed::__types);
    let inner = match ty {
        EnricherType::Text => quote!(::std::string::String),
        EnricherType::Int => quote!(i32),
        EnricherType::BigInt => quote!(i64),
        EnricherType::Float => quote!(f64),
        EnricherType::Bool => quote!(bool),
        EnricherType::Bytes => quote!(::std::vec::Vec<u8>),
        EnricherType::Json => quote!(#types::Json),
        EnricherType::Timestamptz => quote!(#types::Timestamptz),
        EnricherType::Timestamp => quote!(#types::Timestamp),
    };
    if nullable {
        quote!(::std::option::Option<#inner>)
    } else {
        inner
    }
}

/// The impl for `input`, or the compile errors.
pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    // The struct's keys belong to `Model`; they are still checked, so a typo is reported
    // whichever derive the struct has.
    let attrs = StructAttrs::parse(&input.attrs)?;
    let fields = fields(input, "Properties")?;
    let typed = quote!(::ignis_repo::filter::typed);
    let ident = &input.ident;
    let vis = &input.vis;
    let consts = fields.iter().filter(|f| f.attrs.skip.is_none()).map(|f| {
        let name = format_ident!("{}", const_name(&f.name()), span = f.ident.span());
        let property = &f.property;
        match f.relation {
            Some((_, target)) => {
                let doc = format!(
                    "The relation `{property}` of `{ident}`, to include with a typed filter."
                );
                quote! {
                    #[doc = #doc]
                    #vis const #name: #typed::Related<Self, #target> =
                        #typed::Related::new(#property);
                }
            }
            None => {
                let ty = f.ty;
                let doc = format!(
                    "The property `{property}` of `{ident}`, for typed filters (conditions, \
                     order terms, fields)."
                );
                quote! {
                    #[doc = #doc]
                    #vis const #name: #typed::Property<Self, #ty> =
                        #typed::Property::new(#property);
                }
            }
        }
    });
    // The enrichers' properties that no field declares (by property, or by constant name).
    let declared: Vec<&str> = fields.iter().map(|f| f.property.as_str()).collect();
    let field_consts: Vec<String> = fields.iter().map(|f| const_name(&f.name())).collect();
    let mut enricher_consts = Vec::new();
    for (property, ty, nullable) in enricher_properties(&attrs) {
        let name = const_name(&property);
        if declared.contains(&property.as_str())
            || field_consts.contains(&name)
            || enricher_consts.iter().any(|(n, _)| *n == name)
        {
            continue;
        }
        let ident_name = format_ident!("{}", name);
        let ty = enricher_type(ty, nullable);
        let doc = format!(
            "The property `{property}` that an enricher of `{ident}` adds (the struct does not \
             declare it), for typed filters (conditions, order terms, fields)."
        );
        let tokens = quote! {
            #[doc = #doc]
            #vis const #ident_name: #typed::Property<Self, #ty> =
                #typed::Property::new(#property);
        };
        enricher_consts.push((name, tokens));
    }
    let enricher_consts = enricher_consts.into_iter().map(|(_, t)| t);
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #ident #ty_generics #where_clause {
            #(#consts)*
            #(#enricher_consts)*
        }
    })
}

#[cfg(test)]
mod tests {
    use super::const_name;

    #[test]
    fn constants_are_screaming_snake_case() {
        for (field, name) in [
            ("created_at", "CREATED_AT"),
            ("type", "TYPE"),
            ("lastLogin", "LAST_LOGIN"),
            ("id", "ID"),
        ] {
            assert_eq!(const_name(field), name);
        }
    }
}
