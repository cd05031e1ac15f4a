//! Kept statements of finds: a service sends the same filter with other values (a search
//! form, a page of a listing), so a repository keeps, per filter document it has planned, the
//! statement written for it and the places of the values taken from the JSON as they are. A
//! later document that equals a kept one everywhere except at those places runs that
//! statement with its own values, without being parsed again.
//!
//! Nothing here reads the filter language. The parser numbers each value it coerces straight
//! from one JSON node ([`ValueSlot`]: a non-null scalar compared with a column, or an
//! `in` / `inq` / `nin` list of scalars on a column), and the statement writer reports which
//! parameter each numbered value became (`SqlWriter::slots`). A match walks the caller's
//! document against the kept one, flattened in pre-order: every other node must be equal (the
//! same keys in the same order, the same values), and a numbered node is coerced by the same
//! function, with the same checks, as the parser coerces it, and must give a value of the same
//! variant written with the same cast. The walk goes no deeper than the kept document.
//! Any difference, or a value the coercion refuses, is a miss: the document is parsed as
//! every other, and gets the parser's answer, errors included.

use std::sync::Arc;

use serde_json::Value as JsonValue;

use super::sql::{IntArray, Param, SqlWriter};
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
    /// `document` in pre-order, what a matching document must hold node by node.
    ops: Vec<Op>,
    /// For each parameter, the number of the slot (in document order) it comes from, if any.
    param_slot: Vec<Option<usize>>,
    /// How many slots `ops` holds.
    slots: usize,
}

/// One node of a kept document, in pre-order (see [`Template::ops`]).
#[derive(Debug)]
enum Op {
    /// An object of this many keys; each key follows as [`Op::Key`], then its value's nodes.
    Object(usize),
    /// A key of the object being matched.
    Key(String),
    /// An array of this many elements, whose nodes follow.
    Array(usize),
    /// A scalar that must be equal.
    Leaf(JsonValue),
    /// A numbered node: any node this slot replays.
    Slot(ValueSlot),
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
        // The parameter of each numbered value (numbers start at 1).
        let mut param_of = vec![None; numbered.len()];
        for &(slot, param) in &w.slots {
            let index = (slot as usize).checked_sub(1)?;
            if param_of.get_mut(index)?.replace(param).is_some() {
                return None;
            }
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
        let mut numbered: Vec<Option<(ValueSlot, usize)>> = numbered
            .into_iter()
            .zip(param_of)
            .map(|(slot, param)| param.map(|p| (slot, p)))
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .map(Some)
            .collect();
        let mut flat = Flatten {
            ops: Vec::new(),
            param_slot: vec![None; values.len()],
            slots: 0,
        };
        flat.node(document, &mut numbered, 0)?;
        if numbered.iter().any(Option::is_some) {
            return None;
        }
        Some(Template {
            document: document.clone(),
            skip_default_filter,
            sql: w.sql.clone(),
            values,
            ops: flat.ops,
            param_slot: flat.param_slot,
            slots: flat.slots,
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
            at: 0,
            replayed: Vec::with_capacity(self.slots),
            max_in_list,
        };
        if !self.matches(document, &mut walk) || walk.at != self.ops.len() {
            return None;
        }
        let mut replayed = walk.replayed;
        Some(
            self.values
                .iter()
                .zip(&self.param_slot)
                .map(|(value, slot)| match slot {
                    Some(i) => std::mem::replace(&mut replayed[*i], Param::Ints(IntArray::empty())),
                    None => value.clone(),
                })
                .collect(),
        )
    }

    /// Whether `new` matches the kept nodes from `walk.at` on (see the module doc); the new
    /// values of the slots met are pushed to `walk.replayed`.
    fn matches(&self, new: &JsonValue, walk: &mut Walk) -> bool {
        let Some(op) = self.ops.get(walk.at) else {
            return false;
        };
        walk.at += 1;
        match (op, new) {
            (Op::Slot(slot), _) => match slot.replay(new, walk.max_in_list) {
                Some(bound) => {
                    walk.replayed.push(Param::from_value(bound.value));
                    true
                }
                None => false,
            },
            (Op::Object(len), JsonValue::Object(map)) => {
                *len == map.len()
                    && map.iter().all(|(key, value)| {
                        let Some(Op::Key(kept)) = self.ops.get(walk.at) else {
                            return false;
                        };
                        walk.at += 1;
                        kept == key && self.matches(value, walk)
                    })
            }
            (Op::Array(len), JsonValue::Array(items)) => {
                *len == items.len() && items.iter().all(|item| self.matches(item, walk))
            }
            (Op::Leaf(kept), _) => kept == new,
            _ => false,
        }
    }
}

/// The state of one [`Template::matches`] walk.
struct Walk {
    /// The next kept node.
    at: usize,
    /// The new values of the slots met, in document order.
    replayed: Vec<Param<'static>>,
    /// The repository's list bound.
    max_in_list: usize,
}

/// The building of [`Template::ops`].
struct Flatten {
    ops: Vec<Op>,
    param_slot: Vec<Option<usize>>,
    slots: usize,
}

impl Flatten {
    /// Appends `node` and its subtree, a numbered node (by address, taken from `numbered`
    /// with its parameter) as one slot; `None` past [`MAX_DEPTH`].
    fn node(
        &mut self,
        node: &JsonValue,
        numbered: &mut [Option<(ValueSlot, usize)>],
        depth: usize,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let address = node as *const JsonValue as usize;
        if let Some(entry) = numbered
            .iter_mut()
            .find(|n| n.as_ref().is_some_and(|(slot, _)| slot.node == address))
        {
            let (slot, param) = entry.take()?;
            *self.param_slot.get_mut(param)? = Some(self.slots);
            self.slots += 1;
            self.ops.push(Op::Slot(slot));
            return Some(());
        }
        match node {
            JsonValue::Object(map) => {
                self.ops.push(Op::Object(map.len()));
                for (key, value) in map {
                    self.ops.push(Op::Key(key.clone()));
                    self.node(value, numbered, depth + 1)?;
                }
            }
            JsonValue::Array(items) => {
                self.ops.push(Op::Array(items.len()));
                for item in items {
                    self.node(item, numbered, depth + 1)?;
                }
            }
            scalar => self.ops.push(Op::Leaf(scalar.clone())),
        }
        Some(())
    }
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
