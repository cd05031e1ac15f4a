//! DELETE, soft delete and restore, and the guard every where-based write shares: an empty
//! where is refused unless forced.

use serde_json::Value as JsonValue;

use super::common::{first, invalid, WriteWhere};
use super::update::Set;
use crate::context::Call;
use crate::filter::{parse_where, Condition};
use crate::query::sql::SqlWriter;
use crate::repository::WriteResult;
use crate::rows::Decoder;
use crate::RepoError;

impl Call<'_> {
    /// [`RepoError::EmptyWhere`] unless forced when `where` restricts nothing the model's default
    /// filter does not already restrict: absent, `null`, `{}`, `and` / `or` groups that add no
    /// condition at any depth (`{"or": []}`, `{"and": [{}]}`, a chain of nested empty `and`s), an
    /// `or` with a member that matches everything, or conditions that are all part of the
    /// default filter (`default_applies`: the operation merges it). The TypeScript Ignis writes
    /// the whole table in each of these cases.
    ///
    /// # Errors
    /// [`RepoError::EmptyWhere`], or the where's own filter error.
    pub(super) fn refuse_empty(
        &self,
        operation: &'static str,
        r#where: &JsonValue,
        default_applies: bool,
    ) -> Result<(), RepoError> {
        if self.opts.force {
            return Ok(());
        }
        let model = self.model();
        let refuse = || {
            Err(RepoError::EmptyWhere {
                operation,
                model: model.name.clone(),
            })
        };
        if where_adds_nothing(r#where) {
            return refuse();
        }
        let mut own = Vec::new();
        conjuncts(parse_where(model, r#where, &self.shared.limits)?, &mut own);
        let mut defaults = Vec::new();
        if default_applies && !self.opts.skip_default_filter {
            let default_where = model
                .default_filter
                .as_ref()
                .and_then(|f| f.get("where"))
                .filter(|w| !w.is_null());
            if let Some(w) = default_where {
                conjuncts(parse_where(model, w, &self.shared.limits)?, &mut defaults);
            }
        }
        if own
            .iter()
            .all(|c| c.matches_everything() || defaults.contains(c))
        {
            return refuse();
        }
        Ok(())
    }

    /// [`RepoError::InvalidData`] when `id` is null (or was missing): Ignis would then write
    /// with `WHERE id IS NULL` or, worse, no where at all.
    pub(super) fn require_id(&self, operation: &str, id: &JsonValue) -> Result<(), RepoError> {
        if id.is_null() {
            return Err(invalid(
                self.model(),
                format!("{operation} needs an id; it is null or missing"),
            ));
        }
        Ok(())
    }

    /// `DELETE FROM <table> WHERE .. [RETURNING ..]`.
    fn delete_where<D: Decoder>(
        &mut self,
        r#where: WriteWhere,
        decoder: &D,
    ) -> Result<WriteResult<Vec<D::Row>>, RepoError> {
        let names = self.names();
        let mut w = SqlWriter::new();
        w.push("DELETE FROM ");
        w.push(&names.table);
        r#where.write(&mut w, names);
        self.run_where_write(w, r#where.condition(), decoder)
    }

    /// See [`crate::Repository::delete_by_id`].
    pub(super) fn delete_by_id<D: Decoder>(
        &mut self,
        id: &JsonValue,
        decoder: &D,
    ) -> Result<WriteResult<Option<D::Row>>, RepoError> {
        self.require_id("delete_by_id", id)?;
        let r#where = self.id_where(id, false)?;
        self.delete_where(r#where, decoder).map(first)
    }

    /// See [`crate::Repository::delete_all`].
    pub(super) fn delete_all<D: Decoder>(
        &mut self,
        r#where: &JsonValue,
        decoder: &D,
    ) -> Result<WriteResult<Vec<D::Row>>, RepoError> {
        self.refuse_empty("delete_all", r#where, true)?;
        let cond = self.parse_where(r#where, false)?;
        self.delete_where(WriteWhere::Cond(cond), decoder)
    }

    /// The model column index of `deletedAt`.
    ///
    /// # Errors
    /// [`RepoError::NoSoftDelete`] when the model has none.
    fn deleted_at(&self) -> Result<usize, RepoError> {
        let model = self.model();
        model
            .columns
            .iter()
            .position(|c| c.property == "deletedAt")
            .ok_or_else(|| RepoError::NoSoftDelete(model.name.clone()))
    }

    /// `deletedAt` set to `now()` (`deleted`) or NULL on the rows `where` selects.
    fn set_deleted<D: Decoder>(
        &mut self,
        r#where: WriteWhere,
        deleted: bool,
        decoder: &D,
    ) -> Result<WriteResult<Vec<D::Row>>, RepoError> {
        let column = self.deleted_at()?;
        let value = if deleted { Set::Now } else { Set::Null };
        self.update_where(vec![(column, value)], r#where, decoder)
    }

    /// See [`crate::Repository::soft_delete_by_id`].
    pub(super) fn soft_delete_by_id<D: Decoder>(
        &mut self,
        id: &JsonValue,
        decoder: &D,
    ) -> Result<WriteResult<Option<D::Row>>, RepoError> {
        self.deleted_at()?;
        self.require_id("soft_delete_by_id", id)?;
        let r#where = self.id_where(id, false)?;
        self.set_deleted(r#where, true, decoder).map(first)
    }

    /// See [`crate::Repository::soft_delete_all`].
    pub(super) fn soft_delete_all<D: Decoder>(
        &mut self,
        r#where: &JsonValue,
        decoder: &D,
    ) -> Result<WriteResult<Vec<D::Row>>, RepoError> {
        self.deleted_at()?;
        self.refuse_empty("soft_delete_all", r#where, true)?;
        let cond = self.parse_where(r#where, false)?;
        self.set_deleted(WriteWhere::Cond(cond), true, decoder)
    }

    /// See [`crate::Repository::restore_by_id`].
    pub(super) fn restore_by_id<D: Decoder>(
        &mut self,
        id: &JsonValue,
        decoder: &D,
    ) -> Result<WriteResult<Option<D::Row>>, RepoError> {
        self.deleted_at()?;
        self.require_id("restore_by_id", id)?;
        let r#where = self.id_where(id, true)?;
        self.set_deleted(r#where, false, decoder).map(first)
    }

    /// See [`crate::Repository::restore_all`].
    pub(super) fn restore_all<D: Decoder>(
        &mut self,
        r#where: &JsonValue,
        decoder: &D,
    ) -> Result<WriteResult<Vec<D::Row>>, RepoError> {
        self.deleted_at()?;
        self.refuse_empty("restore_all", r#where, false)?;
        let cond = self.parse_where(r#where, true)?;
        self.set_deleted(WriteWhere::Cond(cond), false, decoder)
    }
}

/// Whether a where JSON adds no condition: `null`, `{}`, and `and` / `or` groups of such (an `or`
/// that is empty or has a member adding nothing matches everything). `and` chains are walked
/// without recursion, however deep; an `or` member is judged recursively up to 64 levels (a
/// deeper `or` fails the filter's own depth limit when parsed).
fn where_adds_nothing(json: &JsonValue) -> bool {
    fn walk(json: &JsonValue, or_depth: usize) -> bool {
        let mut pending = vec![json];
        while let Some(v) = pending.pop() {
            match v {
                JsonValue::Null => {}
                JsonValue::Object(map) => {
                    for (key, value) in map {
                        match (key.as_str(), value) {
                            ("and", JsonValue::Array(items)) => pending.extend(items),
                            ("and" | "or", inner @ JsonValue::Object(_)) => pending.push(inner),
                            ("or", JsonValue::Array(items)) => {
                                let empty = items.is_empty()
                                    || (or_depth < 64
                                        && items.iter().any(|i| walk(i, or_depth + 1)));
                                if !empty {
                                    return false;
                                }
                            }
                            _ => return false,
                        }
                    }
                }
                _ => return false,
            }
        }
        true
    }
    walk(json, 0)
}

/// The conjuncts of `cond`, flattened out of nested `And`s (without recursion); an `Or` with a
/// member that matches everything counts as one conjunct matching everything.
fn conjuncts(cond: Condition, out: &mut Vec<Condition>) {
    let mut pending = vec![cond];
    while let Some(c) = pending.pop() {
        match c {
            Condition::And(parts) => pending.extend(parts),
            Condition::Or(parts) if parts.iter().any(Condition::matches_everything) => {
                out.push(Condition::And(Vec::new()));
            }
            other => out.push(other),
        }
    }
}
