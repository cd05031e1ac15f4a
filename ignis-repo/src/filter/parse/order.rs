//! `order`: a string or an array of `property [ASC|DESC] [NULLS FIRST|NULLS LAST]` terms.

use ignis_schema::Model;
use serde_json::Value as JsonValue;

use super::path::resolve_field;
use super::Parser;
use crate::filter::error::{describe, excerpt, FilterError};
use crate::filter::{Direction, Nulls, OrderTerm};

impl Parser<'_> {
    pub(super) fn order(
        &mut self,
        model: &Model,
        value: &JsonValue,
    ) -> Result<Vec<OrderTerm>, FilterError> {
        let mut terms = Vec::new();
        match value {
            JsonValue::Null => return Ok(Vec::new()),
            JsonValue::String(s) => self.order_terms(model, s, &mut terms)?,
            JsonValue::Array(items) => {
                terms.reserve(items.len());
                for item in items {
                    match item {
                        JsonValue::String(s) => self.order_terms(model, s, &mut terms)?,
                        other => {
                            return Err(FilterError::InvalidOrder {
                                term: describe(other),
                                reason: "an order term must be a string".into(),
                            })
                        }
                    }
                }
            }
            other => {
                return Err(FilterError::malformed(format!(
                    "`order` must be a string or an array of strings, found {}",
                    describe(other)
                )))
            }
        }
        Ok(terms)
    }

    /// The comma-separated terms of one order string, appended to `terms`.
    fn order_terms(
        &mut self,
        model: &Model,
        s: &str,
        terms: &mut Vec<OrderTerm>,
    ) -> Result<(), FilterError> {
        for term in s.split(',') {
            self.tick()?;
            terms.push(order_term(model, term)?);
        }
        Ok(())
    }
}

/// One order term: `key [ASC|DESC] [NULLS FIRST|NULLS LAST]`, case-insensitive.
fn order_term(model: &Model, term: &str) -> Result<OrderTerm, FilterError> {
    let invalid = |reason: &str| FilterError::InvalidOrder {
        term: excerpt(term.trim()).into_owned(),
        reason: reason.to_string(),
    };
    let mut words = term.split_whitespace();
    let Some(key) = words.next() else {
        return Err(invalid("the term is empty"));
    };
    let field = resolve_field(model, key)?;
    let mut direction = Direction::Asc;
    let mut nulls = None;
    let mut next = words.next();
    if let Some(word) = next {
        if word.eq_ignore_ascii_case("asc") {
            next = words.next();
        } else if word.eq_ignore_ascii_case("desc") {
            direction = Direction::Desc;
            next = words.next();
        }
    }
    match next {
        None => {}
        Some(word) if word.eq_ignore_ascii_case("nulls") => {
            nulls = match words.next() {
                Some(w) if w.eq_ignore_ascii_case("first") => Some(Nulls::First),
                Some(w) if w.eq_ignore_ascii_case("last") => Some(Nulls::Last),
                _ => return Err(invalid("NULLS must be followed by FIRST or LAST")),
            };
            if words.next().is_some() {
                return Err(invalid("unexpected words after NULLS FIRST / LAST"));
            }
        }
        Some(_) => {
            return Err(invalid(
                "expected `property [ASC|DESC] [NULLS FIRST|NULLS LAST]`",
            ))
        }
    }
    Ok(OrderTerm {
        field,
        direction,
        nulls,
    })
}
