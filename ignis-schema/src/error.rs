//! The one error type of ignis-schema.

/// Why a type name, a model or a schema is not valid.
///
/// Every variant names the model, the field (property or column) or the constraint involved, so a
/// message can be shown to the person who wrote the model as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// A Postgres type name that cannot be parsed (`varchar(x)`, `timestamp(9)`).
    #[error("invalid Postgres type `{type_name}`: {reason}")]
    InvalidType {
        /// The type as written.
        type_name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An identifier (model, table, column, property or constraint name) Postgres would not keep
    /// as written: empty, longer than 63 bytes (Postgres truncates it), or containing `"` or NUL.
    #[error("model `{model}`: invalid {what} `{name}`: {reason}")]
    InvalidIdentifier {
        /// The model it appears in.
        model: String,
        /// What kind of name it is (`column`, `table`, `index`, ...).
        what: &'static str,
        /// The name as written.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two models share a name.
    #[error("model `{model}` is defined twice")]
    DuplicateModel {
        /// The repeated model name.
        model: String,
    },
    /// Two models map to the same table.
    #[error("models `{first}` and `{second}` both use table `{table}`")]
    DuplicateTable {
        /// The table (schema-qualified).
        table: String,
        /// The first model using it.
        first: String,
        /// The second model using it.
        second: String,
    },
    /// A column name or property name appears twice in one model.
    #[error("model `{model}`: {what} `{name}` is defined twice")]
    DuplicateColumn {
        /// The model.
        model: String,
        /// `column` or `property`.
        what: &'static str,
        /// The repeated name.
        name: String,
    },
    /// Two constraints or indexes in one Postgres schema share a name (Postgres keeps index and
    /// constraint names in one namespace per schema).
    #[error("constraint or index name `{name}` is used twice (models `{first}` and `{second}`)")]
    DuplicateConstraint {
        /// The repeated name.
        name: String,
        /// The model of the first use.
        first: String,
        /// The model of the second use.
        second: String,
    },
    /// A key, index, constraint, foreign key, relation or hidden list names a property that the
    /// model does not have (and, where a column's SQL name is accepted, no column of that name).
    #[error("model `{model}`: {context} names unknown property `{property}`")]
    UnknownProperty {
        /// The model whose property is missing.
        model: String,
        /// Where the name appears: unique `UQ_x`, foreign key `FK_y` of model `Post`, relation
        /// `creator`, `hidden`.
        context: String,
        /// The unknown property name.
        property: String,
    },
    /// A relation points at a model the schema does not contain.
    #[error("model `{model}`: relation `{relation}` targets unknown model `{target}`")]
    UnknownRelationTarget {
        /// The model declaring the relation.
        model: String,
        /// The relation name.
        relation: String,
        /// The missing target model.
        target: String,
    },
    /// Any other inconsistency inside one model (identity on a text column, a key with no
    /// columns, a relation whose fields and references differ in number).
    #[error("model `{model}`: {reason}")]
    InvalidModel {
        /// The model.
        model: String,
        /// What is wrong.
        reason: String,
    },
    /// A schema or model file that is not valid JSON of the documented format.
    #[error("schema file: {0}")]
    Parse(String),
}
