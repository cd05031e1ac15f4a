//! `#[derive(FromRow)]`: `impl ignis_repo::FromRow`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::attrs::StructAttrs;
use crate::fields::{fields, Cardinality};

/// The impl for `input`, or the compile errors.
pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    // The struct's keys belong to `Model`; they are still checked, so a typo is reported
    // whichever derive the struct has.
    StructAttrs::parse(&input.attrs)?;
    let fields = fields(input, "FromRow")?;
    let repo = quote!(::ignis_repo);
    let inits = fields.iter().map(|f| {
        let ident = f.ident;
        let property = &f.property;
        if f.attrs.skip.is_some() || f.attrs.hidden.is_some() {
            return quote!(#ident: ::std::default::Default::default());
        }
        match f.relation {
            None => quote!(#ident: row.get(#property)?),
            Some((Cardinality::Many, target)) => quote!(
                #ident: match row.many::<#target>(#property) {
                    ::std::result::Result::Ok(rows) => rows,
                    ::std::result::Result::Err(#repo::RepoError::Relation { ref message, .. })
                        if message.starts_with("not included") => ::std::vec::Vec::new(),
                    ::std::result::Result::Err(e) => return ::std::result::Result::Err(e),
                }
            ),
            Some((Cardinality::One, target)) => quote!(
                #ident: match row.one::<#target>(#property) {
                    ::std::result::Result::Ok(row) => row,
                    ::std::result::Result::Err(#repo::RepoError::Relation { ref message, .. })
                        if message.starts_with("not included") => ::std::option::Option::None,
                    ::std::result::Result::Err(e) => return ::std::result::Result::Err(e),
                }
            ),
        }
    });
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #repo::FromRow for #ident #ty_generics #where_clause {
            fn from_row(
                row: &#repo::RowRef<'_>,
            ) -> ::std::result::Result<Self, #repo::RepoError> {
                ::std::result::Result::Ok(Self { #(#inits),* })
            }
        }
    })
}
