//! # ignis-derive: typed models for ignis-rs
//!
//! Two derives over a struct with named fields, re-exported where their traits live so an
//! application names only the library crates:
//!
//! - [`macro@Model`] (`ignis_schema::Model`): `impl ignis_schema::ModelDef`, whose `model()`
//!   builds the `ignis_schema::Model` the struct describes, the same value the builder makes by
//!   hand, so the migrator, the JSON schema format and the repositories keep one source of truth.
//! - [`macro@FromRow`] (`ignis_repo::FromRow`): `impl ignis_repo::FromRow`, reading each field
//!   from a repository row by its property name, included relations into `Vec<T>` / `Option<T>`.
//!
//! Both read the same `#[ignis(..)]` attributes; a key neither knows is a compile error that
//! points at it. Names follow Ignis: a field's **property** is its name in lowerCamelCase
//! (`created_at` -> `createdAt`) and its **column** its name in snake_case.
//!
//! ```
//! use ignis_repo::FromRow;
//! use ignis_schema::{Model, ModelDef};
//!
//! #[derive(Model, FromRow)]
//! #[ignis(id = "number", tz)]
//! struct Author {
//!     id: i32,
//!     #[ignis(unique)]
//!     email: String,
//!     nickname: Option<String>,
//!     #[ignis(relation)]
//!     posts: Vec<Post>,
//! }
//!
//! #[derive(Model, FromRow)]
//! #[ignis(id = "number")]
//! struct Post {
//!     id: i32,
//!     #[ignis(foreign_key(model = "Author"))]
//!     author_id: i32,
//!     #[ignis(pg_type = "varchar(200)")]
//!     title: String,
//!     #[ignis(relation)]
//!     author: Option<Author>,
//! }
//!
//! let schema = ignis_schema::Schema::new(vec![Author::model(), Post::model()]).unwrap();
//! let post = schema.model("Post").unwrap();
//! assert_eq!(post.column_by_property("authorId").unwrap().column, "author_id");
//! assert_eq!(post.relation_by_name("author").unwrap().fields, ["authorId"]);
//! assert_eq!(schema.model("Author").unwrap().relation_by_name("posts").unwrap().references, ["authorId"]);
//! ```

mod attrs;
mod fields;
mod from_row;
mod model;
mod names;
mod pg_enum;
mod properties;
mod types;
mod writable;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Derives `ignis_schema::ModelDef` for a struct with named fields: `MODEL_NAME` (the struct's
/// name unless `name = ".."`) and `model()`, the `ignis_schema::Model` it describes.
///
/// Re-exported as `ignis_schema::Model`. The generated code names `::ignis_schema`, so the
/// crate that derives needs `ignis-schema` as a dependency.
///
/// # Struct attributes `#[ignis(..)]`
/// - `name = "User"`: the Ignis model name (default: the struct's name).
/// - `table = "users"`, `schema = "app"`: the table and its Postgres schema (default: the
///   model name, `public`).
/// - `skip_migrate`: the migrator never creates, alters or drops the table.
/// - The Ignis enrichers, whose columns come first, in the order written, before the fields'
///   (as `Model::enrich` then `Model::column`): `id = "string" | "number" | "big-number"`,
///   `tz` or `tz(deleted)`, `user_audit` or `user_audit = "string" | "number"`, `data_type`,
///   `user_columns` or `user_columns = "string" | "number"` (the `parentId` type),
///   `principal` or `principal(discriminator = "owner", id_type = "string", default = "User")`.
///   A field whose property an enricher provides (`id`, `created_at`, ...) adds no column of
///   its own: the enricher's column stands, and the field is there to be read. The
///   parenthesized forms take column options: `id(data_type = "number", column = "..")`,
///   `tz(deleted, no_modified, without_time_zone, created_column = "..", modified_column =
///   "..", deleted_column = "..")`, `user_audit(data_type = "string", created_column = "..",
///   modified_column = "..")`.
/// - `renamed_from = "old_table"`, `comment = ".."` (`COMMENT ON TABLE`),
///   `default_filter = r#"{"where": {"deletedAt": null}}"#` (Ignis filter JSON, checked to be
///   an object).
/// - `primary_key(name = "pk_..", order = "tenantId, id", deferrable, initially_deferred)`,
///   each optional: the constraint name when not Postgres's `{table}_pkey`, the key order when
///   not the fields' order, and its deferral. The key's columns are the `primary_key` fields.
///
/// Constraints over several properties, or with options, are struct attributes, repeatable,
/// naming properties (comma-separated lists). Each maps onto the `ignis_schema` type of the
/// same name (whose docs describe the options as Postgres's CREATE TABLE / CREATE INDEX do):
/// - `unique(name = "UQ_..", properties = "a, b", deferrable, initially_deferred,
///   nulls_not_distinct)`.
/// - `index(name = "IDX_..", properties = "a, b", method = "gin", where = "<sql>", unique,
///   include = "c", nulls_not_distinct, with = "fillfactor = 70")`; keys with options in place
///   of `properties`: `key(property = "email", opclass = "text_pattern_ops", collation = "C",
///   order = "desc", nulls = "first")` or `key(expression = "lower(email)")`, one per key, in
///   order.
/// - `foreign_key(name = "FK_..", properties = "tenantId, projectId", model = "Project",
///   references = "tenantId, id")`, or `table = "users", schema = "legacy"` (a table no model
///   describes; `references` are then its column names) instead of `model`; optionally
///   `on_delete` / `on_update` = `"no_action" | "restrict" | "cascade" | "set_null" |
///   "set_default"`, `match_full`, `deferrable`, `initially_deferred`.
/// - `check(name = "CK_..", expr = "<sql>")`.
/// - `exclusion(name = "EX_..", method = "gist", element(property = "room", operator = "="),
///   element(expression = "<sql>", opclass = "..", operator = "&&"), where = "<sql>",
///   deferrable, initially_deferred)`.
///
/// SQL texts (`where`, `expr`, key and element expressions) are DDL written by the model's
/// author and go into the statements as written; the migrator compares them as Postgres
/// prints them back.
///
/// # Field attributes
/// - `property = "createdAt"`: the property name (default: the field name in lowerCamelCase).
/// - `column = "created_at"`: the SQL column name (default: the field name in snake_case).
/// - `pg_type = "varchar(20)"`: the Postgres type, as `ignis_schema::PgType` parses it
///   (default: from the Rust type, see below); checked at compile time.
/// - `primary_key`, `default = "now()"` (a SQL expression, as `Column::default_sql` takes it),
///   `renamed_from = "old_name"`.
/// - `unique` / `unique = "UQ_name"` (default name `UQ_{Model}_{property}`), `index` /
///   `index = "IDX_name"` (default `IDX_{Model}_{property}`).
/// - `foreign_key(model = "User", references = "id", name = "FK_..")`: a foreign key from this
///   property; `references` (comma-separated property names) defaults to `id`, the name to
///   `FK_{Model}_{property}_{Target}_{references}`; with the struct-level form's options
///   (`table` / `schema`, `on_delete`, `on_update`, `match_full`, `deferrable`,
///   `initially_deferred`).
/// - `identity`, `identity = "always" | "by_default"` or `identity(by_default, start = 1,
///   increment = 1, min_value = .., max_value = .., cache = .., cycle)`: `GENERATED .. AS
///   IDENTITY` with its sequence options (an integer column, `NOT NULL`, no `default`).
/// - `sequence(name = "..", start = .., increment = .., min_value = .., max_value = ..,
///   cache = .., cycle)` on a `pg_type = "serial"` (`bigserial`, `smallserial`) field: the
///   options of the sequence the column owns, and its name when not `serial`'s
///   `{table}_{column}_seq`.
/// - `collation = "C"`, `statistics = 500` (0 to 10000), `comment = ".."`.
/// - `hidden`: the property never leaves the repository (Ignis hidden properties).
/// - `relation` / `relation(fields = "authorId", references = "id", model = "User")` on a
///   `Vec<T>` (a `many` relation) or `Option<T>` (a `one` relation) field: a relation named
///   like the property, to `T`'s model (`<T as ModelDef>::MODEL_NAME` unless `model`), not a
///   column. Without `fields` / `references`, a one relation `author` joins `authorId` to the
///   target's `id`, and a many relation of `User` joins `id` to the target's `userId`.
/// - `skip`: not part of the model.
///
/// # Types
/// A field's Postgres type comes from its Rust type: `i16` smallint, `i32` integer, `i64`
/// bigint, `f32` real, `f64` double precision, `bool` boolean, `String` text, `Vec<u8>` bytea,
/// `serde_json::Value` jsonb, chrono's `DateTime<Utc>` timestamp with time zone,
/// `NaiveDateTime` timestamp, `NaiveDate` date, `NaiveTime` time, `uuid::Uuid` uuid, `Decimal`
/// numeric, `Vec<T>` an array of `T`'s type. `Option<T>` is nullable; any other type is
/// `NOT NULL`. A type with no mapping and no `pg_type` is a compile error at the field's type.
///
/// ```
/// use ignis_schema::{Column, Model, ModelDef, PgType};
///
/// #[derive(Model)]
/// #[ignis(table = "tags", schema = "app")]
/// struct Tag {
///     #[ignis(primary_key)]
///     id: i64,
///     #[ignis(pg_type = "varchar(40)", unique)]
///     label: String,
///     created_at: Option<chrono::DateTime<chrono::Utc>>,
/// }
///
/// let by_hand = ignis_schema::Model::new("Tag")
///     .table("tags")
///     .schema("app")
///     .column(Column::new("id", PgType::BigInt).not_null().primary_key())
///     .column(Column::new("label", PgType::Varchar(Some(40))).not_null())
///     .column(Column::new("createdAt", PgType::TIMESTAMPTZ))
///     .unique("UQ_Tag_label", ["label"]);
/// assert_eq!(Tag::model(), by_hand);
/// assert_eq!(Tag::MODEL_NAME, "Tag");
/// ```
#[proc_macro_derive(Model, attributes(ignis))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    model::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `ignis_repo::FromRow` for a struct with named fields: each field is read from the
/// row by its property name with `RowRef::get` (decoded by the `postgres` crate's `FromSql`
/// for the field's type; `Option<T>` for a nullable column).
///
/// Re-exported as `ignis_repo::FromRow` (beside the trait of the same name, as serde does with
/// `Serialize`). The generated code names `::ignis_repo`, so the crate that derives needs only
/// `ignis-repo`.
///
/// It reads the attributes [`macro@Model`] documents and uses these:
/// - `property = ".."`: the property name (default: the field name in lowerCamelCase).
/// - `relation` on a `Vec<T>` field reads `RowRef::many::<T>(property)`, on an `Option<T>`
///   field `RowRef::one::<T>(property)` (`T: FromRow`); a relation the filter did not include
///   reads as an empty `Vec` / `None`.
/// - `skip` and `hidden` fields take `Default::default()`: a hidden property never leaves the
///   repository, so there is nothing to read.
///
/// A property that is not in the row (left out by the filter's `fields`), a NULL read into a
/// non-`Option` field, or a type that does not accept the column's Postgres type is the
/// `RepoError::Decode` that `RowRef::get` returns.
///
/// ```
/// use ignis_repo::FromRow;
///
/// #[derive(FromRow)]
/// struct Order {
///     id: i32,
///     status: String,
///     created_at: chrono::DateTime<chrono::Utc>,
/// }
///
/// #[derive(FromRow)]
/// struct User {
///     #[ignis(property = "fullName")]
///     name: String,
///     #[ignis(relation)]
///     orders: Vec<Order>,
///     #[ignis(skip)]
///     cached: Option<u64>,
/// }
/// // users.find_into::<User>(&json!({"include": ["orders"]}))
/// fn assert_from_row<T: FromRow>() {}
/// assert_from_row::<User>();
/// ```
#[proc_macro_derive(FromRow, attributes(ignis))]
pub fn derive_from_row(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    from_row::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives, for a fieldless enum, `ignis_schema::PgEnumDef` (a Postgres enum type:
/// `CREATE TYPE name AS ENUM (labels)`) and the `postgres` crate's `ToSql` and `FromSql`, so
/// the enum binds as a parameter, decodes in `#[derive(FromRow)]` rows and, as a field of a
/// `#[derive(Model)]` struct, is a column of that type (`Option<E>` nullable, `Vec<E>` an
/// array); the model's `ModelDef::enums` lists the type, and `ignis_schema::SchemaBuilder`
/// puts it in the schema so the migrator creates it.
///
/// Re-exported as `ignis_schema::PgEnum`. The generated code names `::ignis_schema` and
/// `::ignis_repo`, so the crate that derives needs both.
///
/// # Attributes
/// - On the enum: `name = "order_status"` (default: the enum's name in snake_case) and
///   `schema = "app"` (default `public`), both lowercase SQL identifiers;
///   `rename_all = ".."`, how variant names become labels: `"snake_case"` (the default,
///   `InProgress` -> `in_progress`, the usual spelling of Postgres labels), `"lowercase"`,
///   `"UPPERCASE"`, `"SCREAMING_SNAKE_CASE"`, `"camelCase"`, `"PascalCase"` (as written) or
///   `"kebab-case"`; `serde`, which also implements serde's `Serialize` and `Deserialize` by
///   label (then do not derive them too), so JSON rows and Postgres agree.
/// - On a variant: `rename = "label"`.
///
/// The labels are in declaration order, the type's sort order. A variant with fields, an
/// empty enum, a generic enum, two variants with one label or a label over 63 bytes is a
/// compile error.
///
/// `ToSql` writes the label and `FromSql` reads it; both accept the enum type itself (by name
/// and schema) and the text types. A label the enum does not know (a value added to the type
/// in the database only) is a decode error naming it.
///
/// The enum is also a typed-filter value (`ignis_repo::filter::typed::FilterValue`, by label,
/// and `Ordered`, in declaration order as Postgres sorts enum values): a `Property<M, E>` has
/// `eq` / `ne` / `in_` / `nin`, the comparisons and `asc` / `desc`.
///
/// ```
/// use ignis_schema::{EnumType, PgEnum, PgEnumDef, PgType};
///
/// #[derive(PgEnum, Debug, PartialEq)]
/// #[ignis(schema = "app", serde)]
/// enum OrderStatus {
///     New,
///     InProgress,
///     #[ignis(rename = "done!")]
///     Done,
/// }
///
/// assert_eq!(OrderStatus::TYPE_NAME, "order_status");
/// assert_eq!(OrderStatus::LABELS, ["new", "in_progress", "done!"]);
/// assert_eq!(OrderStatus::pg_type(), PgType::Custom("app.order_status".into()));
/// assert_eq!(OrderStatus::InProgress.label(), "in_progress");
/// let mut e = EnumType::new("order_status", ["new", "in_progress", "done!"]);
/// e.schema = "app".into();
/// assert_eq!(OrderStatus::enum_type(), e);
/// assert_eq!(serde_json::to_value(OrderStatus::Done).unwrap(), "done!");
/// let back: OrderStatus = serde_json::from_value("in_progress".into()).unwrap();
/// assert_eq!(back, OrderStatus::InProgress);
/// ```
#[proc_macro_derive(PgEnum, attributes(ignis))]
pub fn derive_pg_enum(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    pg_enum::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives, for a struct with named fields, one associated constant per field for typed
/// filters (`ignis_repo::filter::typed`): `User::EMAIL`, a
/// `Property<User, String>` for the field `email: String`; `User::ORDERS`, a
/// `Related<User, Order>` for a `#[ignis(relation)] orders: Vec<Order>` field. A constant is
/// named after its field in SCREAMING_SNAKE_CASE and holds the field's property name; its type
/// carries the field's Rust type, so only the operators that apply to it, with values of that
/// type, compile (`User::EMAIL.gt(3)` does not).
///
/// A derive of its own (beside `Model` and `FromRow`) because the constants name
/// `::ignis_repo` (the crate that derives needs it), where `Model` needs only `ignis-schema`.
/// Re-exported as `ignis_repo::filter::typed::Properties`. It reads the attributes
/// [`macro@Model`] documents and uses `property = ".."`, `relation` and `skip` (no constant).
/// The constants have the struct's visibility. The properties that the struct's enrichers add
/// and the struct does not declare get constants too, typed as the enricher's columns:
/// `#[ignis(id = "number", tz)]` gives `ID` (`i32`), `CREATED_AT` and `MODIFIED_AT`
/// (`DateTime<Utc>`, or `NaiveDateTime` with `tz(without_time_zone)`); `tz(deleted)` adds
/// `DELETED_AT` (`Option<..>`); `user_audit` `CREATED_BY` / `MODIFIED_BY` (`Option<i32>` or
/// `Option<String>`); `data_type`, `user_columns` and `principal` theirs likewise. A field
/// whose constant would have the same name wins.
///
/// ```
/// use ignis_repo::filter::typed::{Properties, TypedFilter};
///
/// #[derive(Properties)]
/// struct User {
///     id: String,
///     #[ignis(property = "mail")]
///     email: String,
///     last_login_at: Option<chrono::DateTime<chrono::Utc>>,
///     #[ignis(relation)]
///     orders: Vec<Order>,
/// }
///
/// #[derive(Properties)]
/// struct Order {
///     id: i32,
/// }
///
/// assert_eq!(User::EMAIL.name(), "mail");
/// assert_eq!(User::LAST_LOGIN_AT.name(), "lastLoginAt");
/// let filter = TypedFilter::new()
///     .r#where(User::LAST_LOGIN_AT.is_null())
///     .include(User::ORDERS);
/// assert_eq!(
///     serde_json::Value::from(filter),
///     serde_json::json!({"where": {"lastLoginAt": {"eq": null}}, "include": ["orders"]})
/// );
/// ```
#[proc_macro_derive(Properties, attributes(ignis))]
pub fn derive_properties(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    properties::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives, for a model struct with named fields, its typed write inputs and their
/// `ignis_repo::WriteValues` / `CreateData` / `PatchData` impls, so a typed repository
/// (`DefaultCrudRepository<User>`) writes with Rust values, bound as they are (no JSON):
///
/// - `New{Struct}`, an insert for `create` / `create_all`: every column field of the struct;
///   the fields the database can fill are `Option`s that `None` leaves out (the column's
///   default, or the actor for `createdBy` / `modifiedBy`): the properties of the struct's
///   enrichers (`id`, `createdAt`, `modifiedAt`, ...), fields with `default = ".."` and
///   nullable (`Option<T>`) fields, which keep their type.
/// - `{Struct}Patch`, a partial update for `update_by_id` / `update_all`: every column field
///   as an `Option` (`Option<Option<T>>` for a nullable one: `Some(None)` sets NULL); only the
///   `Some` fields are written (`modifiedAt` / `modifiedBy` as for JSON updates). It derives
///   `Default`, so `UserPatch { name: Some(..), ..Default::default() }` sets one field.
///
/// Relation and `skip` fields are not part of them; hidden fields are (a hidden property
/// never leaves the repository, but it is written). Both types derive `Debug` and `Clone`, so
/// the field types need them too (every mapped type has them; derive them on a `PgEnum`
/// enum). Both types have the struct's visibility,
/// on the type and on every field. Re-exported as `ignis_repo::Writable`; the generated code
/// names `::ignis_repo`. A generic struct is a compile error.
///
/// ```
/// use ignis_repo::{FromRow, Writable, WriteValues};
/// use ignis_schema::Model;
///
/// #[derive(Model, FromRow, Writable)]
/// #[ignis(id = "number", tz)]
/// pub struct Note {
///     pub id: i32,
///     pub title: String,
///     pub body: Option<String>,
///     pub created_at: chrono::DateTime<chrono::Utc>,
/// }
///
/// let new = NewNote { id: None, title: "hello".into(), body: None, created_at: None };
/// let mut given = Vec::new();
/// new.write_values(&mut |property, _| given.push(property));
/// assert_eq!(given, ["title"]);
///
/// let patch = NotePatch { body: Some(None), ..Default::default() };
/// let mut given = Vec::new();
/// patch.write_values(&mut |property, _| given.push(property));
/// assert_eq!(given, ["body"]);
/// // notes.create(&new)?, notes.update_by_id(1, &patch)? on a DefaultCrudRepository<Note>
/// ```
#[proc_macro_derive(Writable, attributes(ignis))]
pub fn derive_writable(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    writable::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
