//! Typed rows without the JSON detour: a serde `Deserializer` over a `postgres::Row`.
//!
//! `find_as::<T>` deserializes each row straight from the Postgres binary values: scalars
//! (booleans, integers, floats, text) are handed to `T`'s visitor as they are decoded, json /
//! jsonb documents are parsed straight into `T`'s field, and every other type goes through the
//! same JSON value the dynamic rows use (`value.rs`), so a typed row and a dynamic row of the
//! same data always agree (timestamps as RFC 3339, numeric as exact text, bytea as `\x..` hex).
//! No `serde_json::Map` and no key `String` is built per row.

use postgres::types::{FromSql, Type};
use postgres_protocol::types as pgt;
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::forward_to_deserialize_any;

use super::set::{Included, RowRef};

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// A column's raw binary value, whatever its type.
pub(crate) struct RawBytes<'a>(pub(crate) &'a [u8]);

impl<'a> FromSql<'a> for RawBytes<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(RawBytes(raw))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A column's type (borrowed from the row's statement) and raw value (`None` for SQL NULL).
struct Raw<'a> {
    ty: &'a Type,
    bytes: Option<&'a [u8]>,
}

/// One value.
struct Cell<'a>(Raw<'a>);

fn err(e: BoxError) -> serde_json::Error {
    de::Error::custom(e)
}

impl<'de> de::Deserializer<'de> for Cell<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let Some(raw) = self.0.bytes else {
            return visitor.visit_unit();
        };
        match *self.0.ty {
            Type::BOOL => visitor.visit_bool(pgt::bool_from_sql(raw).map_err(err)?),
            Type::INT2 => visitor.visit_i16(pgt::int2_from_sql(raw).map_err(err)?),
            Type::INT4 => visitor.visit_i32(pgt::int4_from_sql(raw).map_err(err)?),
            Type::INT8 => visitor.visit_i64(pgt::int8_from_sql(raw).map_err(err)?),
            Type::FLOAT8 => {
                let v = pgt::float8_from_sql(raw).map_err(err)?;
                if v.is_finite() {
                    visitor.visit_f64(v)
                } else {
                    super::value::decode_value(self.0.ty, raw)
                        .map_err(err)?
                        .deserialize_any(visitor)
                }
            }
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                visitor.visit_str(pgt::text_from_sql(raw).map_err(err)?)
            }
            Type::TIMESTAMPTZ | Type::TIMESTAMP => {
                match super::value::timestamp_text_of(raw, *self.0.ty == Type::TIMESTAMPTZ) {
                    // Handed over from the stack: a typed field (chrono's DateTime parses it)
                    // costs no allocation for the text.
                    Some(text) => visitor.visit_str(text.as_str()),
                    None => super::value::decode_value(self.0.ty, raw)
                        .map_err(err)?
                        .deserialize_any(visitor),
                }
            }
            Type::JSON => json_document(raw, visitor),
            Type::JSONB => match raw.split_first() {
                Some((1, doc)) => json_document(doc, visitor),
                _ => Err(de::Error::custom("unsupported jsonb binary version")),
            },
            _ => super::value::decode_value(self.0.ty, raw)
                .map_err(err)?
                .deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if self.0.bytes.is_none() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// A json / jsonb document's text deserialized straight into the visitor's type, at any depth:
/// serde_json's recursion limit is off and the stack grows on the heap as the document nests
/// (serde_stacker), so a document Postgres stores thousands of levels deep neither fails nor
/// overflows the stack.
fn json_document<'de, V: Visitor<'de>>(
    text: &'de [u8],
    visitor: V,
) -> Result<V::Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(text);
    de.disable_recursion_limit();
    let value =
        de::Deserializer::deserialize_any(serde_stacker::Deserializer::new(&mut de), visitor)?;
    de.end()?;
    Ok(value)
}

/// A row as a map: its returned properties (in column order), then each included relation
/// (a sequence of rows, or a row or null for a `one` relation). The same view of a row as
/// [`RowRef`] gives a [`crate::FromRow`] type.
pub(crate) struct RowDeserializer<'r>(pub(crate) RowRef<'r>);

impl<'de> de::Deserializer<'de> for RowDeserializer<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(RowMap {
            row: self.0,
            next: 0,
        })
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct RowMap<'r> {
    row: RowRef<'r>,
    /// Entries handed out: first the returned columns, then the included relations.
    next: usize,
}

impl<'de> MapAccess<'de> for RowMap<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let row = &self.row;
        let key: &'de str = if let Some((_, name)) = row.property(self.next) {
            name
        } else if let Some(inc) = row.included().get(self.next - row.out().len()) {
            &inc.name
        } else {
            return Ok(None);
        };
        seed.deserialize(IntoDeserializer::<serde_json::Error>::into_deserializer(
            key,
        ))
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let row = &self.row;
        let n = self.next;
        self.next += 1;
        if let Some((i, _)) = row.property(n) {
            let raw = row.raw();
            let bytes: Option<RawBytes<'de>> = raw
                .try_get(i)
                .map_err(|e| de::Error::custom(format!("column {i}: {e}")))?;
            let ty = raw.columns()[i].type_();
            return seed.deserialize(Cell(Raw {
                ty,
                bytes: bytes.map(|b| b.0),
            }));
        }
        let included: &'de [Included<'de>] = row.included();
        let Some(inc) = included.get(n - row.out().len()) else {
            return Err(de::Error::custom("no such entry"));
        };
        let related = row.related(inc);
        if inc.many {
            seed.deserialize(Related {
                schema: row.schema(),
                inc,
                rows: related,
            })
        } else {
            match related.first() {
                Some(&r) => {
                    seed.deserialize(RowDeserializer(RowRef::in_set(row.schema(), &inc.set, r)))
                }
                None => seed.deserialize(serde_json::Value::Null),
            }
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.row.out().len() + self.row.included().len() - self.next)
    }
}

/// The related rows of one parent row, as a sequence.
struct Related<'r> {
    schema: &'r ignis_schema::Schema,
    inc: &'r Included<'r>,
    rows: &'r [usize],
}

impl<'de> de::Deserializer<'de> for Related<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_seq(RelatedSeq {
            schema: self.schema,
            inc: self.inc,
            rows: self.rows.iter(),
        })
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct RelatedSeq<'r> {
    schema: &'r ignis_schema::Schema,
    inc: &'r Included<'r>,
    rows: std::slice::Iter<'r, usize>,
}

impl<'de> de::SeqAccess<'de> for RelatedSeq<'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        match self.rows.next() {
            None => Ok(None),
            Some(&r) => seed
                .deserialize(RowDeserializer(RowRef::in_set(
                    self.schema,
                    &self.inc.set,
                    r,
                )))
                .map(Some),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.rows.len())
    }
}
