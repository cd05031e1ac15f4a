//! ignis-rs through its public API only: [`DefaultCrudRepository`] methods with Ignis filter JSON.
//! Each read workload has three row routes, from the same statements: JSON rows
//! (`serde_json::Value`, `find` / `find_by_id`), serde typed rows (`find_as` /
//! `find_by_id_as`) and `FromRow` (`find_into` / `find_by_id_into`, the headline figures).
//!
//! Connections: workloads 1-3, 5 and 6 call the repository methods on a datasource whose pool
//! holds one connection (each call checks it out and returns it, as application code does;
//! a new datasource before each sample, see `workload::measure`);
//! workload 4 runs `.on(&mut tx)` on one explicit transaction; workload 7 shares a repository
//! over a pool of 8 between 8 rayon threads; workload 8 runs `DataSource::transaction`
//! (serializable, retries) over a pool of 4 from 4 threads.

use std::sync::Arc;

use ignis_repo::{DefaultCrudRepository, RepoError};
use ignis_schema::Schema;
use ignis_tx::{DataSource, IsolationLevel, TransactionOptions};
use rayon::prelude::*;
use serde_json::{json, Value};

use crate::load::BenchDb;
use crate::workload::{Inputs, Outcome};
use crate::BoxError;

/// The single-connection side of ignis-rs (workloads 1-6): a datasource whose pool holds one
/// connection, and repositories on it. Made anew before each sample, as the raw client's and
/// Diesel's connections are (see `workload::measure`).
pub struct Single {
    /// One-connection datasource.
    pub ds1: DataSource,
    /// `User` on `ds1`.
    pub users: DefaultCrudRepository,
    /// `User` on `ds1`, writes return only the count (`should_return(false)`).
    pub users_count_only: DefaultCrudRepository,
    /// `Order` on `ds1`.
    pub orders: DefaultCrudRepository,
    /// `User` on `ds1`, rows read as [`TypedUser`].
    pub users_typed: DefaultCrudRepository<TypedUser>,
    /// `User` on `ds1`, rows read as [`TypedUserWithOrders`] (with the `orders` include).
    pub users_with_orders: DefaultCrudRepository<TypedUserWithOrders>,
    /// `Order` on `ds1`, rows read as [`TypedOrder`].
    pub orders_typed: DefaultCrudRepository<TypedOrder>,
}

impl Single {
    /// A datasource with one connection (opened now) and its repositories.
    ///
    /// # Errors
    /// The connection cannot be opened, or an unknown model.
    pub fn new(db: &BenchDb, schema: &Arc<Schema>) -> Result<Self, BoxError> {
        Self::over(db.config(1), schema)
    }

    /// [`Single::new`] over another configuration of the database: unnamed statements
    /// (`StatementMode::Unnamed`), or PgBouncer in front of it.
    ///
    /// # Errors
    /// As [`Single::new`].
    pub fn over(
        config: ignis_tx::DataSourceConfig,
        schema: &Arc<Schema>,
    ) -> Result<Self, BoxError> {
        let ds1 = DataSource::new(config)?;
        ds1.ping()?;
        let users = DefaultCrudRepository::new(ds1.clone(), schema.clone(), "User")?;
        let orders = DefaultCrudRepository::new(ds1.clone(), schema.clone(), "Order")?;
        Ok(Single {
            users_count_only: users.should_return(false),
            users_typed: users.typed(),
            users_with_orders: users.typed(),
            orders_typed: orders.typed(),
            orders,
            users,
            ds1,
        })
    }
}

/// The pooled side of ignis-rs (workloads 7 and 8).
pub struct Ignis {
    /// `User` on a pool of 8 (workload 7).
    pub users8: DefaultCrudRepository,
    /// `User` on the pool of 8, rows read as [`TypedUser`] (workload 7's headline).
    pub users8_typed: DefaultCrudRepository<TypedUser>,
    /// Pool of 4 (workload 8).
    pub ds4: DataSource,
    /// Another pool of 4 (workload 8 with JSON rows and data: each variant of a workload has
    /// connections of its own, as raw's and Diesel's pools are their own).
    pub ds4_json: DataSource,
    /// `Order` on `ds4_json`.
    pub orders4: DefaultCrudRepository,
    /// `Order` on `ds4_json`, `should_return(false)`.
    pub orders4_count_only: DefaultCrudRepository,
    /// `Order` on `ds4`, rows read as [`OrderTotal`] (workload 8's headline read).
    pub orders4_totals: DefaultCrudRepository<OrderTotal>,
    /// `Order` on `ds4`, typed, `should_return(false)` (workload 8's headline update).
    pub orders4_typed_count_only: DefaultCrudRepository<TypedOrder>,
}

/// The total of an order: what workload 8 reads (`{"fields": ["total"]}`).
#[derive(Debug, ignis_repo::FromRow)]
pub struct OrderTotal {
    /// Order total.
    pub total: f64,
}

impl Ignis {
    /// Datasources and repositories over the benchmark database.
    ///
    /// # Errors
    /// A config the datasource refuses, or an unknown model.
    pub fn new(db: &BenchDb, schema: &Arc<Schema>) -> Result<Self, BoxError> {
        let ds8 = DataSource::new(db.config(8))?;
        let ds4 = DataSource::new(db.config(4))?;
        let ds4_json = DataSource::new(db.config(4))?;
        let orders4 = DefaultCrudRepository::new(ds4_json.clone(), schema.clone(), "Order")?;
        let orders4_typed = DefaultCrudRepository::new(ds4.clone(), schema.clone(), "Order")?;
        Ok(Ignis {
            users8: DefaultCrudRepository::new(ds8.clone(), schema.clone(), "User")?,
            users8_typed: DefaultCrudRepository::new(ds8, schema.clone(), "User")?.typed(),
            orders4_count_only: orders4.should_return(false),
            orders4_totals: orders4_typed.clone().typed(),
            orders4_typed_count_only: orders4_typed.typed().should_return(false),
            orders4,
            ds4,
            ds4_json,
        })
    }
}

fn int(row: &Value, key: &str) -> i64 {
    row.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// Workload 1: `find_by_id` per id.
///
/// # Errors
/// Repository errors.
pub fn find_by_id(ig: &Single, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for id in &inp.ids_json {
        if let Some(row) = ig.users.find_by_id(id)? {
            check += int(&row, "age");
        }
    }
    Ok(Outcome {
        ops: inp.ids_json.len(),
        check,
        retries: 0,
    })
}

/// Workload 1 on one connection checked out for the whole batch (`.on(&mut conn)`): what the
/// pool checkout per call costs, shown for information.
///
/// # Errors
/// Pool or repository errors.
pub fn find_by_id_held(ig: &Single, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    let mut conn = ig.ds1.connection()?;
    for id in &inp.ids_json {
        if let Some(row) = ig.users.on(&mut conn).find_by_id(id)? {
            check += int(&row, "age");
        }
    }
    Ok(Outcome {
        ops: inp.ids_json.len(),
        check,
        retries: 0,
    })
}

/// Workload 2: `find` with where + order + limit.
///
/// # Errors
/// Repository errors.
pub fn find_filtered(ig: &Single, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for filter in &inp.search_filters {
        for row in ig.orders.find(filter)? {
            check += int(&row, "id");
        }
    }
    Ok(Outcome {
        ops: inp.search_filters.len(),
        check,
        retries: 0,
    })
}

/// An `orders` row as ignis-rs's typed rows deserialize it (property names, camelCase), and
/// its typed writes (`TypedOrderPatch` is workload 8's update).
#[derive(Debug, serde::Deserialize, ignis_repo::FromRow, ignis_repo::Writable)]
#[serde(rename_all = "camelCase")]
#[ignis(id = "number")]
pub struct TypedOrder {
    /// Primary key.
    pub id: i32,
    /// The ordering user.
    pub user_id: i32,
    /// Status.
    pub status: String,
    /// Order total.
    pub total: f64,
    /// Creation time.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Workload 2 with typed rows: `find_as::<TypedOrder>`, decoded straight from the Postgres
/// values as the raw client and Diesel decode into structs.
///
/// # Errors
/// Repository errors.
pub fn find_filtered_typed(ig: &Single, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for filter in &inp.search_filters {
        for row in ig.orders.find_as::<TypedOrder>(filter)? {
            check += i64::from(row.id);
            std::hint::black_box((&row.user_id, &row.status, &row.total, &row.created_at));
        }
    }
    Ok(Outcome {
        ops: inp.search_filters.len(),
        check,
        retries: 0,
    })
}

/// Workload 3: `create` per row, autocommit; returns the row as stored.
///
/// # Errors
/// Repository errors.
pub fn create(ig: &Single, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for data in &inp.new_users_json {
        if let Some(row) = ig.users.create(data)?.data {
            check += int(&row, "age");
        }
    }
    Ok(Outcome {
        ops: inp.new_users_json.len(),
        check,
        retries: 0,
    })
}

/// Workload 3 through a typed repository: `DefaultCrudRepository<TypedUser>::create` of a
/// `NewTypedUser` (bound as Rust values), returning the `TypedUser` stored.
///
/// # Errors
/// Repository errors.
pub fn create_typed(ig: &Single, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for data in &inp.new_users_typed {
        if let Some(row) = ig.users_typed.create(data)?.data {
            check += i64::from(row.age);
        }
    }
    Ok(Outcome {
        ops: inp.new_users_typed.len(),
        check,
        retries: 0,
    })
}

/// Workload 4 through a typed repository: `create` of `NewTypedUser`s on one transaction.
///
/// # Errors
/// Repository errors.
pub fn create_in_transaction_typed(ig: &Single, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    let mut tx = ig.ds1.begin(TransactionOptions::default())?;
    for data in &inp.new_users_typed {
        if let Some(row) = ig.users_typed.on(&mut tx).create(data)?.data {
            check += i64::from(row.age);
        }
    }
    tx.commit()?;
    Ok(Outcome {
        ops: inp.new_users_typed.len(),
        check,
        retries: 0,
    })
}

/// Workload 4: `create` per row on one transaction (`.on(&mut tx)`), then commit.
///
/// # Errors
/// Repository errors.
pub fn create_in_transaction(ig: &Single, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    let mut tx = ig.ds1.begin(TransactionOptions::default())?;
    for data in &inp.new_users_json {
        if let Some(row) = ig.users.on(&mut tx).create(data)?.data {
            check += int(&row, "age");
        }
    }
    tx.commit()?;
    Ok(Outcome {
        ops: inp.new_users_json.len(),
        check,
        retries: 0,
    })
}

/// Workload 5: one `create_all` call; `returning` chooses the repository's default (rows
/// returned) or `should_return(false)` (the count only, as the raw bulk paths).
///
/// # Errors
/// Repository errors.
pub fn create_all(ig: &Single, inp: &Inputs, returning: bool) -> Result<Outcome, BoxError> {
    let repo = if returning {
        &ig.users
    } else {
        &ig.users_count_only
    };
    let r = repo.create_all(&inp.new_users_json)?;
    Ok(Outcome {
        ops: 1,
        check: i64::try_from(r.count)?,
        retries: 0,
    })
}

/// Checksum of workload 6: users + orders + items + sum of item quantities.
fn include_check(rows: &[Value]) -> i64 {
    let mut check = 0;
    for user in rows {
        check += 1;
        for order in user
            .get("orders")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            check += 1;
            for item in order
                .get("items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                check += 1 + int(item, "qty");
            }
        }
    }
    check
}

/// Workload 6: `find` of 10 users including orders including items (3 queries per call).
///
/// # Errors
/// Repository errors.
pub fn include(ig: &Single, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for filter in &inp.group_filters {
        check += include_check(&ig.users.find(filter)?);
    }
    Ok(Outcome {
        ops: inp.group_filters.len(),
        check,
        retries: 0,
    })
}

/// Workload 7: `find_by_id` from the threads of `pool`, sharing one repository (pool of 8).
///
/// # Errors
/// Repository errors.
pub fn parallel_find_by_id(
    ig: &Ignis,
    pool: &rayon::ThreadPool,
    inp: &Inputs,
) -> Result<Outcome, BoxError> {
    pool.install(|| {
        inp.ids_json
            .par_iter()
            .map(|id| -> Result<Outcome, BoxError> {
                let row = ig.users8.find_by_id(id)?;
                Ok(Outcome {
                    ops: 1,
                    check: row.map_or(0, |r| int(&r, "age")),
                    retries: 0,
                })
            })
            .try_reduce(Outcome::default, |a, b| Ok(a.merge(b)))
    })
}

/// Workload 8's loop: per id of `inp`, from the threads of `pool`, `step(tx, id)` in a
/// serializable `DataSource::transaction` on `ds` that retries serialization failures (up to
/// 20 times); the retries are counted.
///
/// # Errors
/// Pool or repository errors, or retries exhausted.
fn serializable_rmw_on(
    ds: &DataSource,
    pool: &rayon::ThreadPool,
    inp: &Inputs,
    step: impl Fn(&mut ignis_tx::Transaction, &Value) -> Result<(), RepoError> + Sync,
) -> Result<Outcome, BoxError> {
    let options = TransactionOptions::new()
        .isolation_level(IsolationLevel::Serializable)
        .retries(20);
    pool.install(|| {
        inp.ids_json
            .par_iter()
            .map(|id| -> Result<Outcome, BoxError> {
                let mut attempts = 0u64;
                ds.transaction(options, |tx| {
                    attempts += 1;
                    step(tx, id)
                })?;
                Ok(Outcome {
                    ops: 1,
                    check: 1,
                    retries: attempts.saturating_sub(1),
                })
            })
            .try_reduce(Outcome::default, |a, b| Ok(a.merge(b)))
    })
}

/// Workload 8 with JSON rows and data: per id, a serializable transaction (up to 20 retries)
/// that reads an order's total and writes it back plus one, from the threads of `pool` (its
/// own pool of 4).
///
/// # Errors
/// Repository errors, or retries exhausted.
pub fn serializable_rmw(
    ig: &Ignis,
    pool: &rayon::ThreadPool,
    inp: &Inputs,
) -> Result<Outcome, BoxError> {
    let fields = json!({"fields": ["total"]});
    serializable_rmw_on(&ig.ds4_json, pool, inp, |tx, id| {
        let total = ig
            .orders4
            .on(tx)
            .find_by_id_with(id, &fields)?
            .and_then(|r| r.get("total").and_then(Value::as_f64))
            .unwrap_or(0.0);
        ig.orders4_count_only
            .on(tx)
            .update_by_id(id, &json!({"total": total + 1.0}))?;
        Ok(())
    })
}

/// Workload 8 through typed repositories: the total read as an [`OrderTotal`]
/// (`find_by_id_with` and `{"fields": ["total"]}`), written back plus one with a
/// `TypedOrderPatch` (`update_by_id`, `should_return(false)`), in a serializable
/// `DataSource::transaction` that retries serialization failures.
///
/// # Errors
/// Pool or repository errors, or retries exhausted.
pub fn serializable_rmw_typed(
    ig: &Ignis,
    pool: &rayon::ThreadPool,
    inp: &Inputs,
) -> Result<Outcome, BoxError> {
    let fields = json!({"fields": ["total"]});
    serializable_rmw_on(&ig.ds4, pool, inp, |tx, id| {
        let total = ig
            .orders4_totals
            .on(tx)
            .find_by_id_with(id, &fields)?
            .map_or(0.0, |r| r.total);
        let patch = TypedOrderPatch {
            total: Some(total + 1.0),
            ..TypedOrderPatch::default()
        };
        ig.orders4_typed_count_only
            .on(tx)
            .update_by_id(id, &patch)?;
        Ok(())
    })
}

/// A `users` row as ignis-rs's typed rows deserialize it (property names, camelCase), and its
/// typed writes (`NewTypedUser`, `TypedUserPatch`: the id and `createdAt` are the database's).
#[derive(Debug, serde::Deserialize, ignis_repo::FromRow, ignis_repo::Writable)]
#[serde(rename_all = "camelCase")]
#[ignis(id = "number")]
pub struct TypedUser {
    /// Primary key.
    pub id: i32,
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Age in years.
    pub age: i32,
    /// Creation time.
    #[ignis(default = "now()")]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Workload 1 with typed rows: `find_by_id_as::<TypedUser>` (the same one statement, decoded
/// straight from the Postgres values as the raw client and Diesel decode into structs).
///
/// # Errors
/// Repository errors.
pub fn find_by_id_typed(ig: &Single, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for id in &inp.ids_json {
        if let Some(row) = ig.users.find_by_id_as::<TypedUser>(id, &Value::Null)? {
            check += i64::from(row.age);
            std::hint::black_box((&row.id, &row.name, &row.email, &row.created_at));
        }
    }
    Ok(Outcome {
        ops: inp.ids_json.len(),
        check,
        retries: 0,
    })
}

/// An `order_items` row, typed.
#[derive(Debug, serde::Deserialize, ignis_repo::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct TypedItem {
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

/// A user with its orders (the `orders` relation), each with its items, typed.
#[derive(Debug, serde::Deserialize, ignis_repo::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct TypedUserWithOrders {
    /// Primary key.
    pub id: i32,
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Age in years.
    pub age: i32,
    /// Creation time.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The `orders` relation.
    #[ignis(relation)]
    pub orders: Vec<TypedOrderWithItemsFlat>,
}

/// An order with its items, its columns spelled out (no `#[serde(flatten)]`, which buffers
/// every field through serde's private content type).
#[derive(Debug, serde::Deserialize, ignis_repo::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct TypedOrderWithItemsFlat {
    /// Primary key.
    pub id: i32,
    /// The ordering user.
    pub user_id: i32,
    /// Status.
    pub status: String,
    /// Order total.
    pub total: f64,
    /// Creation time.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The `items` relation.
    #[ignis(relation)]
    pub items: Vec<TypedItem>,
}

/// Workload 6 with typed rows: `find_as::<TypedUserWithOrders>` (the same 3 queries, rows
/// deserialized straight into the nested structs).
///
/// # Errors
/// Repository errors.
pub fn include_typed(ig: &Single, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for filter in &inp.group_filters {
        check += typed_include_check(&ig.users.find_as::<TypedUserWithOrders>(filter)?);
    }
    Ok(Outcome {
        ops: inp.group_filters.len(),
        check,
        retries: 0,
    })
}

/// Workload 7 with typed rows: `find_by_id_as::<TypedUser>` from the threads of `pool`.
///
/// # Errors
/// Repository errors.
pub fn parallel_find_by_id_typed(
    ig: &Ignis,
    pool: &rayon::ThreadPool,
    inp: &Inputs,
) -> Result<Outcome, BoxError> {
    pool.install(|| {
        inp.ids_json
            .par_iter()
            .map(|id| -> Result<Outcome, BoxError> {
                let row = ig.users8.find_by_id_as::<TypedUser>(id, &Value::Null)?;
                Ok(Outcome {
                    ops: 1,
                    check: row.map_or(0, |r| i64::from(r.age)),
                    retries: 0,
                })
            })
            .try_reduce(Outcome::default, |a, b| Ok(a.merge(b)))
    })
}

// ------------------------------------------------------------------------------------------
// The headline rows: typed repositories over the same structs with `#[derive(FromRow)]` (each
// property decoded by the `postgres` crate for the field's Rust type, as Diesel's `Queryable`
// and sqlx's `FromRow` do).

/// Workload 1 through a typed repository: `DefaultCrudRepository<TypedUser>::find_by_id`.
///
/// # Errors
/// Repository errors.
pub fn find_by_id_from_row(ig: &Single, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for id in &inp.ids_json {
        if let Some(row) = ig.users_typed.find_by_id(id)? {
            check += i64::from(row.age);
            std::hint::black_box((&row.id, &row.name, &row.email, &row.created_at));
        }
    }
    Ok(Outcome {
        ops: inp.ids_json.len(),
        check,
        retries: 0,
    })
}

/// Workload 2 through a typed repository: `DefaultCrudRepository<TypedOrder>::find`.
///
/// # Errors
/// Repository errors.
pub fn find_filtered_from_row(ig: &Single, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for filter in &inp.search_filters {
        for row in ig.orders_typed.find(filter)? {
            check += i64::from(row.id);
            std::hint::black_box((&row.user_id, &row.status, &row.total, &row.created_at));
        }
    }
    Ok(Outcome {
        ops: inp.search_filters.len(),
        check,
        retries: 0,
    })
}

/// Workload 6 through a typed repository: `DefaultCrudRepository<TypedUserWithOrders>::find`
/// (the same 3 queries).
///
/// # Errors
/// Repository errors.
pub fn include_from_row(ig: &Single, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for filter in &inp.group_filters {
        check += typed_include_check(&ig.users_with_orders.find(filter)?);
    }
    Ok(Outcome {
        ops: inp.group_filters.len(),
        check,
        retries: 0,
    })
}

/// Checksum of workload 6 over typed users (users + orders + items + sum of quantities).
fn typed_include_check(users: &[TypedUserWithOrders]) -> i64 {
    let mut check = 0;
    for user in users {
        check += 1;
        std::hint::black_box((
            &user.id,
            &user.name,
            &user.email,
            &user.age,
            &user.created_at,
        ));
        for order in &user.orders {
            check += 1;
            std::hint::black_box((
                &order.id,
                &order.user_id,
                &order.status,
                &order.total,
                &order.created_at,
            ));
            for item in &order.items {
                check += 1 + i64::from(item.qty);
                std::hint::black_box((&item.id, &item.order_id, &item.sku, &item.price));
            }
        }
    }
    check
}

/// Workload 7 through a typed repository: `DefaultCrudRepository<TypedUser>::find_by_id` from
/// the threads of `pool`.
///
/// # Errors
/// Repository errors.
pub fn parallel_find_by_id_from_row(
    ig: &Ignis,
    pool: &rayon::ThreadPool,
    inp: &Inputs,
) -> Result<Outcome, BoxError> {
    parallel_find_by_id_on(&ig.users8_typed, pool, inp)
}

/// Workload 7's loop on `repo`: `find_by_id` of every id from the threads of `pool`, sharing
/// the repository (also the read replica case's loop).
///
/// # Errors
/// Repository errors.
pub fn parallel_find_by_id_on(
    repo: &DefaultCrudRepository<TypedUser>,
    pool: &rayon::ThreadPool,
    inp: &Inputs,
) -> Result<Outcome, BoxError> {
    pool.install(|| {
        inp.ids_json
            .par_iter()
            .map(|id| -> Result<Outcome, BoxError> {
                let row = repo.find_by_id(id)?;
                Ok(Outcome {
                    ops: 1,
                    check: row.map_or(0, |r| i64::from(r.age)),
                    retries: 0,
                })
            })
            .try_reduce(Outcome::default, |a, b| Ok(a.merge(b)))
    })
}
