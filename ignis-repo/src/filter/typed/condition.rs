//! Conditions, order terms, relations and includes of typed filters.

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

/// The shape of a condition, turned into JSON once the builder is done.
#[derive(Clone, Debug)]
pub(super) enum Node {
    /// `{key: {op: value}}`.
    Leaf(JsonValue),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

impl Node {
    pub(super) fn to_json(&self) -> JsonValue {
        let group = |key: &str, value: JsonValue| {
            let mut object = Map::new();
            object.insert(key.to_string(), value);
            JsonValue::Object(object)
        };
        match self {
            Node::Leaf(json) => json.clone(),
            Node::And(parts) => group("and", parts.iter().map(Node::to_json).collect()),
            Node::Or(parts) => group("or", parts.iter().map(Node::to_json).collect()),
            Node::Not(inner) => group("not", inner.to_json()),
        }
    }
}

/// A where condition on the model `M`: one property's ([`Property`]'s methods), or conditions
/// combined with [`and`](Condition::and), [`or`](Condition::or) and [`not`] (or `!`).
///
/// As JSON (`serde_json::Value::from(condition)`) it is an Ignis where object, what `count`,
/// `exists_with`, `update_all` and `delete_all` take: `{"email": {"eq": "a@b.c"}}`,
/// `{"and": [.., ..]}`, `{"or": [.., ..]}`, `{"not": {..}}`. Chains of `and` (or of `or`)
/// make one group, not nested ones.
///
/// ```
/// use ignis_repo::filter::typed::{not, Property};
/// use serde_json::{json, Value};
///
/// struct User;
/// const AGE: Property<User, i32> = Property::new("age");
/// const NAME: Property<User, String> = Property::new("name");
/// let adults_not_bob = AGE.gte(18).and(AGE.lt(65)).and(not(NAME.eq("Bob")));
/// assert_eq!(Value::from(adults_not_bob), json!({"and": [
///     {"age": {"gte": 18}}, {"age": {"lt": 65}}, {"not": {"name": {"eq": "Bob"}}}
/// ]}));
/// ```
pub struct Condition<M> {
    pub(super) node: Node,
    pub(super) marker: PhantomData<fn() -> M>,
}

impl<M> Clone for Condition<M> {
    fn clone(&self) -> Self {
        Condition::from_node(self.node.clone())
    }
}

impl<M> fmt::Debug for Condition<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Condition").field(&self.to_json()).finish()
    }
}

impl<M> Condition<M> {
    pub(super) fn from_node(node: Node) -> Self {
        Condition {
            node,
            marker: PhantomData,
        }
    }

    /// Both this condition and `other` (`{"and": [self, other]}`).
    pub fn and(self, other: Condition<M>) -> Condition<M> {
        let mut parts = match self.node {
            Node::And(parts) => parts,
            node => vec![node],
        };
        match other.node {
            Node::And(more) => parts.extend(more),
            node => parts.push(node),
        }
        Condition::from_node(Node::And(parts))
    }

    /// This condition or `other` (`{"or": [self, other]}`).
    pub fn or(self, other: Condition<M>) -> Condition<M> {
        let mut parts = match self.node {
            Node::Or(parts) => parts,
            node => vec![node],
        };
        match other.node {
            Node::Or(more) => parts.extend(more),
            node => parts.push(node),
        }
        Condition::from_node(Node::Or(parts))
    }

    /// The where object.
    pub fn to_json(&self) -> JsonValue {
        self.node.to_json()
    }
}

/// The negation of `condition` (`{"not": condition}`); `!condition` is the same.
pub fn not<M>(condition: Condition<M>) -> Condition<M> {
    Condition::from_node(Node::Not(Box::new(condition.node)))
}

impl<M> std::ops::Not for Condition<M> {
    type Output = Condition<M>;

    /// [`not`]`(self)`.
    fn not(self) -> Condition<M> {
        not(self)
    }
}

impl<M> From<Condition<M>> for JsonValue {
    /// The where object ([`Condition::to_json`]).
    fn from(condition: Condition<M>) -> JsonValue {
        condition.to_json()
    }
}

/// One order term on the model `M`: [`Property::asc`] / [`Property::desc`] (or a
/// [`JsonPath`]'s), optionally with where NULLs go.
pub struct OrderBy<M> {
    pub(super) key: String,
    pub(super) direction: &'static str,
    pub(super) nulls: Option<&'static str>,
    pub(super) marker: PhantomData<fn() -> M>,
}

impl<M> Clone for OrderBy<M> {
    fn clone(&self) -> Self {
        OrderBy {
            key: self.key.clone(),
            direction: self.direction,
            nulls: self.nulls,
            marker: PhantomData,
        }
    }
}

impl<M> fmt::Debug for OrderBy<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OrderBy").field(&self.term()).finish()
    }
}

impl<M> OrderBy<M> {
    pub(super) fn new(key: String, direction: &'static str) -> Self {
        OrderBy {
            key,
            direction,
            nulls: None,
            marker: PhantomData,
        }
    }

    /// NULLs before the other values (`NULLS FIRST`).
    pub fn nulls_first(mut self) -> Self {
        self.nulls = Some("NULLS FIRST");
        self
    }

    /// NULLs after the other values (`NULLS LAST`).
    pub fn nulls_last(mut self) -> Self {
        self.nulls = Some("NULLS LAST");
        self
    }

    /// The term as the filter JSON writes it: `"createdAt DESC"`, `"name ASC NULLS LAST"`.
    pub fn term(&self) -> String {
        match self.nulls {
            Some(nulls) => format!("{} {} {nulls}", self.key, self.direction),
            None => format!("{} {}", self.key, self.direction),
        }
    }
}

/// A relation of the model `M` to the model `R`: what `#[derive(Properties)]` generates for a
/// `#[ignis(relation)]` field (`User::ORDERS: Related<User, Order>`), to
/// [`include`](TypedFilter::include) it, with a scope filter typed by `R`.
pub struct Related<M, R> {
    pub(super) name: &'static str,
    pub(super) marker: PhantomData<fn() -> (M, R)>,
}

impl<M, R> Clone for Related<M, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, R> Copy for Related<M, R> {}

impl<M, R> fmt::Debug for Related<M, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Related").field(&self.name).finish()
    }
}

impl<M, R> Related<M, R> {
    /// The relation `name` of `M`, to `R`. As with [`Property::new`], a name written by hand
    /// is checked when the repository parses the filter.
    pub const fn new(name: &'static str) -> Self {
        Related {
            name,
            marker: PhantomData,
        }
    }

    /// The relation name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The inclusion with a scope: `{"relation": name, "scope": filter}`; the scope's where,
    /// fields, order, limit, skip and includes apply to the related rows.
    pub fn scope(self, filter: TypedFilter<R>) -> Include<M> {
        Include {
            relation: self.name,
            scope: Some(filter.into_json()),
            skip_default_filter: false,
            marker: PhantomData,
        }
    }

    /// The inclusion without the related model's default filter (Ignis
    /// `shouldSkipDefaultFilter`), e.g. to load soft-deleted related rows too.
    pub fn skip_default_filter(self) -> Include<M> {
        Include::from(self).skip_default_filter()
    }
}

/// One `include` entry of a filter on `M`: a [`Related`] (`"orders"`) or one with a scope
/// (`{"relation": "orders", "scope": {..}}`).
pub struct Include<M> {
    pub(super) relation: &'static str,
    pub(super) scope: Option<JsonValue>,
    pub(super) skip_default_filter: bool,
    pub(super) marker: PhantomData<fn() -> M>,
}

impl<M> Clone for Include<M> {
    fn clone(&self) -> Self {
        Include {
            relation: self.relation,
            scope: self.scope.clone(),
            skip_default_filter: self.skip_default_filter,
            marker: PhantomData,
        }
    }
}

impl<M> fmt::Debug for Include<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Include").field(&self.to_json()).finish()
    }
}

impl<M, R> From<Related<M, R>> for Include<M> {
    /// The inclusion without a scope.
    fn from(related: Related<M, R>) -> Self {
        Include {
            relation: related.name,
            scope: None,
            skip_default_filter: false,
            marker: PhantomData,
        }
    }
}

impl<M> Include<M> {
    /// This inclusion without the related model's default filter (`shouldSkipDefaultFilter`).
    pub fn skip_default_filter(mut self) -> Self {
        self.skip_default_filter = true;
        self
    }

    /// The entry: the relation name alone, or an object with its scope and
    /// `shouldSkipDefaultFilter`.
    pub fn to_json(&self) -> JsonValue {
        if self.scope.is_none() && !self.skip_default_filter {
            return JsonValue::String(self.relation.to_string());
        }
        let mut object = Map::new();
        object.insert("relation".into(), JsonValue::String(self.relation.into()));
        if let Some(scope) = &self.scope {
            object.insert("scope".into(), scope.clone());
        }
        if self.skip_default_filter {
            object.insert("shouldSkipDefaultFilter".into(), JsonValue::Bool(true));
        }
        JsonValue::Object(object)
    }
}
