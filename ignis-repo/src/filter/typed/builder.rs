//! The typed filter builder, [`TypedFilter`], and the field lists it takes.

#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};
#[allow(unused_imports)]
use serde_json::{Map, Value as JsonValue};
#[allow(unused_imports)]
use std::fmt;
#[allow(unused_imports)]
use std::marker::PhantomData;

/// Properties of `M` for [`TypedFilter::fields`]: one [`Property`], a tuple of up to 12 of
/// them (of different types), or an array or `Vec` of properties of one type.
pub trait FieldList<M> {
    /// Appends the property names, in order.
    fn push_names(self, names: &mut Vec<&'static str>);
}

impl<M, T> FieldList<M> for Property<M, T> {
    fn push_names(self, names: &mut Vec<&'static str>) {
        names.push(self.name);
    }
}

impl<M, T, const N: usize> FieldList<M> for [Property<M, T>; N] {
    fn push_names(self, names: &mut Vec<&'static str>) {
        names.extend(self.iter().map(Property::name));
    }
}

impl<M, T> FieldList<M> for Vec<Property<M, T>> {
    fn push_names(self, names: &mut Vec<&'static str>) {
        names.extend(self.iter().map(Property::name));
    }
}

macro_rules! field_tuple {
    ($($p:ident),+) => {
        impl<M, $($p: FieldList<M>),+> FieldList<M> for ($($p,)+) {
            #[allow(non_snake_case)]
            fn push_names(self, names: &mut Vec<&'static str>) {
                let ($($p,)+) = self;
                $($p.push_names(names);)+
            }
        }
    };
}
field_tuple!(A);
field_tuple!(A, B);
field_tuple!(A, B, C);
field_tuple!(A, B, C, D);
field_tuple!(A, B, C, D, E);
field_tuple!(A, B, C, D, E, F);
field_tuple!(A, B, C, D, E, F, G);
field_tuple!(A, B, C, D, E, F, G, H);
field_tuple!(A, B, C, D, E, F, G, H, I);
field_tuple!(A, B, C, D, E, F, G, H, I, J);
field_tuple!(A, B, C, D, E, F, G, H, I, J, K);
field_tuple!(A, B, C, D, E, F, G, H, I, J, K, L);

/// The `fields` of a typed filter.
#[derive(Clone, Debug)]
pub(super) enum Selection {
    Only(Vec<&'static str>),
    AllBut(Vec<&'static str>),
}

/// A filter on the model `M` (Ignis `TFilter`), built with typed conditions, order terms and
/// includes, written as the filter JSON a repository takes (`serde_json::Value::from(filter)`,
/// [`TypedFilter::to_json`]). See the [module docs](super).
///
/// ```
/// use ignis_repo::filter::typed::{Property, Related, TypedFilter};
/// use serde_json::json;
///
/// struct Post;
/// struct Comment;
/// const TITLE: Property<Post, String> = Property::new("title");
/// const VIEWS: Property<Post, i32> = Property::new("views");
/// const PUBLISHED_AT: Property<Post, Option<chrono::NaiveDate>> = Property::new("publishedAt");
/// const COMMENTS: Related<Post, Comment> = Related::new("comments");
///
/// let filter = TypedFilter::new()
///     .r#where(PUBLISHED_AT.is_not_null())
///     .r#where(VIEWS.between(10, 100).or(TITLE.like("Rust%")))
///     .fields((TITLE, VIEWS))
///     .order(VIEWS.desc().nulls_last())
///     .order(TITLE.asc())
///     .skip(40)
///     .limit(20)
///     .include(COMMENTS.skip_default_filter());
/// assert_eq!(serde_json::Value::from(filter), json!({
///     "where": {"and": [
///         {"publishedAt": {"neq": null}},
///         {"or": [{"views": {"between": [10, 100]}}, {"title": {"like": "Rust%"}}]}
///     ]},
///     "fields": ["title", "views"],
///     "order": ["views DESC NULLS LAST", "title ASC"],
///     "skip": 40,
///     "limit": 20,
///     "include": [{"relation": "comments", "shouldSkipDefaultFilter": true}]
/// }));
/// ```
pub struct TypedFilter<M> {
    r#where: Option<Condition<M>>,
    pub(super) fields: Option<Selection>,
    pub(super) order: Vec<OrderBy<M>>,
    pub(super) limit: Option<u64>,
    pub(super) skip: Option<u64>,
    pub(super) include: Vec<Include<M>>,
}

impl<M> Clone for TypedFilter<M> {
    fn clone(&self) -> Self {
        TypedFilter {
            r#where: self.r#where.clone(),
            fields: self.fields.clone(),
            order: self.order.clone(),
            limit: self.limit,
            skip: self.skip,
            include: self.include.clone(),
        }
    }
}

impl<M> fmt::Debug for TypedFilter<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TypedFilter").field(&self.to_json()).finish()
    }
}

impl<M> Default for TypedFilter<M> {
    fn default() -> Self {
        TypedFilter::new()
    }
}

impl<M> TypedFilter<M> {
    /// The empty filter (`{}`: every row, in no particular order).
    pub fn new() -> Self {
        TypedFilter {
            r#where: None,
            fields: None,
            order: Vec::new(),
            limit: None,
            skip: None,
            include: Vec::new(),
        }
    }

    /// Adds a where condition; a second call ANDs with the first.
    pub fn r#where(mut self, condition: Condition<M>) -> Self {
        self.r#where = Some(match self.r#where.take() {
            Some(existing) => existing.and(condition),
            None => condition,
        });
        self
    }

    /// Returns only these properties (`"fields": ["id", "email"]`; hidden properties never
    /// leave the repository either way). Replaces an earlier `fields` / `fields_except`.
    pub fn fields(mut self, properties: impl FieldList<M>) -> Self {
        let mut names = Vec::new();
        properties.push_names(&mut names);
        self.fields = Some(Selection::Only(names));
        self
    }

    /// Returns every property but these (`"fields": {"secret": false}`). Replaces an earlier
    /// `fields` / `fields_except`.
    pub fn fields_except(mut self, properties: impl FieldList<M>) -> Self {
        let mut names = Vec::new();
        properties.push_names(&mut names);
        self.fields = Some(Selection::AllBut(names));
        self
    }

    /// Adds an order term after those already given.
    pub fn order(mut self, term: OrderBy<M>) -> Self {
        self.order.push(term);
        self
    }

    /// At most `limit` rows.
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Skips the first `skip` rows (Ignis `skip` / `offset`).
    pub fn skip(mut self, skip: u64) -> Self {
        self.skip = Some(skip);
        self
    }

    /// Includes a relation ([`Related`]) with the rows, or an [`Include`] with a scope.
    pub fn include(mut self, relation: impl Into<Include<M>>) -> Self {
        self.include.push(relation.into());
        self
    }

    /// The filter JSON: an object with only the keys set (`where`, `fields`, `order`,
    /// `limit`, `skip`, `include`).
    pub fn to_json(&self) -> JsonValue {
        let mut object = Map::new();
        if let Some(condition) = &self.r#where {
            object.insert("where".into(), condition.to_json());
        }
        match &self.fields {
            Some(Selection::Only(names)) => {
                let names = names.iter().map(|n| JsonValue::from(*n)).collect();
                object.insert("fields".into(), JsonValue::Array(names));
            }
            Some(Selection::AllBut(names)) => {
                let names = names
                    .iter()
                    .map(|n| (n.to_string(), JsonValue::Bool(false)))
                    .collect();
                object.insert("fields".into(), JsonValue::Object(names));
            }
            None => {}
        }
        if !self.order.is_empty() {
            let terms = self.order.iter().map(|t| JsonValue::from(t.term()));
            object.insert("order".into(), terms.collect());
        }
        if let Some(limit) = self.limit {
            object.insert("limit".into(), limit.into());
        }
        if let Some(skip) = self.skip {
            object.insert("skip".into(), skip.into());
        }
        if !self.include.is_empty() {
            let entries = self.include.iter().map(Include::to_json);
            object.insert("include".into(), entries.collect());
        }
        JsonValue::Object(object)
    }

    /// [`TypedFilter::to_json`], consuming the builder.
    pub fn into_json(self) -> JsonValue {
        self.to_json()
    }
}

impl<M> From<TypedFilter<M>> for JsonValue {
    /// The filter JSON ([`TypedFilter::to_json`]).
    fn from(filter: TypedFilter<M>) -> JsonValue {
        filter.to_json()
    }
}

impl<M> From<&TypedFilter<M>> for JsonValue {
    /// The filter JSON ([`TypedFilter::to_json`]).
    fn from(filter: &TypedFilter<M>) -> JsonValue {
        filter.to_json()
    }
}
