//! `#[derive(PgEnum)]`: `impl ignis_schema::PgEnumDef`, the `postgres` crate's `ToSql` and
//! `FromSql`, the typed filters' `FilterValue` and `Ordered`, and with `#[ignis(serde)]`
//! serde's `Serialize` and `Deserialize`, all by label.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Attribute, Data, DeriveInput, Fields, LitStr};

use crate::fields::combine;
use crate::names;

/// How variant names become labels when no `rename` is given.
#[derive(Clone, Copy)]
enum RenameAll {
    Snake,
    Lower,
    Upper,
    ScreamingSnake,
    Camel,
    Pascal,
    Kebab,
}

const RENAME_ALL: &str = "\"snake_case\" (the default), \"lowercase\", \"UPPERCASE\", \
                          \"SCREAMING_SNAKE_CASE\", \"camelCase\", \"PascalCase\" or \"kebab-case\"";

impl RenameAll {
    fn parse(lit: &LitStr) -> syn::Result<Self> {
        Ok(match lit.value().as_str() {
            "snake_case" => RenameAll::Snake,
            "lowercase" => RenameAll::Lower,
            "UPPERCASE" => RenameAll::Upper,
            "SCREAMING_SNAKE_CASE" => RenameAll::ScreamingSnake,
            "camelCase" => RenameAll::Camel,
            "PascalCase" => RenameAll::Pascal,
            "kebab-case" => RenameAll::Kebab,
            other => {
                return Err(syn::Error::new_spanned(
                    lit,
                    format!("unknown `rename_all` rule \"{other}\"; expected {RENAME_ALL}"),
                ))
            }
        })
    }

    /// The label of a variant named `variant` (PascalCase as Rust writes it).
    fn apply(self, variant: &str) -> String {
        let snake = names::snake_case(variant);
        match self {
            RenameAll::Snake => snake,
            RenameAll::Lower => variant.to_lowercase(),
            RenameAll::Upper => variant.to_uppercase(),
            RenameAll::ScreamingSnake => snake.to_uppercase(),
            RenameAll::Camel => names::lower_first(variant),
            RenameAll::Pascal => variant.to_string(),
            RenameAll::Kebab => snake.replace('_', "-"),
        }
    }
}

/// The `#[ignis(..)]` keys of the enum.
struct EnumAttrs {
    name: Option<LitStr>,
    schema: Option<LitStr>,
    rename_all: RenameAll,
    serde: bool,
}

const ENUM_KEYS: &str = "name, schema, rename_all, serde";

fn parse_enum_attrs(attrs: &[Attribute]) -> syn::Result<EnumAttrs> {
    let mut out = EnumAttrs {
        name: None,
        schema: None,
        rename_all: RenameAll::Snake,
        serde: false,
    };
    let mut seen: Vec<String> = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("ignis")) {
        attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            if seen.contains(&key) {
                return Err(meta.error(format!("duplicate `{key}` attribute")));
            }
            seen.push(key.clone());
            match key.as_str() {
                "name" => out.name = Some(identifier(meta.value()?.parse()?, "type name")?),
                "schema" => out.schema = Some(identifier(meta.value()?.parse()?, "schema")?),
                "rename_all" => out.rename_all = RenameAll::parse(&meta.value()?.parse()?)?,
                "serde" => out.serde = true,
                other => {
                    return Err(meta.error(format!(
                        "unknown ignis enum attribute `{other}`; expected one of: {ENUM_KEYS}"
                    )))
                }
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// A type or schema name: a lowercase SQL identifier, so DDL writes it unquoted and the
/// migrator compares it as Postgres prints it.
fn identifier(lit: LitStr, what: &str) -> syn::Result<LitStr> {
    let value = lit.value();
    if !is_plain_identifier(&value) {
        return Err(syn::Error::new_spanned(
            &lit,
            format!(
                "the enum's {what} must be a lowercase SQL identifier of at most 63 bytes \
                 (letters a-z, digits and `_`, not starting with a digit), not \"{value}\""
            ),
        ));
    }
    Ok(lit)
}

fn is_plain_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= 63
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A variant's `#[ignis(rename = "..")]`.
fn variant_rename(attrs: &[Attribute]) -> syn::Result<Option<LitStr>> {
    let mut rename = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("ignis")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                if rename.is_some() {
                    return Err(meta.error("duplicate `rename` attribute"));
                }
                rename = Some(meta.value()?.parse::<LitStr>()?);
                Ok(())
            } else {
                Err(meta.error("unknown ignis variant attribute; expected `rename = \"..\"`"))
            }
        })?;
    }
    Ok(rename)
}

/// The impls for `input`, or the compile errors.
pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[derive(PgEnum)] needs an enum whose variants have no fields",
        ));
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "#[derive(PgEnum)] needs an enum without generic parameters",
        ));
    }
    let attrs = parse_enum_attrs(&input.attrs)?;
    if data.variants.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "a Postgres enum type needs at least one label: the enum has no variant",
        ));
    }
    let ident = &input.ident;
    let mut errors: Option<syn::Error> = None;
    let mut variants = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    for v in &data.variants {
        if !matches!(v.fields, Fields::Unit) {
            combine(
                &mut errors,
                syn::Error::new_spanned(
                    &v.fields,
                    "a Postgres enum label holds no data: #[derive(PgEnum)] needs variants without fields",
                ),
            );
            continue;
        }
        let rename = match variant_rename(&v.attrs) {
            Ok(r) => r,
            Err(e) => {
                combine(&mut errors, e);
                continue;
            }
        };
        let (label, span) = match &rename {
            Some(lit) => (lit.value(), lit.span()),
            None => (
                attrs.rename_all.apply(&names::field_name(&v.ident)),
                v.ident.span(),
            ),
        };
        if label.is_empty() || label.len() > 63 {
            combine(
                &mut errors,
                syn::Error::new(
                    span,
                    format!(
                        "a Postgres enum label has 1 to 63 bytes, not {}",
                        label.len()
                    ),
                ),
            );
            continue;
        }
        if labels.contains(&label) {
            combine(
                &mut errors,
                syn::Error::new(
                    span,
                    format!("the label \"{label}\" is already another variant's"),
                ),
            );
            continue;
        }
        labels.push(label);
        variants.push(&v.ident);
    }
    if let Some(e) = errors {
        return Err(e);
    }

    let type_name = match &attrs.name {
        Some(lit) => lit.value(),
        None => {
            let name = names::snake_case(&names::field_name(ident));
            if !is_plain_identifier(&name) {
                return Err(syn::Error::new(
                    Span::call_site(),
                    format!("the type name `{name}` is not a lowercase SQL identifier: name it with #[ignis(name = \"..\")]"),
                ));
            }
            name
        }
    };
    let pg_schema = attrs
        .schema
        .as_ref()
        .map_or_else(|| "public".to_string(), LitStr::value);

    let schema = quote!(::ignis_schema);
    let pt = quote!(::ignis_repo::__private::postgres_types);
    let boxed_error = quote!(
        ::std::boxed::Box<dyn ::std::error::Error + ::std::marker::Sync + ::std::marker::Send>
    );
    let rust_name = ident.to_string();
    let accepts = quote! {
        match ty.kind() {
            #pt::Kind::Enum(_) => {
                ty.name() == <Self as #schema::PgEnumDef>::TYPE_NAME
                    && ty.schema() == <Self as #schema::PgEnumDef>::SCHEMA
            }
            _ => <&str as #pt::ToSql>::accepts(ty),
        }
    };
    let serde = attrs.serde.then(|| {
        let support = quote!(#schema::derive_support);
        quote! {
            #[automatically_derived]
            impl #support::__serde::Serialize for #ident {
                fn serialize<S: #support::__serde::Serializer>(
                    &self,
                    serializer: S,
                ) -> ::std::result::Result<S::Ok, S::Error> {
                    #support::serialize_label(self, serializer)
                }
            }

            #[automatically_derived]
            impl<'de> #support::__serde::Deserialize<'de> for #ident {
                fn deserialize<D: #support::__serde::Deserializer<'de>>(
                    deserializer: D,
                ) -> ::std::result::Result<Self, D::Error> {
                    #support::deserialize_label(deserializer)
                }
            }
        }
    });
    Ok(quote! {
        #[automatically_derived]
        impl #schema::PgEnumDef for #ident {
            const TYPE_NAME: &'static str = #type_name;
            const SCHEMA: &'static str = #pg_schema;
            const LABELS: &'static [&'static str] = &[#(#labels),*];

            fn label(&self) -> &'static str {
                match self {
                    #(Self::#variants => #labels,)*
                }
            }

            fn from_label(label: &str) -> ::std::option::Option<Self> {
                match label {
                    #(#labels => ::std::option::Option::Some(Self::#variants),)*
                    _ => ::std::option::Option::None,
                }
            }
        }

        #[automatically_derived]
        impl #pt::ToSql for #ident {
            fn to_sql(
                &self,
                ty: &#pt::Type,
                out: &mut #pt::private::BytesMut,
            ) -> ::std::result::Result<#pt::IsNull, #boxed_error> {
                <&str as #pt::ToSql>::to_sql(&<Self as #schema::PgEnumDef>::label(self), ty, out)
            }

            fn accepts(ty: &#pt::Type) -> bool {
                #accepts
            }

            #pt::to_sql_checked!();
        }

        #[automatically_derived]
        impl<'a> #pt::FromSql<'a> for #ident {
            fn from_sql(
                ty: &#pt::Type,
                raw: &'a [u8],
            ) -> ::std::result::Result<Self, #boxed_error> {
                let label = <&str as #pt::FromSql>::from_sql(ty, raw)?;
                <Self as #schema::PgEnumDef>::from_label(label).ok_or_else(|| {
                    ::std::format!(
                        "`{}` is not a label of {} (Postgres enum {}.{})",
                        label,
                        #rust_name,
                        <Self as #schema::PgEnumDef>::SCHEMA,
                        <Self as #schema::PgEnumDef>::TYPE_NAME,
                    )
                    .into()
                })
            }

            fn accepts(ty: &#pt::Type) -> bool {
                #accepts
            }
        }

        #[automatically_derived]
        impl ::ignis_repo::filter::typed::FilterValue for #ident {
            fn to_filter_json(&self) -> ::ignis_repo::filter::typed::FilterJson {
                ::ignis_repo::filter::typed::enum_label(self)
            }
        }

        #[automatically_derived]
        impl ::ignis_repo::filter::typed::Ordered for #ident {}

        #serde
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_rules_make_labels() {
        for (rule, label) in [
            (RenameAll::Snake, "in_progress"),
            (RenameAll::Lower, "inprogress"),
            (RenameAll::Upper, "INPROGRESS"),
            (RenameAll::ScreamingSnake, "IN_PROGRESS"),
            (RenameAll::Camel, "inProgress"),
            (RenameAll::Pascal, "InProgress"),
            (RenameAll::Kebab, "in-progress"),
        ] {
            assert_eq!(rule.apply("InProgress"), label);
        }
    }

    #[test]
    fn type_names_are_plain_identifiers() {
        assert!(is_plain_identifier("order_status"));
        assert!(is_plain_identifier("_x1"));
        for bad in ["", "Mood", "1mood", "my-mood", "a\"b", &"x".repeat(64)] {
            assert!(!is_plain_identifier(bad), "{bad}");
        }
    }
}
