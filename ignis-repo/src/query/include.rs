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

impl<'r> JoinKey<'r> {
    /// The key of column `i` of `row`; `None` for SQL NULL (it joins nothing).
    ///
    /// # Errors
    /// The column does not exist or an integer value is malformed.
    pub(crate) fn of(row: &'r postgres::Row, i: usize) -> Result<Option<JoinKey<'r>>, BoxError> {
        let bytes: Option<RawBytes<'r>> = row.try_get(i)?;
        let Some(RawBytes(raw)) = bytes else {
            return Ok(None);
        };
        let ty = row.columns()[i].type_();
        Ok(Some(match *ty {
            Type::INT2 => JoinKey::Int(i64::from(pgt::int2_from_sql(raw)?)),
            Type::INT4 => JoinKey::Int(i64::from(pgt::int4_from_sql(raw)?)),
            Type::INT8 => JoinKey::Int(pgt::int8_from_sql(raw)?),
            _ => JoinKey::Bytes(ty.oid(), raw),
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
        // Each distinct parent key gets a slot (its index in `distinct`); the keys are bound
        // once each.
        let mut slots: rustc_hash::FxHashMap<JoinKey, usize> = rustc_hash::FxHashMap::default();
        slots.reserve(parents.rows.len());
        let mut distinct: Vec<JoinKey> = Vec::new();
        let mut parent_slot: Vec<Option<usize>> = Vec::with_capacity(parents.rows.len());
        for row in &parents.rows {
            let key = JoinKey::of(row, field_pos).map_err(|e| decode_error(model, field, e))?;
            parent_slot.push(key.map(|k| {
                *slots.entry(k).or_insert_with(|| {
                    distinct.push(k);
                    distinct.len() - 1
                })
            }));
        }
        let many = rel.kind == RelationKind::Many;
        let Some(first) = parents.rows.first().filter(|_| !distinct.is_empty()) else {
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
        let ints: Option<Vec<i64>> = distinct
            .iter()
            .map(|k| match k {
                JoinKey::Int(n) => Some(*n),
                JoinKey::Bytes(..) => None,
            })
            .collect();
        let by_parent = match ints.and_then(|ints| any_of_ints(target, reference, &ints)) {
            Some(c) => c,
            None => {
                let ty = first.columns()[field_pos].type_();
                let keys = distinct
                    .iter()
                    .map(|k| k.to_json(ty))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| decode_error(model, field, e))?;
                any_of(target, reference, &keys)?
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
        let nslots = distinct.len();
        let mut child_slot: Vec<usize> = Vec::with_capacity(children.rows.len());
        let mut slot_start = vec![0usize; nslots + 1];
        for row in &children.rows {
            let key =
                JoinKey::of(row, reference_pos).map_err(|e| decode_error(target, reference, e))?;
            let slot = key.and_then(|k| slots.get(&k).copied());
            if let Some(s) = slot {
                slot_start[s + 1] += 1;
            }
            child_slot.push(slot.unwrap_or(usize::MAX));
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
