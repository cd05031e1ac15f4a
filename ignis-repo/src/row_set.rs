//! The rows of a typed `find`: one [`RowSet`] per level, as Postgres returned them, with the
//! related rows of each include grouped per parent row. Both typed decoders read them: serde
//! types ([`crate::typed`]) and [`crate::FromRow`] types ([`crate::from_row`]).

/// The rows of one level of a typed `find` with includes: the rows as Postgres returned them,
/// which of their columns the caller gets (and under which property name), and the related
/// rows of each included relation, already grouped per row of this level.
pub(crate) struct RowSet {
    /// The rows.
    pub(crate) rows: Vec<postgres::Row>,
    /// `(column position in the row, property name)` of each returned column.
    pub(crate) out: Vec<(usize, String)>,
    /// One entry per included relation, in the filter's order.
    pub(crate) included: Vec<Included>,
}

/// One included relation of a [`RowSet`].
pub(crate) struct Included {
    /// The relation's name: the key under which the related rows appear.
    pub(crate) name: String,
    /// The related model's name (for errors).
    pub(crate) target: String,
    /// A `many` relation (a sequence of rows) or a `one` relation (a row or null).
    pub(crate) many: bool,
    /// The related rows.
    pub(crate) set: RowSet,
    /// For parent row `p`, the related rows are `set.rows[i]` for `i` in
    /// `indexes[starts[p]..starts[p + 1]]` (compressed rows: one allocation per level).
    pub(crate) starts: Vec<usize>,
    /// See `starts`.
    pub(crate) indexes: Vec<usize>,
}
