//! A validated set of models.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::SchemaError;
use crate::model::Model;

/// A validated set of models: what Ignis "auto-discovery" yields (every model a repository binds
/// to a datasource).
///
/// [`Schema::new`] checks each model ([`Model::validate`]) and the references between them:
/// model names and tables are unique, relation targets and their referenced properties exist,
/// foreign keys to a model's table name existing columns, and index and unique-constraint names
/// are unique in their Postgres schema (Postgres keeps them, with tables, in one namespace).
///
/// # File format
/// A schema file is JSON: `{"models": [MODEL, ...]}`. A model is
/// ```json
/// {
///   "name": "Configuration",              // Ignis model name; required
///   "table": "Configuration",             // default: the model name
///   "schema": "public",                   // Postgres schema; default public
///   "enrichers": [                        // column sets, expanded first, in order
///     {"kind": "id", "dataType": "string"},            // or "number" (default), "big-number"
///     {"kind": "tz", "deleted": {"enable": true}},
///     {"kind": "userAudit", "created": {"dataType": "string"}, "modified": {"dataType": "string"}},
///     {"kind": "dataType"}, {"kind": "principal", "discriminator": "owner"},
///     {"kind": "userColumns", "parentIdType": "string"}
///   ],
///   "columns": [{"property": "code", "column": "code", "type": "text", "nullable": false,
///                "default": "''", "primaryKey": false, "identity": {"generation": "always"},
///                "collation": "C", "statistics": 1000, "comment": "the code"}],
///   "uniques": [{"name": "UQ_Configuration_code", "columns": ["code"]}],
///   "indexes": [{"name": "IDX_Configuration_group", "columns": ["group"], "unique": false, "method": "btree"}],
///   "foreignKeys": [{"name": "FK_Configuration_createdBy_User_id", "columns": ["created_by"],
///                    "refTable": "User", "refColumns": ["id"], "onDelete": "setNull", "onUpdate": "noAction"}],
///   "relations": [{"name": "creator", "type": "one", "target": "User", "fields": ["createdBy"], "references": ["id"]}],
///   "skipMigrate": false,
///   "hidden": ["password"],
///   "defaultFilter": {"where": {"deletedAt": null}},
///   "comment": "settings"                 // COMMENT ON TABLE; default none
/// }
/// ```
/// Column `column` defaults to the property in snake_case, `nullable` to true; `type` is any type
/// name Postgres accepts ([`crate::PgType`]); `default` is a SQL expression. Keys and indexes
/// name columns; relations and `hidden` name properties. Unknown keys are errors. Serializing a
/// schema writes the expanded columns and no `enrichers`.
///
/// ```
/// let schema = ignis_schema::Schema::from_json(r#"{"models": [
///   {"name": "User", "enrichers": [{"kind": "id", "dataType": "string"}],
///    "columns": [{"property": "email", "type": "text", "nullable": false}]}
/// ]}"#).unwrap();
/// assert_eq!(schema.model("User").unwrap().columns.len(), 2);
/// let again = ignis_schema::Schema::from_json(&schema.to_json()).unwrap();
/// assert_eq!(again, schema);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SchemaFile", into = "SchemaFile")]
pub struct Schema {
    models: Vec<Model>,
    by_name: HashMap<String, usize>,
    enums: Vec<EnumType>,
}

/// A user enum type (`CREATE TYPE name AS ENUM (values)`), for columns of type `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnumType {
    /// Type name.
    pub name: String,
    /// Postgres schema of the type; `public` by default.
    #[serde(default = "public_schema")]
    pub schema: String,
    /// The labels, in sort order.
    pub values: Vec<String>,
}

fn public_schema() -> String {
    "public".into()
}

impl EnumType {
    /// An enum type in schema `public`.
    pub fn new<I, S>(name: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        EnumType {
            name: name.into(),
            schema: public_schema(),
            values: values.into_iter().map(Into::into).collect(),
        }
    }

    /// `CREATE TYPE "schema"."name" AS ENUM ('a', 'b')`.
    pub fn create_sql(&self) -> String {
        let labels: Vec<String> = self
            .values
            .iter()
            .map(|v| crate::enrich::sql_string_literal(v))
            .collect();
        format!(
            "CREATE TYPE {} AS ENUM ({})",
            crate::quote_qualified(&self.schema, &self.name),
            labels.join(", ")
        )
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaFile {
    models: Vec<Model>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    enums: Vec<EnumType>,
}

impl TryFrom<SchemaFile> for Schema {
    type Error = SchemaError;
    fn try_from(f: SchemaFile) -> Result<Self, SchemaError> {
        Schema::new(f.models)?.with_enums(f.enums)
    }
}

impl From<Schema> for SchemaFile {
    fn from(s: Schema) -> Self {
        SchemaFile {
            models: s.models,
            enums: s.enums,
        }
    }
}

impl Schema {
    /// Validates the models and builds the schema.
    ///
    /// # Errors
    /// The first problem found ([`SchemaError`]), naming the model and field.
    pub fn new(models: Vec<Model>) -> Result<Self, SchemaError> {
        let mut by_name = HashMap::with_capacity(models.len());
        let mut tables: HashMap<(String, String), &str> = HashMap::new();
        // Relation names (tables, indexes, unique constraints) per Postgres schema.
        let mut relnames: HashMap<(String, String), &str> = HashMap::new();
        for (i, m) in models.iter().enumerate() {
            m.validate()?;
            if by_name.insert(m.name.clone(), i).is_some() {
                return Err(SchemaError::DuplicateModel {
                    model: m.name.clone(),
                });
            }
            if let Some(first) = tables.insert((m.schema.clone(), m.table.clone()), &m.name) {
                return Err(SchemaError::DuplicateTable {
                    table: m.qualified_table(),
                    first: first.to_string(),
                    second: m.name.clone(),
                });
            }
            let mut names: Vec<String> = vec![m.table.clone()];
            if !m.primary_key().is_empty() {
                names.push(m.primary_key_name());
            }
            names.extend(m.uniques.iter().map(|u| u.name.clone()));
            names.extend(m.indexes.iter().map(|i| i.name.clone()));
            for name in names {
                if let Some(first) = relnames.insert((m.schema.clone(), name.clone()), &m.name) {
                    return Err(SchemaError::DuplicateConstraint {
                        name,
                        first: first.to_string(),
                        second: m.name.clone(),
                    });
                }
            }
        }
        let schema = Schema {
            models,
            by_name,
            enums: Vec::new(),
        };
        schema.check_references()?;
        Ok(schema)
    }

    fn check_references(&self) -> Result<(), SchemaError> {
        for m in &self.models {
            for r in &m.relations {
                let target =
                    self.model(&r.target)
                        .ok_or_else(|| SchemaError::UnknownRelationTarget {
                            model: m.name.clone(),
                            relation: r.name.clone(),
                            target: r.target.clone(),
                        })?;
                for reference in &r.references {
                    if target.column_by_property(reference).is_none() {
                        return Err(SchemaError::UnknownProperty {
                            model: target.name.clone(),
                            context: format!("relation `{}` of model `{}`", r.name, m.name),
                            property: reference.clone(),
                        });
                    }
                }
            }
            for fk in &m.foreign_keys {
                let target = self
                    .models
                    .iter()
                    .find(|t| t.table == fk.ref_table && t.schema == fk.ref_schema);
                if let Some(target) = target {
                    for c in &fk.ref_columns {
                        if target.column_by_name(c).is_none() {
                            return Err(SchemaError::UnknownColumn {
                                model: target.name.clone(),
                                context: format!("foreign key `{}` of model `{}`", fk.name, m.name),
                                column: c.clone(),
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Parses and validates a schema file ([format](Schema#file-format)).
    ///
    /// # Errors
    /// [`SchemaError::Parse`] for JSON that is not of the format (the message names the line and
    /// column), or the validation error of [`Schema::new`].
    pub fn from_json(json: &str) -> Result<Self, SchemaError> {
        serde_json::from_str(json).map_err(|e| SchemaError::Parse(e.to_string()))
    }

    /// The schema as pretty-printed JSON with expanded columns.
    pub fn to_json(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The models, in the order given.
    pub fn models(&self) -> &[Model] {
        &self.models
    }

    /// The schema with these user enum types (replacing any before).
    ///
    /// # Errors
    /// [`SchemaError::InvalidModel`] for an enum with no value, a duplicate value or a duplicate
    /// type name.
    pub fn with_enums(mut self, enums: Vec<EnumType>) -> Result<Self, SchemaError> {
        let mut seen = std::collections::HashSet::new();
        for e in &enums {
            let bad = |why: &str| SchemaError::InvalidModel {
                model: format!("enum {}.{}", e.schema, e.name),
                reason: why.to_string(),
            };
            if e.values.is_empty() {
                return Err(bad("an enum type needs at least one value"));
            }
            let mut values = std::collections::HashSet::new();
            if e.values.iter().any(|v| !values.insert(v)) {
                return Err(bad("duplicate enum value"));
            }
            if !seen.insert((e.schema.clone(), e.name.clone())) {
                return Err(bad("enum type declared twice"));
            }
        }
        self.enums = enums;
        Ok(self)
    }

    /// The user enum types.
    pub fn enums(&self) -> &[EnumType] {
        &self.enums
    }

    /// The model with this Ignis name.
    pub fn model(&self, name: &str) -> Option<&Model> {
        self.by_name.get(name).map(|&i| &self.models[i])
    }

    /// The model whose table is `schema.table`.
    pub fn model_by_table(&self, schema: &str, table: &str) -> Option<&Model> {
        self.models
            .iter()
            .find(|m| m.table == table && m.schema == schema)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::{self, Enricher};
    use crate::{Column, ForeignKey, Index, PgType, Relation};

    fn user() -> Model {
        Model::new("User")
            .enrich(Enricher::Id(enrich::IdOptions::string()))
            .column(Column::new("name", PgType::Text).not_null())
    }

    fn err(models: Vec<Model>) -> String {
        match Schema::new(models) {
            Ok(_) => panic!("expected a validation error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn relation_to_missing_model_names_model_relation_and_target() {
        let post = Model::new("Post")
            .enrich(Enricher::Id(enrich::IdOptions::number()))
            .column(Column::new("authorId", PgType::Text))
            .relation(Relation::one("author", "Author", ["authorId"], ["id"]));
        assert_eq!(
            err(vec![user(), post]),
            "model `Post`: relation `author` targets unknown model `Author`"
        );
    }

    #[test]
    fn relation_reference_must_exist_on_target() {
        let post = Model::new("Post")
            .column(Column::new("authorId", PgType::Text))
            .relation(Relation::one("author", "User", ["authorId"], ["uid"]));
        assert_eq!(
            err(vec![user(), post]),
            "model `User`: relation `author` of model `Post` names unknown property `uid`"
        );
    }

    #[test]
    fn duplicate_column_is_named() {
        let m = user().column(Column::new("nick", PgType::Text).column_name("name"));
        assert_eq!(err(vec![m]), "model `User`: column `name` is defined twice");
        let m = user().column(Column::new("name", PgType::Text).column_name("name2"));
        assert_eq!(
            err(vec![m]),
            "model `User`: property `name` is defined twice"
        );
    }

    #[test]
    fn duplicate_models_tables_and_index_names() {
        assert_eq!(err(vec![user(), user()]), "model `User` is defined twice");
        let other = Model::new("Person")
            .table("User")
            .column(Column::new("x", PgType::Text));
        assert_eq!(
            err(vec![user(), other]),
            "models `User` and `Person` both use table `public.User`"
        );
        let a = user().index(Index::new("IDX_name", ["name"]));
        let b = Model::new("B")
            .column(Column::new("name", PgType::Text))
            .index(Index::new("IDX_name", ["name"]));
        assert_eq!(
            err(vec![a, b]),
            "constraint or index name `IDX_name` is used twice (models `User` and `B`)"
        );
    }

    #[test]
    fn keys_must_name_columns_not_properties() {
        let m = user()
            .column(Column::new("groupName", PgType::Text))
            .index(Index::new("IDX_User_group", ["groupName"]));
        assert_eq!(
            err(vec![m]),
            "model `User`: index `IDX_User_group` names unknown column `groupName`"
        );
        let m = user().foreign_key(ForeignKey::new("FK_x", ["name"], "User", ["nope"]));
        assert_eq!(
            err(vec![m]),
            "model `User`: foreign key `FK_x` of model `User` names unknown column `nope`"
        );
    }

    #[test]
    fn long_identifiers_and_bad_identity_are_rejected() {
        let long = "x".repeat(64);
        let m = user().column(Column::new("y", PgType::Text).column_name(long.clone()));
        assert!(err(vec![m]).contains("Postgres truncates identifiers to 63"));
        let m =
            user().column(Column::new("serial", PgType::Text).identity(crate::Identity::always()));
        assert!(err(vec![m]).contains("identity needs smallint, integer or bigint"));
        let m = user().hide(["password"]);
        assert_eq!(
            err(vec![m]),
            "model `User`: hidden names unknown property `password`"
        );
    }

    #[test]
    fn json_errors_name_line_and_unknown_keys() {
        let e = Schema::from_json(r#"{"models": [{"name": "A", "colums": []}]}"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("unknown field `colums`"), "{e}");
        let e = Schema::from_json(
            r#"{"models": [{"name": "A", "columns": [{"property": "a", "type": "varchar(x)"}]}]}"#,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("invalid Postgres type `varchar(x)`"), "{e}");
    }

    #[test]
    fn json_round_trip_keeps_everything() {
        let m = user()
            .enrich(Enricher::Tz(enrich::TzOptions::with_deleted()))
            .unique("UQ_User_name", ["name"])
            .hide(["name"])
            .default_filter(serde_json::json!({"where": {"deletedAt": null}}));
        let s = Schema::new(vec![m]).unwrap_or_else(|e| panic!("{e}"));
        let back = Schema::from_json(&s.to_json()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, s);
    }
}
