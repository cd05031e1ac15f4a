//! Includes: the related rows of one relation for a whole level, in one query, grouped per
//! parent row. Written once for every output (JSON, serde, `FromRow`): the grouping is by
//! index into the level's [`RowSet`], and decoders read it through [`crate::RowRef`].

use ignis_schema::RelationKind;
use postgres::types::Type;
use postgres_protocol::types as pgt;

use super::{join_column, relation};
use crate::context::Call;
use crate::filter::{any_of, any_of_ints, Inclusion};
use crate::rows::{decode_value, Included, RawBytes, RowSet};
use crate::RepoError;

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// A join key read from a row's binary value, borrowed from the row: integers of any width as
/// one `i64` (a parent's `int4` key meets a child's `int8` reference), every other type by its
/// binary representation (text, uuid, and the other scalar types whose equal values have equal
/// bytes). No allocation per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum JoinKey<'r> {
    /// `smallint`, `integer`, `bigint`.
    Int(i64),
    /// Any other type: its type oid and binary value.
    Bytes(u32, &'r [u8]),
}

/// How the join keys of one column are read: its type, looked at once per level.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeyKind {
    Int2,
    Int4,
    Int8,
    /// Any other type, by its oid.
    Bytes(u32),
}

impl KeyKind {
    /// The kind of column `i` of `rows` (a level's rows, which share their columns); `None`
    /// when there are no rows or no such column.
    fn of(rows: &[postgres::Row], i: usize) -> Option<KeyKind> {
        let ty = rows.first()?.columns().get(i)?.type_();
        Some(match *ty {
            Type::INT2 => KeyKind::Int2,
            Type::INT4 => KeyKind::Int4,
            Type::INT8 => KeyKind::Int8,
            _ => KeyKind::Bytes(ty.oid()),
        })
    }
}

impl<'r> JoinKey<'r> {
    /// The key of column `i` of `row`, a column of kind `kind`; `None` for SQL NULL (it joins
    /// nothing).
    ///
    /// # Errors
    /// The column does not exist or an integer value is malformed.
    pub(crate) fn of(
        row: &'r postgres::Row,
        i: usize,
        kind: KeyKind,
    ) -> Result<Option<JoinKey<'r>>, BoxError> {
        let bytes: Option<RawBytes<'r>> = row.try_get(i)?;
        let Some(RawBytes(raw)) = bytes else {
            return Ok(None);
        };
        Ok(Some(match kind {
            KeyKind::Int2 => JoinKey::Int(i64::from(pgt::int2_from_sql(raw)?)),
            KeyKind::Int4 => JoinKey::Int(i64::from(pgt::int4_from_sql(raw)?)),
            KeyKind::Int8 => JoinKey::Int(pgt::int8_from_sql(raw)?),
            KeyKind::Bytes(oid) => JoinKey::Bytes(oid, raw),
        }))
    }

    /// The key as the JSON value the dynamic rows show for it, to bind it again (`= ANY($1)`
    /// of the next level's query).
    ///
    /// # Errors
    /// A value the JSON decoding cannot decode.
    pub(crate) fn to_json(self, ty: &Type) -> Result<serde_json::Value, BoxError> {
        match self {
            JoinKey::Int(n) => Ok(serde_json::Value::from(n)),
            JoinKey::Bytes(_, raw) => decode_value(ty, raw),
        }
    }
}
impl KeyKind {
    fn is_int(self) -> bool {
        matches!(self, KeyKind::Int2 | KeyKind::Int4 | KeyKind::Int8)
    }
}

/// The integer key of column `i` of `row`, a column of integer kind `kind`; `None` for SQL
/// NULL.
///
/// # Errors
/// The column does not exist or its value is malformed.
#[inline(always)]
fn int_key(row: &postgres::Row, i: usize, kind: KeyKind) -> Result<Option<i64>, BoxError> {
    let bytes: Option<RawBytes<'_>> = row.try_get(i)?;
    let Some(RawBytes(raw)) = bytes else {
        return Ok(None);
    };
    Ok(Some(match kind {
        KeyKind::Int2 => i64::from(pgt::int2_from_sql(raw)?),
        KeyKind::Int4 => i64::from(pgt::int4_from_sql(raw)?),
        _ => pgt::int8_from_sql(raw)?,
    }))
}

/// The distinct join keys of a level's parents in first-seen order, each with its slot (its
/// index in `keys`).
struct Slots<K> {
    index: rustc_hash::FxHashMap<K, usize>,
    keys: Vec<K>,
}

impl<K: std::hash::Hash + Eq + Copy> Slots<K> {
    fn with_capacity(n: usize) -> Self {
        let mut index = rustc_hash::FxHashMap::default();
        index.reserve(n);
        Slots {
            index,
            keys: Vec::new(),
        }
    }

    /// The slot of `key`, given a new one when it is first seen.
    fn insert(&mut self, key: K) -> usize {
        let keys = &mut self.keys;
        *self.index.entry(key).or_insert_with(|| {
            keys.push(key);
            keys.len() - 1
        })
    }

    fn get(&self, key: K) -> Option<usize> {
        self.index.get(&key).copied()
    }
}

/// The parents' keys of one include: integers of any width as `i64`s, other types as
/// [`JoinKey`]s.
enum ParentKeys<'r> {
    Ints(Slots<i64>),
    Any(Slots<JoinKey<'r>>),
}

impl ParentKeys<'_> {
    fn len(&self) -> usize {
        match self {
            ParentKeys::Ints(s) => s.keys.len(),
            ParentKeys::Any(s) => s.keys.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Call<'_> {
    /// One included relation of `parents` (a level [`Call::fetch`] loaded): the distinct join
    /// keys of the parents bound as one `= ANY($1)` list, the related rows loaded with the
    /// inclusion's scope (and their own includes), then grouped per parent, the scope's limit
    /// and skip applied per parent (as Ignis's relational queries do) rather than to the batch.
    pub(crate) fn include(
        &mut self,
        parents: &RowSet<'_>,
        inc: &Inclusion,
    ) -> Result<Included<'static>, RepoError> {
        let schema = self.schema();
        let model = &schema.models()[parents.model];
        let rel = relation(model, &inc.relation)?;
        let target_index = schema
            .models()
            .iter()
            .position(|m| m.name == rel.target)
            .ok_or_else(|| RepoError::UnknownModel(rel.target.clone()))?;
        let target = &schema.models()[target_index];
        let (field, reference) = (&rel.fields[0], &rel.references[0]);
        let field_col = join_column(model, rel, field)?;
        let reference_col = join_column(target, rel, reference)?;
        let decode_error =
            |model: &ignis_schema::Model, property: &str, e: BoxError| RepoError::Decode {
                model: model.name.clone(),
                property: property.to_string(),
                message: e.to_string(),
            };
        let missing = |property: &str| RepoError::Relation {
            model: model.name.clone(),
            relation: inc.relation.clone(),
            message: format!("join property `{property}` was not selected"),
        };
        let field_pos = parents
            .columns
            .iter()
            .position(|&c| c == field_col)
            .ok_or_else(|| missing(field))?;
        // Each distinct parent key gets a slot (its index in the distinct keys); the keys are
        // bound once each. Integer keys (the usual case) are kept as `i64`s.
        let n = parents.rows.len();
        let mut parent_slot: Vec<Option<usize>> = Vec::with_capacity(n);
        let parent_kind = KeyKind::of(&parents.rows, field_pos).unwrap_or(KeyKind::Bytes(0));
        let keys = if parent_kind.is_int() {
            let mut slots = Slots::with_capacity(n);
            for row in &parents.rows {
                let key = int_key(row, field_pos, parent_kind)
                    .map_err(|e| decode_error(model, field, e))?;
                parent_slot.push(key.map(|k| slots.insert(k)));
            }
            ParentKeys::Ints(slots)
        } else {
            let mut slots = Slots::with_capacity(n);
            for row in &parents.rows {
                let key = JoinKey::of(row, field_pos, parent_kind)
                    .map_err(|e| decode_error(model, field, e))?;
                parent_slot.push(key.map(|k| slots.insert(k)));
            }
            ParentKeys::Any(slots)
        };
        let many = rel.kind == RelationKind::Many;
        let Some(first) = parents.rows.first().filter(|_| !keys.is_empty()) else {
            return Ok(Included {
                name: inc.relation.clone(),
                many,
                set: RowSet::empty(target_index),
                starts: vec![0; parents.rows.len() + 1],
                indexes: Vec::new(),
                positions: std::cell::OnceCell::new(),
            });
        };
        let mut scope = inc.scope.clone().unwrap_or_default();
        // Integer keys bind as they are; any other type goes through the JSON value the
        // JSON rows show, coerced to the reference column's type as a filter value is.
        let ints = match &keys {
            ParentKeys::Ints(slots) => any_of_ints(target, reference, &slots.keys),
            ParentKeys::Any(_) => None,
        };
        let by_parent = match ints {
            Some(c) => c,
            None => {
                let ty = first.columns()[field_pos].type_();
                let json = match &keys {
                    ParentKeys::Ints(slots) => slots
                        .keys
                        .iter()
                        .map(|&k| Ok(serde_json::Value::from(k)))
                        .collect::<Result<Vec<_>, BoxError>>(),
                    ParentKeys::Any(slots) => slots.keys.iter().map(|k| k.to_json(ty)).collect(),
                }
                .map_err(|e| decode_error(model, field, e))?;
                any_of(target, reference, &json)?
            }
        };
        scope.r#where = Some(match scope.r#where.take() {
            Some(w) => w.and(by_parent),
            None => by_parent,
        });
        let (limit, skip) = (scope.limit.take(), scope.skip.take());
        let children = self.fetch(target_index, &scope, Some(reference_col))?;
        let reference_pos = children
            .columns
            .iter()
            .position(|&c| c == reference_col)
            .ok_or_else(|| missing(reference))?;
        // Children grouped by slot in two passes (count, then place), keeping query order
        // within a slot: one array for all of them rather than a list per parent.
        let nslots = keys.len();
        let mut child_slot: Vec<usize> = Vec::with_capacity(children.rows.len());
        let mut slot_start = vec![0usize; nslots + 1];
        let child_kind = KeyKind::of(&children.rows, reference_pos).unwrap_or(KeyKind::Bytes(0));
        let mut place = |slot: Option<usize>| {
            if let Some(s) = slot {
                slot_start[s + 1] += 1;
            }
            child_slot.push(slot.unwrap_or(usize::MAX));
        };
        match &keys {
            ParentKeys::Ints(slots) if child_kind.is_int() => {
                // Children of one parent usually come together (inserted together, or read
                // in the order of the reference): the previous key's slot is tried first.
                let mut last: Option<(i64, Option<usize>)> = None;
                for row in &children.rows {
                    let key = int_key(row, reference_pos, child_kind)
                        .map_err(|e| decode_error(target, reference, e))?;
                    place(key.and_then(|k| match last {
                        Some((l, slot)) if l == k => slot,
                        _ => {
                            let slot = slots.get(k);
                            last = Some((k, slot));
                            slot
                        }
                    }));
                }
            }
            ParentKeys::Ints(_) => {
                // An integer key never equals a value of another type.
                for row in &children.rows {
                    JoinKey::of(row, reference_pos, child_kind)
                        .map_err(|e| decode_error(target, reference, e))?;
                    place(None);
                }
            }
            ParentKeys::Any(slots) => {
                for row in &children.rows {
                    let key = JoinKey::of(row, reference_pos, child_kind)
                        .map_err(|e| decode_error(target, reference, e))?;
                    place(key.and_then(|k| slots.get(k)));
                }
            }
        }
        for s in 0..nslots {
            slot_start[s + 1] += slot_start[s];
        }
        let mut fill = slot_start.clone();
        let mut by_slot = vec![0usize; slot_start[nslots]];
        for (i, &s) in child_slot.iter().enumerate() {
            if let Some(at) = fill.get_mut(s) {
                by_slot[*at] = i;
                *at += 1;
            }
        }
        let skip = usize::try_from(skip.unwrap_or(0)).unwrap_or(usize::MAX);
        let limit = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
        let mut starts = Vec::with_capacity(parents.rows.len() + 1);
        let mut indexes = Vec::with_capacity(children.rows.len());
        starts.push(0);
        for slot in &parent_slot {
            if let Some(s) = *slot {
                let group = &by_slot[slot_start[s]..slot_start[s + 1]];
                indexes.extend(group.iter().skip(skip).take(limit));
            }
            starts.push(indexes.len());
        }
        Ok(Included {
            name: inc.relation.clone(),
            many,
            set: children.into_static(),
            starts,
            indexes,
            positions: std::cell::OnceCell::new(),
        })
    }
}
