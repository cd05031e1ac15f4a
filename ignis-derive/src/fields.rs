//! The fields of a derived struct, with their attributes and property names.

use syn::{Data, DeriveInput, Fields, Type};

use crate::attrs::FieldAttrs;
use crate::names;
use crate::types;

/// Whether a relation field holds many rows or at most one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cardinality {
    /// `Vec<T>`.
    Many,
    /// `Option<T>`.
    One,
}

/// One named field.
pub(crate) struct Field<'a> {
    pub(crate) ident: &'a syn::Ident,
    pub(crate) ty: &'a Type,
    /// The Ignis property name.
    pub(crate) property: String,
    pub(crate) attrs: FieldAttrs,
    /// For a relation field: its cardinality and the related type.
    pub(crate) relation: Option<(Cardinality, &'a Type)>,
}

impl Field<'_> {
    /// The field's name as written, without `r#`.
    pub(crate) fn name(&self) -> String {
        names::field_name(self.ident)
    }
}

/// The named fields of `input`, or an error at the item when it is not a struct with named
/// fields, or at the first bad attribute.
pub(crate) fn fields<'a>(input: &'a DeriveInput, derive: &str) -> syn::Result<Vec<Field<'a>>> {
    let named = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => named,
            _ => {
                return Err(syn::Error::new_spanned(
                    &input.ident,
                    format!("#[derive({derive})] needs a struct with named fields"),
                ))
            }
        },
        _ => {
            return Err(syn::Error::new_spanned(
                &input.ident,
                format!(
                    "#[derive({derive})] needs a struct with named fields, not an enum or union"
                ),
            ))
        }
    };
    let mut out = Vec::with_capacity(named.named.len());
    let mut errors: Option<syn::Error> = None;
    for field in &named.named {
        let Some(ident) = field.ident.as_ref() else {
            continue;
        };
        let attrs = match FieldAttrs::parse(&field.attrs) {
            Ok(attrs) => attrs,
            Err(e) => {
                combine(&mut errors, e);
                continue;
            }
        };
        let property = match &attrs.property {
            Some(lit) => lit.value(),
            None => names::lower_camel(&names::field_name(ident)),
        };
        let relation = match &attrs.relation {
            None => None,
            Some(rel) => {
                let found = types::vec_inner(&field.ty)
                    .map(|t| (Cardinality::Many, t))
                    .or_else(|| types::option_inner(&field.ty).map(|t| (Cardinality::One, t)));
                if found.is_none() {
                    let message = format!(
                        "`relation` needs a `Vec<T>` field (a many relation) or an `Option<T>` \
                         field (a one relation), not `{}`",
                        types::display(&field.ty)
                    );
                    let error = match rel.span {
                        Some(span) => {
                            let mut e = syn::Error::new(span, message);
                            e.combine(syn::Error::new_spanned(
                                &field.ty,
                                "the field's type, which is neither `Vec<T>` nor `Option<T>`",
                            ));
                            e
                        }
                        None => syn::Error::new_spanned(&field.ty, message),
                    };
                    combine(&mut errors, error);
                    continue;
                }
                found
            }
        };
        out.push(Field {
            ident,
            ty: &field.ty,
            property,
            attrs,
            relation,
        });
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Adds `e` to the errors found so far, so one compile reports every bad field.
pub(crate) fn combine(errors: &mut Option<syn::Error>, e: syn::Error) {
    match errors {
        Some(all) => all.combine(e),
        None => *errors = Some(e),
    }
}
