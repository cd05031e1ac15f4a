//! The benchmark's data model, three times: as ignis-rs models (what the migrator creates and the
//! repositories read), as Diesel `table!` declarations written by hand, and as the plain structs
//! that the raw client and Diesel decode rows into.
//!
//! `users` (10k) ← `orders` (100k, `user_id`) ← `order_items` (300k, `order_id`); relations
//! `User.orders` (many) and `Order.items` (many).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ignis_schema::enrich::IdOptions;
use ignis_schema::{Column, Enricher, ForeignKey, Index, Model, PgType, Relation, Schema};

use crate::BoxError;

/// The ignis-rs schema: `User`, `Order`, `OrderItem`, integer identity ids, foreign keys with
/// their indexes, and an index for the filtered, ordered order listing of workload 2.
///
/// # Errors
/// The models do not validate (a bug in this file).
pub fn schema() -> Result<Arc<Schema>, BoxError> {
    let created_at = || {
        Column::new("createdAt", PgType::TIMESTAMPTZ)
            .not_null()
            .default_sql("now()")
    };
    let user = Model::new("User")
        .table("users")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("name", PgType::Text).not_null())
        .column(Column::new("email", PgType::Text).not_null())
        .column(Column::new("age", PgType::Integer).not_null())
        .column(created_at())
        .relation(Relation::many("orders", "Order", ["id"], ["userId"]));
    let order = Model::new("Order")
        .table("orders")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("userId", PgType::Integer).not_null())
        .column(Column::new("status", PgType::Text).not_null())
        .column(Column::new("total", PgType::DoublePrecision).not_null())
        .column(created_at())
        .foreign_key(ForeignKey::new(
            "FK_orders_user_id",
            ["userId"],
            "User",
            ["id"],
        ))
        .index(Index::new("IDX_orders_user_id", ["userId"]))
        .index(Index::new(
            "IDX_orders_status_created_at",
            ["status", "createdAt"],
        ))
        .relation(Relation::one("user", "User", ["userId"], ["id"]))
        .relation(Relation::many("items", "OrderItem", ["id"], ["orderId"]));
    let item = Model::new("OrderItem")
        .table("order_items")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("orderId", PgType::Integer).not_null())
        .column(Column::new("sku", PgType::Text).not_null())
        .column(Column::new("qty", PgType::Integer).not_null())
        .column(Column::new("price", PgType::DoublePrecision).not_null())
        .foreign_key(ForeignKey::new(
            "FK_order_items_order_id",
            ["orderId"],
            "Order",
            ["id"],
        ))
        .index(Index::new("IDX_order_items_order_id", ["orderId"]))
        .relation(Relation::one("order", "Order", ["orderId"], ["id"]));
    Ok(Arc::new(Schema::new(vec![user, order, item])?))
}

/// Diesel's view of the tables, written by hand (no diesel CLI).
pub mod tables {
    diesel::table! {
        /// `users`.
        users (id) {
            /// Identity primary key.
            id -> Int4,
            /// Name.
            name -> Text,
            /// E-mail address.
            email -> Text,
            /// Age in years.
            age -> Int4,
            /// Creation time.
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        /// `orders`.
        orders (id) {
            /// Identity primary key.
            id -> Int4,
            /// The ordering user.
            user_id -> Int4,
            /// `pending`, `paid`, `shipped`, `delivered` or `cancelled`.
            status -> Text,
            /// Order total.
            total -> Float8,
            /// Creation time.
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        /// `order_items`.
        order_items (id) {
            /// Identity primary key.
            id -> Int4,
            /// The order.
            order_id -> Int4,
            /// Stock keeping unit.
            sku -> Text,
            /// Quantity.
            qty -> Int4,
            /// Unit price.
            price -> Float8,
        }
    }

    diesel::joinable!(orders -> users (user_id));
    diesel::joinable!(order_items -> orders (order_id));
    diesel::allow_tables_to_appear_in_same_query!(users, orders, order_items);
}

use tables::{order_items, orders, users};

/// A `users` row, decoded by the raw client (by index) and by Diesel.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct User {
    /// Primary key.
    pub id: i32,
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Age in years.
    pub age: i32,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// An `orders` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, Associations)]
#[diesel(table_name = orders, belongs_to(User), check_for_backend(diesel::pg::Pg))]
pub struct Order {
    /// Primary key.
    pub id: i32,
    /// The ordering user.
    pub user_id: i32,
    /// Status.
    pub status: String,
    /// Order total.
    pub total: f64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// An `order_items` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, Associations)]
#[diesel(table_name = order_items, belongs_to(Order), check_for_backend(diesel::pg::Pg))]
pub struct OrderItem {
    /// Primary key.
    pub id: i32,
    /// The order.
    pub order_id: i32,
    /// Stock keeping unit.
    pub sku: String,
    /// Quantity.
    pub qty: i32,
    /// Unit price.
    pub price: f64,
}

/// A user to insert (`created_at` takes its default).
#[derive(Debug, Clone, PartialEq, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Age in years.
    pub age: i32,
}

impl NewUser {
    /// The same user as ignis-rs create data (property names).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"name": self.name, "email": self.email, "age": self.age})
    }
}

/// A user with their orders, each with its items: the result of workload 6 for the raw client
/// and Diesel.
#[derive(Debug, Clone, PartialEq)]
pub struct UserWithOrders {
    /// The user.
    pub user: User,
    /// The user's orders, each with its items.
    pub orders: Vec<(Order, Vec<OrderItem>)>,
}

/// The statuses orders take.
pub const STATUSES: [&str; 5] = ["pending", "paid", "shipped", "delivered", "cancelled"];
