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
    // The column fields, read by their index in `PROPERTIES`.
    let mut properties = Vec::new();
    let inits = fields.iter().map(|f| {
        let ident = f.ident;
        let property = &f.property;
        if f.attrs.skip.is_some() || f.attrs.hidden.is_some() {
            return quote!(#ident: ::std::default::Default::default());
        }
        match f.relation {
            None => {
                let k = properties.len();
                properties.push(property.clone());
                quote!(#ident: row.at(__positions[#k], #property)?)
            }
            Some((Cardinality::Many, target)) => {
                quote!(#ident: row.many_if_included::<#target>(#property)?)
            }
            Some((Cardinality::One, target)) => {
                quote!(#ident: row.one_if_included::<#target>(#property)?)
            }
        }
    });
    let inits: Vec<TokenStream> = inits.collect();
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #repo::FromRow for #ident #ty_generics #where_clause {
            const PROPERTIES: &'static [&'static str] = &[#(#properties),*];

            fn from_row(
                row: &#repo::RowRef<'_>,
            ) -> ::std::result::Result<Self, #repo::RepoError> {
                let __positions = row.positions_of(&[#(#properties),*]);
                ::std::result::Result::Ok(Self { #(#inits),* })
            }
        }
    })
}
