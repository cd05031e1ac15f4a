//! Kept statements of finds: a service sends the same filter with other values (a search
//! form, a page of a listing), so a repository keeps, per filter document it has planned, the
//! statement written for it and the places of the values taken from the JSON as they are. A
//! later document that equals a kept one everywhere except at those places runs that
//! statement with its own values, without being parsed again.
//!
//! Nothing here reads the filter language. The parser numbers each value it coerces straight
//! from one JSON node ([`ValueSlot`]: a non-null scalar compared with a column, or an
//! `in` / `inq` / `nin` list of scalars on a column), and the statement writer reports which
//! parameter each numbered value became (`SqlWriter::slots`). A match walks the two documents
//! side by side: every other node must be equal (the same keys in the same order, the same
//! values), and a numbered node is coerced by the same function, with the same checks, as the
//! parser coerces it, and must give a value of the same variant written with the same cast.
//! Any difference, or a value the coercion refuses, is a miss: the document is parsed as
//! every other, and gets the parser's answer, errors included.

use std::sync::Arc;

use serde_json::Value as JsonValue;

use super::sql::{Param, SqlWriter};
use crate::filter::ValueSlot;

/// Most kept statements per repository; past that, filters are parsed per call.
pub(crate) const TEMPLATES: usize = 16;

/// Deepest document kept (a filter nests groups at most `FilterLimits::max_depth` levels; a
/// jsonb equality operand may nest more, and is then parsed per call).
const MAX_DEPTH: usize = 64;

/// One kept find (see the module doc).
#[derive(Debug)]
pub(crate) struct Template {
    /// The document the statement was written for.
    document: JsonValue,
    /// Whether it was planned without the model's default filter (a handle's
    /// `skip_default_filter`); it answers only handles that plan alike.
    skip_default_filter: bool,
    /// The statement.
    pub(crate) sql: String,
    /// Its parameters for `document`, in placeholder order.
    values: Vec<Param<'static>>,
    /// The numbered nodes of `document`, in document order.
    slots: Vec<Slot>,
    /// For each parameter, the index into `slots` of the node it comes from, if any.
    param_slot: Vec<Option<usize>>,
}

/// A numbered node of a kept document.
#[derive(Debug)]
struct Slot {
    /// Its place in a pre-order walk of the document (the root is 0).
    ordinal: usize,
    /// The number of nodes of its subtree (itself included), skipped after it.
    span: usize,
    /// How it was coerced.
    value: ValueSlot,
}

impl Template {
    /// The template of `document`, parsed with `numbered` values into the find statement `w`;
    /// `None` when a numbered node is not found once in `document`, a numbered value is not
    /// bound exactly once, a parameter is a reference to a caller's value, or the document is
    /// deeper than [`MAX_DEPTH`].
    pub(crate) fn new(
        document: &JsonValue,
        skip_default_filter: bool,
        numbered: Vec<ValueSlot>,
        w: &SqlWriter<'_>,
    ) -> Option<Template> {
        let mut found: Vec<Option<(usize, usize)>> = vec![None; numbered.len()];
        let mut ordinal = 0;
        locate(document, &numbered, &mut found, &mut ordinal, 0)?;
        let mut param_slot = vec![None; w.values.len()];
        let mut bound = vec![0u8; numbered.len()];
        for &(slot, param) in &w.slots {
            let index = (slot as usize).checked_sub(1)?;
            *bound.get_mut(index)? += 1;
            *param_slot.get_mut(param)? = Some(index);
        }
        if bound.iter().any(|&n| n != 1) {
            return None;
        }
        let values = w
            .values
            .iter()
            .map(|p| match p {
                Param::Value(v) => Some(Param::Value(v.clone())),
                Param::Ints(a) => Some(Param::Ints(a.clone())),
                Param::Ref(_) => None,
            })
            .collect::<Option<Vec<_>>>()?;
        // Slots in document order; `param_slot` follows them there.
        let mut order: Vec<usize> = (0..numbered.len()).collect();
        let places = found.into_iter().collect::<Option<Vec<_>>>()?;
        order.sort_by_key(|&i| places[i].0);
        let mut renumber = vec![0; numbered.len()];
        for (new, &old) in order.iter().enumerate() {
            renumber[old] = new;
        }
        for p in param_slot.iter_mut().flatten() {
            *p = renumber[*p];
        }
        let mut numbered: Vec<Option<ValueSlot>> = numbered.into_iter().map(Some).collect();
        let slots = order
            .iter()
            .map(|&i| {
                let (ordinal, span) = places[i];
                numbered[i].take().map(|value| Slot {
                    ordinal,
                    span,
                    value,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Template {
            document: document.clone(),
            skip_default_filter,
            sql: w.sql.clone(),
            values,
            slots,
            param_slot,
        })
    }

    /// The parameters of this statement for `document`, or `None` when `document` does not
    /// match (see the module doc). `max_in_list` is the repository's list bound.
    pub(crate) fn bind(
        &self,
        document: &JsonValue,
        max_in_list: usize,
    ) -> Option<Vec<Param<'static>>> {
        let mut walk = Walk {
            ordinal: 0,
            next: 0,
            replayed: Vec::with_capacity(self.slots.len()),
        };
        if !self.matches(document, &self.document, &mut walk, max_in_list)
            || walk.next != self.slots.len()
        {
            return None;
        }
        let mut replayed = walk.replayed.into_iter().map(Some).collect::<Vec<_>>();
        self.values
            .iter()
            .zip(&self.param_slot)
            .map(|(value, slot)| match slot {
                Some(i) => replayed[*i].take(),
                None => Some(value.clone()),
            })
            .collect()
    }

    /// Whether `new` equals `kept` (a node of the kept document) except at numbered nodes,
    /// whose new values are pushed to `walk.replayed`.
    fn matches(
        &self,
        new: &JsonValue,
        kept: &JsonValue,
        walk: &mut Walk,
        max_in_list: usize,
    ) -> bool {
        if let Some(slot) = self.slots.get(walk.next) {
            if slot.ordinal == walk.ordinal {
                walk.next += 1;
                walk.ordinal += slot.span;
                return match slot.value.replay(new, max_in_list) {
                    Some(bound) => {
                        walk.replayed.push(Param::from_value(bound.value));
                        true
                    }
                    None => false,
                };
            }
        }
        walk.ordinal += 1;
        match (new, kept) {
            (JsonValue::Object(a), JsonValue::Object(b)) => {
                a.len() == b.len()
                    && a.iter().zip(b).all(|((ka, va), (kb, vb))| {
                        ka == kb && self.matches(va, vb, walk, max_in_list)
                    })
            }
            (JsonValue::Array(a), JsonValue::Array(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, y)| self.matches(x, y, walk, max_in_list))
            }
            (JsonValue::Object(_) | JsonValue::Array(_), _)
            | (_, JsonValue::Object(_) | JsonValue::Array(_)) => false,
            (a, b) => a == b,
        }
    }
}

/// The state of one [`Template::matches`] walk.
struct Walk {
    /// The pre-order place of the next kept node.
    ordinal: usize,
    /// The next slot to meet.
    next: usize,
    /// The new values of the slots met, in slot order.
    replayed: Vec<Param<'static>>,
}

/// Walks `node` in pre-order from place `*ordinal`, recording `(place, subtree size)` of each
/// numbered node in `found`; `None` past [`MAX_DEPTH`] or when a node is numbered twice.
fn locate(
    node: &JsonValue,
    numbered: &[ValueSlot],
    found: &mut [Option<(usize, usize)>],
    ordinal: &mut usize,
    depth: usize,
) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    let start = *ordinal;
    *ordinal += 1;
    match node {
        JsonValue::Object(map) => {
            for v in map.values() {
                locate(v, numbered, found, ordinal, depth + 1)?;
            }
        }
        JsonValue::Array(items) => {
            for v in items {
                locate(v, numbered, found, ordinal, depth + 1)?;
            }
        }
        _ => {}
    }
    let address = node as *const JsonValue as usize;
    for (i, slot) in numbered.iter().enumerate() {
        if slot.node == address {
            if found[i].is_some() {
                return None;
            }
            found[i] = Some((start, *ordinal - start));
        }
    }
    Some(())
}

/// The kept finds of a repository, most recently added last.
#[derive(Debug, Default)]
pub(crate) struct Templates(std::sync::RwLock<Vec<Arc<Template>>>);

impl Templates {
    /// The kept statement `document` matches, planned with the default filter skipped or
    /// not as `skip_default_filter` says, with its parameters.
    pub(crate) fn find(
        &self,
        document: &JsonValue,
        skip_default_filter: bool,
        max_in_list: usize,
    ) -> Option<(Arc<Template>, Vec<Param<'static>>)> {
        let kept = self.0.read().ok()?;
        kept.iter()
            .filter(|t| t.skip_default_filter == skip_default_filter)
            .find_map(|t| t.bind(document, max_in_list).map(|p| (t.clone(), p)))
    }

    /// How many statements are kept.
    pub(crate) fn len(&self) -> usize {
        self.0.read().map_or(0, |k| k.len())
    }

    /// Whether another template may be kept.
    pub(crate) fn has_room(&self) -> bool {
        self.0.read().is_ok_and(|k| k.len() < TEMPLATES)
    }

    /// Keeps `template` when there is room and no kept one has its document and planning.
    pub(crate) fn keep(&self, template: Template) {
        if let Ok(mut kept) = self.0.write() {
            let known = kept.iter().any(|t| {
                t.skip_default_filter == template.skip_default_filter
                    && t.document == template.document
            });
            if kept.len() < TEMPLATES && !known {
                kept.push(Arc::new(template));
            }
        }
    }
}
