//! # ignis-repo: repositories and the Ignis filter language
//!
//! The repository layer of ignis-rs, the Rust persistence layer of the IGNIS framework. This crate
//! turns the filter JSON an Ignis or LoopBack client sends (Ignis `TFilter`: `where`, `fields`,
//! `order`, `limit`, `skip` / `offset`, `include`) into validated, parameterised sea-query
//! statements over the models of `ignis-schema`; see [`filter`].

pub mod filter;

pub use filter::{
    any_of, coerce_value, field_eq, is_empty_where, merge_filter_json, merge_where_json,
    parse_where, parse_where_with_defaults, BoundValue, CompareAs, Comparison, Condition,
    Direction, FieldRef, Fields, Filter, FilterError, FilterErrorKind, FilterLimits, Inclusion,
    Nulls, Operand, Operator, OrderTerm,
};

mod error;
mod from_row;
mod json;
mod repository;
mod row;
mod row_set;
mod typed;

pub use error::RepoError;
pub use from_row::{FromRow, RowRef};
pub use json::dismantle;
pub use repository::{
    DefaultCrudRepository, Range, RangeResult, ReadOnly, ReadWrite, ReadableRepository, Repository,
    Scope, WriteResult,
};
