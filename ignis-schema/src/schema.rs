//! A validated set of models.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::SchemaError;
use crate::model::{ForeignKeyTarget, Model, ReferencedTable};

/// A validated set of models: what Ignis "auto-discovery" yields (every model a repository binds
/// to a datasource).
///
/// [`Schema::new`] checks each model ([`Model::validate`]) and the references between them:
/// model names and tables are unique, relation targets and their referenced properties exist,
/// foreign keys to a model name existing properties of it, and index and unique-constraint
/// names are unique in their Postgres schema (Postgres keeps them, with tables, in one
/// namespace). It rewrites names that stand for a column by its SQL name to property names
/// ([`Model::use_property_names`]) and resolves each foreign key's target to a table and
/// columns ([`crate::ForeignKeyTarget`], [`crate::ForeignKey::referenced`]).
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
///   "uniques": [{"name": "UQ_Configuration_code", "properties": ["code"]}],
///   "indexes": [{"name": "IDX_Configuration_group", "properties": ["group"], "unique": false, "method": "btree"}],
///   "foreignKeys": [{"name": "FK_Configuration_createdBy_User_id", "properties": ["createdBy"],
///                    "refModel": "User", "refProperties": ["id"], "onDelete": "setNull", "onUpdate": "noAction"}],
///   "relations": [{"name": "creator", "type": "one", "target": "User", "fields": ["createdBy"], "references": ["id"]}],
///   "skipMigrate": false,
///   "hidden": ["password"],
///   "defaultFilter": {"where": {"deletedAt": null}},
///   "comment": "settings"                 // COMMENT ON TABLE; default none
/// }
/// ```
/// Column `column` defaults to the property in snake_case, `nullable` to true; `type` is any type
/// name Postgres accepts ([`crate::PgType`]); `default` is a SQL expression. Everything else
/// names properties: uniques, index keys and `include`, exclusion elements, `primaryKeyOrder`,
/// foreign keys (`properties`; `refModel` and `refProperties`, or `refTable`, `refSchema` and
/// `refColumns` for a table no model describes, see [`crate::ForeignKeyTarget`]), relations and
/// `hidden`; a column's SQL name appears only in its own `column`. Check expressions, index
/// expressions and predicates are SQL. Unknown keys are errors. Serializing a schema writes the
/// expanded columns, property names and no `enrichers`.
///
/// Files written when keys named columns load to the same schema: `columns` is read as
/// `properties` and `column` (in an index key or exclusion element) as `property`, a name that
/// is no property but a column's SQL name stands for that column's property, and a `refTable`
/// that is a model's table becomes `refModel` with its properties. A name that is neither a
/// property nor a column is a [`SchemaError::UnknownProperty`] naming the model, the
/// constraint and the name.
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
    pub fn new(mut models: Vec<Model>) -> Result<Self, SchemaError> {
        for m in &mut models {
            m.validate()?;
            m.use_property_names()?;
        }
        let mut by_name = HashMap::with_capacity(models.len());
        let mut tables: HashMap<(String, String), &str> = HashMap::new();
        // Relation names (tables, indexes, unique constraints) per Postgres schema.
        let mut relnames: HashMap<(String, String), &str> = HashMap::new();
        for (i, m) in models.iter().enumerate() {
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
        let mut schema = Schema {
            models,
            by_name,
            enums: Vec::new(),
        };
        schema.check_references()?;
        schema.resolve_foreign_keys()?;
        Ok(schema)
    }

    /// Resolves every foreign key's target (see [`ForeignKeyTarget`]): a model target to the
    /// model's table and the columns of its properties (a referenced name that is a column but
    /// no property of the model is rewritten to the property); a model name no model has, to a
    /// table of schema `public` with column names; a table target naming the table of a model,
    /// to that model with its property names.
    fn resolve_foreign_keys(&mut self) -> Result<(), SchemaError> {
        let mut resolved = Vec::new();
        for (i, m) in self.models.iter().enumerate() {
            for (k, fk) in m.foreign_keys.iter().enumerate() {
                let context = || format!("foreign key `{}` of model `{}`", fk.name, m.name);
                let target = match &fk.target {
                    ForeignKeyTarget::Model { model, properties } => self
                        .model(model)
                        .or_else(|| self.model_by_table("public", model))
                        .map(|t| (t, properties)),
                    ForeignKeyTarget::Table {
                        schema,
                        table,
                        columns,
                    } => self.model_by_table(schema, table).map(|t| (t, columns)),
                };
                let Some((t, names)) = target else {
                    if let ForeignKeyTarget::Model { model, properties } = &fk.target {
                        let table = ReferencedTable {
                            schema: "public".into(),
                            table: model.clone(),
                            columns: properties.clone(),
                        };
                        let target = ForeignKeyTarget::Table {
                            schema: table.schema.clone(),
                            table: table.table.clone(),
                            columns: table.columns.clone(),
                        };
                        resolved.push((i, k, target, table));
                    }
                    continue;
                };
                let mut properties = Vec::with_capacity(names.len());
                let mut columns = Vec::with_capacity(names.len());
                for name in names {
                    // A table target names columns; a model target properties, or columns.
                    let column = match fk.target {
                        ForeignKeyTarget::Table { .. } => t.column_by_name(name),
                        ForeignKeyTarget::Model { .. } => t.key_column(name),
                    };
                    let Some(column) = column else {
                        return Err(SchemaError::UnknownProperty {
                            model: t.name.clone(),
                            context: context(),
                            property: name.clone(),
                        });
                    };
                    properties.push(column.property.clone());
                    columns.push(column.column.clone());
                }
                let table = ReferencedTable {
                    schema: t.schema.clone(),
                    table: t.table.clone(),
                    columns,
                };
                let target = ForeignKeyTarget::Model {
                    model: t.name.clone(),
                    properties,
                };
                resolved.push((i, k, target, table));
            }
        }
        for (i, k, target, table) in resolved {
            self.models[i].foreign_keys[k].resolve(target, table);
        }
        Ok(())
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
    use crate::{Column, ForeignKey, ForeignKeyTarget, Index, PgType, Relation};

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
    fn unknown_key_names_are_typed_errors_naming_model_constraint_and_name() {
        let m = user()
            .column(Column::new("groupName", PgType::Text))
            .index(Index::new("IDX_User_group", ["group"]));
        let e = Schema::new(vec![m]).err();
        assert!(
            matches!(&e, Some(SchemaError::UnknownProperty { model, context, property })
                if model == "User" && context == "index `IDX_User_group`" && property == "group"),
            "{e:?}"
        );
        assert_eq!(
            e.map(|e| e.to_string()).unwrap_or_default(),
            "model `User`: index `IDX_User_group` names unknown property `group`"
        );
        let m = user().foreign_key(ForeignKey::new("FK_x", ["name"], "User", ["nope"]));
        assert_eq!(
            err(vec![m]),
            "model `User`: foreign key `FK_x` of model `User` names unknown property `nope`"
        );
        let m = user().unique("UQ_User_x", ["name", "nick"]);
        assert_eq!(
            err(vec![m]),
            "model `User`: unique `UQ_User_x` names unknown property `nick`"
        );
    }

    /// `User` (table `users`) and `Post`, whose properties and columns differ, with a key,
    /// index, constraint and foreign key of each kind.
    fn blog(old_form: bool) -> String {
        let (props, prop, fk) = if old_form {
            (
                "columns",
                "column",
                r#""columns": ["author_id"], "refTable": "users", "refColumns": ["user_id"]"#,
            )
        } else {
            (
                "properties",
                "property",
                r#""properties": ["authorId"], "refModel": "User", "refProperties": ["userId"]"#,
            )
        };
        let name =
            |property: &str, column: &str| if old_form { column } else { property }.to_string();
        let (author, created) = (
            name("authorId", "author_id"),
            name("createdOn", "created_on"),
        );
        format!(
            r#"{{"models": [
  {{"name": "User", "table": "users", "columns": [
    {{"property": "userId", "type": "integer", "primaryKey": true}},
    {{"property": "email", "type": "text"}}]}},
  {{"name": "Post", "columns": [
    {{"property": "id", "type": "integer", "primaryKey": true}},
    {{"property": "authorId", "type": "integer", "primaryKey": true}},
    {{"property": "createdOn", "type": "date"}},
    {{"property": "during", "type": "int4range"}}],
   "primaryKeyOrder": ["{author}", "id"],
   "uniques": [{{"name": "UQ_Post_author_created", "{props}": ["{author}", "{created}"]}}],
   "indexes": [
     {{"name": "IDX_Post_created", "{props}": ["{created}"], "include": ["{author}"]}},
     {{"name": "IDX_Post_author_desc", "keys": [{{"{prop}": "{author}", "order": "desc"}}]}}],
   "exclusions": [{{"name": "EX_Post_during", "method": "gist",
                   "elements": [{{"{prop}": "during", "operator": "&&"}}]}}],
   "foreignKeys": [{{"name": "FK_Post_author", {fk}, "onDelete": "cascade"}}],
   "relations": [{{"name": "author", "type": "one", "target": "User",
                  "fields": ["authorId"], "references": ["userId"]}}]}}
]}}"#
        )
    }

    #[test]
    fn a_file_naming_columns_loads_to_the_same_schema_as_one_naming_properties() {
        let new = Schema::from_json(&blog(false)).unwrap_or_else(|e| panic!("{e}"));
        let old = Schema::from_json(&blog(true)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(old, new);
        assert_eq!(old.to_json(), new.to_json());
        let post = new.model("Post").unwrap_or_else(|| panic!("no Post"));
        assert_eq!(post.primary_key(), vec!["author_id", "id"]);
        assert_eq!(post.primary_key_order, vec!["authorId", "id"]);
        assert_eq!(post.uniques[0].properties, vec!["authorId", "createdOn"]);
        assert_eq!(post.indexes[0].include, vec!["authorId"]);
        assert_eq!(
            post.indexes[1].keys[0].property.as_deref(),
            Some("authorId")
        );
        let fk = &post.foreign_keys[0];
        assert_eq!(
            fk.target,
            ForeignKeyTarget::Model {
                model: "User".into(),
                properties: vec!["userId".into()]
            }
        );
        // The DDL names the columns and the referenced model's table.
        let sql = post.create_sql().join(";\n");
        for part in [
            r#"PRIMARY KEY ("author_id", "id")"#,
            r#"UNIQUE ("author_id", "created_on")"#,
            r#"("created_on") INCLUDE ("author_id")"#,
            r#"("author_id" DESC)"#,
            r#"FOREIGN KEY ("author_id") REFERENCES "public"."users" ("user_id")"#,
        ] {
            assert!(sql.contains(part), "{part} not in {sql}");
        }
        // Written in the property form, which reads back as the same schema.
        let json: serde_json::Value =
            serde_json::from_str(&new.to_json()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            json["models"][1]["foreignKeys"][0],
            serde_json::json!({"name": "FK_Post_author", "properties": ["authorId"],
                               "refModel": "User", "refProperties": ["userId"],
                               "onDelete": "cascade"})
        );
        assert_eq!(
            json["models"][1]["uniques"][0]["properties"],
            serde_json::json!(["authorId", "createdOn"])
        );
        assert_eq!(
            json["models"][1]["indexes"][1]["keys"][0],
            serde_json::json!({"property": "authorId", "order": "desc"})
        );
        let back = Schema::from_json(&new.to_json()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, new);
        assert_eq!(back.to_json(), new.to_json());
    }

    #[test]
    fn builder_column_names_become_property_names() {
        let users = Model::new("User")
            .table("users")
            .column(Column::new("userId", PgType::Integer).primary_key());
        let post = |fk: ForeignKey, unique: &str| {
            Model::new("Post")
                .column(Column::new("authorId", PgType::Integer))
                .unique("UQ_Post_author", [unique])
                .foreign_key(fk)
        };
        let new = Schema::new(vec![
            users.clone(),
            post(
                ForeignKey::new("FK_Post_author", ["authorId"], "User", ["userId"]),
                "authorId",
            ),
        ]);
        let old = Schema::new(vec![
            users,
            post(
                ForeignKey::to_table(
                    "FK_Post_author",
                    ["author_id"],
                    "public",
                    "users",
                    ["user_id"],
                ),
                "author_id",
            ),
        ]);
        let (new, old) = (
            new.unwrap_or_else(|e| panic!("{e}")),
            old.unwrap_or_else(|e| panic!("{e}")),
        );
        assert_eq!(old, new);
        assert_eq!(old.to_json(), new.to_json());
    }

    #[test]
    fn a_table_no_model_describes_is_referenced_by_column_names() {
        let post = Model::new("Post")
            .column(Column::new("legacyId", PgType::Integer))
            .column(Column::new("accountId", PgType::Integer))
            .foreign_key(ForeignKey::to_table(
                "FK_Post_legacy",
                ["legacyId"],
                "archive",
                "legacy_users",
                ["user_id"],
            ))
            // Not the name of a model: a table of schema public.
            .foreign_key(ForeignKey::new(
                "FK_Post_account",
                ["accountId"],
                "accounts",
                ["id"],
            ));
        let s = Schema::new(vec![user(), post]).unwrap_or_else(|e| panic!("{e}"));
        let post = s.model("Post").unwrap_or_else(|| panic!("no Post"));
        assert_eq!(
            post.create_foreign_key_sql(),
            vec![
                concat!(
                    r#"ALTER TABLE "public"."Post" ADD CONSTRAINT "FK_Post_legacy" FOREIGN KEY ("legacy_id") "#,
                    r#"REFERENCES "archive"."legacy_users" ("user_id") ON UPDATE NO ACTION ON DELETE NO ACTION"#
                ),
                concat!(
                    r#"ALTER TABLE "public"."Post" ADD CONSTRAINT "FK_Post_account" FOREIGN KEY ("account_id") "#,
                    r#"REFERENCES "public"."accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION"#
                ),
            ]
        );
        let json: serde_json::Value =
            serde_json::from_str(&s.to_json()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            json["models"][1]["foreignKeys"],
            serde_json::json!([
                {"name": "FK_Post_legacy", "properties": ["legacyId"], "refTable": "legacy_users",
                 "refSchema": "archive", "refColumns": ["user_id"]},
                {"name": "FK_Post_account", "properties": ["accountId"], "refTable": "accounts",
                 "refColumns": ["id"]}
            ])
        );
        assert_eq!(Schema::from_json(&s.to_json()).ok(), Some(s));
    }

    #[test]
    fn a_foreign_key_names_one_target() {
        let e = Schema::from_json(
            r#"{"models": [{"name": "A", "columns": [{"property": "b", "type": "integer"}],
                "foreignKeys": [{"name": "FK_A_b", "properties": ["b"], "refModel": "A",
                                 "refTable": "A", "refColumns": ["b"]}]}]}"#,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            e.contains("foreign key `FK_A_b`: give either `refModel` and `refProperties`"),
            "{e}"
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
