//! `#[derive(Properties)]`: associated constants for typed filters
//! (`ignis_repo::filter::typed`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::DeriveInput;

use crate::attrs::StructAttrs;
use crate::fields::fields;
use crate::names;

/// The constant's name for a field: its name in SCREAMING_SNAKE_CASE (`created_at` ->
/// `CREATED_AT`, `r#type` -> `TYPE`, `lastLogin` -> `LAST_LOGIN`).
fn const_name(field: &str) -> String {
    names::snake_case(field).to_uppercase()
}

/// The impl for `input`, or the compile errors.
pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    // The struct's keys belong to `Model`; they are still checked, so a typo is reported
    // whichever derive the struct has.
    StructAttrs::parse(&input.attrs)?;
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
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #ident #ty_generics #where_clause {
            #(#consts)*
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
