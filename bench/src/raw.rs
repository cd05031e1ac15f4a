//! The floor: the raw `postgres` client, hand-written SQL, every statement prepared once per
//! connection (at connect time), rows decoded by index into structs.
//!
//! Connections: one held client for workloads 1-6; for workloads 7 and 8 an r2d2 pool (8 and 4
//! connections, no test on checkout, as ignis-tx's) whose connections carry their prepared
//! statements.

use std::collections::HashMap;
use std::time::Duration;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::{Client, IsolationLevel, NoTls, Row, Statement};
use rayon::prelude::*;

use crate::model::{NewUser, Order, OrderItem, User, UserWithOrders};
use crate::workload::{Inputs, Outcome};
use crate::BoxError;

const USER_COLUMNS: &str = "id, name, email, age, created_at";

/// The statements, prepared once per connection.
pub struct Statements {
    user_by_id: Statement,
    orders_search: Statement,
    insert_user: Statement,
    users_by_ids: Statement,
    orders_by_users: Statement,
    items_by_orders: Statement,
    order_total: Statement,
    order_set_total: Statement,
}

/// A connection with its prepared statements.
pub struct RawConn {
    /// The client.
    pub client: Client,
    st: Statements,
    /// The multi-row INSERT of workload 5, prepared for this many rows.
    bulk_insert: Option<(usize, Statement)>,
}

impl RawConn {
    /// Connects and prepares every statement.
    ///
    /// # Errors
    /// Connection or preparation errors.
    pub fn connect(config: &postgres::Config) -> Result<Self, postgres::Error> {
        let mut client = config.connect(NoTls)?;
        let st = Statements {
            user_by_id: client
                .prepare(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))?,
            orders_search: client.prepare(
                "SELECT id, user_id, status, total, created_at FROM orders \
                 WHERE status = $1 AND total > $2 ORDER BY created_at DESC, id LIMIT 20",
            )?,
            insert_user: client.prepare(&format!(
                "INSERT INTO users (name, email, age) VALUES ($1, $2, $3) RETURNING {USER_COLUMNS}"
            ))?,
            users_by_ids: client.prepare(&format!(
                "SELECT {USER_COLUMNS} FROM users WHERE id = ANY($1)"
            ))?,
            orders_by_users: client.prepare(
                "SELECT id, user_id, status, total, created_at FROM orders WHERE user_id = ANY($1)",
            )?,
            items_by_orders: client.prepare(
                "SELECT id, order_id, sku, qty, price FROM order_items WHERE order_id = ANY($1)",
            )?,
            order_total: client.prepare("SELECT total FROM orders WHERE id = $1")?,
            order_set_total: client.prepare("UPDATE orders SET total = $1 WHERE id = $2")?,
        };
        Ok(RawConn {
            client,
            st,
            bulk_insert: None,
        })
    }
}

/// The r2d2 manager of [`RawConn`]s.
#[derive(Debug)]
pub struct RawManager {
    /// Where to connect.
    pub config: postgres::Config,
}

impl r2d2::ManageConnection for RawManager {
    type Connection = RawConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<RawConn, postgres::Error> {
        RawConn::connect(&self.config)
    }

    fn is_valid(&self, conn: &mut RawConn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut RawConn) -> bool {
        conn.client.is_closed()
    }
}

/// A pool of `size` [`RawConn`]s, configured as ignis-tx's pool (no test on checkout).
///
/// # Errors
/// The first connections cannot be opened.
pub fn pool(config: &postgres::Config, size: u32) -> Result<r2d2::Pool<RawManager>, BoxError> {
    Ok(r2d2::Pool::builder()
        .max_size(size)
        .test_on_check_out(false)
        .build(RawManager {
            config: config.clone(),
        })?)
}

fn user(row: &Row) -> Result<User, postgres::Error> {
    Ok(User {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        email: row.try_get(2)?,
        age: row.try_get(3)?,
        created_at: row.try_get(4)?,
    })
}

fn order(row: &Row) -> Result<Order, postgres::Error> {
    Ok(Order {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        status: row.try_get(2)?,
        total: row.try_get(3)?,
        created_at: row.try_get(4)?,
    })
}

fn item(row: &Row) -> Result<OrderItem, postgres::Error> {
    Ok(OrderItem {
        id: row.try_get(0)?,
        order_id: row.try_get(1)?,
        sku: row.try_get(2)?,
        qty: row.try_get(3)?,
        price: row.try_get(4)?,
    })
}

fn find_user(conn: &mut RawConn, id: i32) -> Result<Option<User>, postgres::Error> {
    conn.client
        .query_opt(&conn.st.user_by_id, &[&id])?
        .map(|r| user(&r))
        .transpose()
}

/// Workload 1.
///
/// # Errors
/// Database errors.
pub fn find_by_id(conn: &mut RawConn, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for &id in &inp.ids {
        if let Some(u) = find_user(conn, id)? {
            check += i64::from(u.age);
        }
    }
    Ok(Outcome {
        ops: inp.ids.len(),
        check,
        retries: 0,
    })
}

/// Workload 2.
///
/// # Errors
/// Database errors.
pub fn find_filtered(conn: &mut RawConn, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for (status, min_total) in &inp.searches {
        let rows = conn
            .client
            .query(&conn.st.orders_search, &[status, min_total])?;
        let orders = rows.iter().map(order).collect::<Result<Vec<_>, _>>()?;
        check += orders.iter().map(|o| i64::from(o.id)).sum::<i64>();
    }
    Ok(Outcome {
        ops: inp.searches.len(),
        check,
        retries: 0,
    })
}

fn insert(
    client: &mut impl postgres::GenericClient,
    st: &Statement,
    u: &NewUser,
) -> Result<User, postgres::Error> {
    user(&client.query_one(st, &[&u.name, &u.email, &u.age])?)
}

/// Workload 3: one INSERT .. RETURNING per row, autocommit.
///
/// # Errors
/// Database errors.
pub fn create(conn: &mut RawConn, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for u in &inp.new_users {
        check += i64::from(insert(&mut conn.client, &conn.st.insert_user, u)?.age);
    }
    Ok(Outcome {
        ops: inp.new_users.len(),
        check,
        retries: 0,
    })
}

/// Workload 4: INSERT .. RETURNING per row inside one transaction.
///
/// # Errors
/// Database errors.
pub fn create_in_transaction(conn: &mut RawConn, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    let mut tx = conn.client.transaction()?;
    for u in &inp.new_users {
        check += i64::from(insert(&mut tx, &conn.st.insert_user, u)?.age);
    }
    tx.commit()?;
    Ok(Outcome {
        ops: inp.new_users.len(),
        check,
        retries: 0,
    })
}

/// Workload 5 by one multi-row `INSERT .. VALUES ($1, $2, $3), (...)` (prepared once for the
/// batch size, on the first call).
///
/// # Errors
/// Database errors.
pub fn create_all_insert(conn: &mut RawConn, inp: &Inputs) -> Result<Outcome, BoxError> {
    let n = inp.new_users.len();
    let stmt = match &conn.bulk_insert {
        Some((size, stmt)) if *size == n => stmt.clone(),
        _ => {
            let mut sql = String::from("INSERT INTO users (name, email, age) VALUES ");
            for i in 0..n {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
            }
            let stmt = conn.client.prepare(&sql)?;
            conn.bulk_insert = Some((n, stmt.clone()));
            stmt
        }
    };
    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(3 * n);
    for u in &inp.new_users {
        params.push(&u.name);
        params.push(&u.email);
        params.push(&u.age);
    }
    let count = conn.client.execute(&stmt, &params)?;
    Ok(Outcome {
        ops: 1,
        check: i64::try_from(count)?,
        retries: 0,
    })
}

/// Workload 5 by `COPY users (name, email, age) FROM STDIN BINARY`.
///
/// # Errors
/// Database errors.
pub fn create_all_copy(conn: &mut RawConn, inp: &Inputs) -> Result<Outcome, BoxError> {
    let sink = conn
        .client
        .copy_in("COPY users (name, email, age) FROM STDIN BINARY")?;
    let mut w = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::TEXT, Type::INT4]);
    for u in &inp.new_users {
        w.write(&[&u.name, &u.email, &u.age])?;
    }
    let count = w.finish()?;
    Ok(Outcome {
        ops: 1,
        check: i64::try_from(count)?,
        retries: 0,
    })
}

/// The three queries of workload 6 and the grouping into [`UserWithOrders`].
fn users_with_orders(
    conn: &mut RawConn,
    ids: &[i32],
) -> Result<Vec<UserWithOrders>, postgres::Error> {
    let users = conn
        .client
        .query(&conn.st.users_by_ids, &[&ids])?
        .iter()
        .map(user)
        .collect::<Result<Vec<_>, _>>()?;
    let user_ids: Vec<i32> = users.iter().map(|u| u.id).collect();
    let orders = conn
        .client
        .query(&conn.st.orders_by_users, &[&user_ids])?
        .iter()
        .map(order)
        .collect::<Result<Vec<_>, _>>()?;
    let order_ids: Vec<i32> = orders.iter().map(|o| o.id).collect();
    let mut items_by_order: HashMap<i32, Vec<OrderItem>> = HashMap::new();
    for row in conn.client.query(&conn.st.items_by_orders, &[&order_ids])? {
        let it = item(&row)?;
        items_by_order.entry(it.order_id).or_default().push(it);
    }
    let mut orders_by_user: HashMap<i32, Vec<(Order, Vec<OrderItem>)>> = HashMap::new();
    for o in orders {
        let items = items_by_order.remove(&o.id).unwrap_or_default();
        orders_by_user
            .entry(o.user_id)
            .or_default()
            .push((o, items));
    }
    Ok(users
        .into_iter()
        .map(|u| UserWithOrders {
            orders: orders_by_user.remove(&u.id).unwrap_or_default(),
            user: u,
        })
        .collect())
}

/// Checksum of workload 6 (as ignis-rs's): users + orders + items + sum of item quantities.
pub fn include_check(result: &[UserWithOrders]) -> i64 {
    result
        .iter()
        .map(|u| {
            1 + u
                .orders
                .iter()
                .map(|(_, items)| 1 + items.iter().map(|i| 1 + i64::from(i.qty)).sum::<i64>())
                .sum::<i64>()
        })
        .sum()
}

/// Workload 6: three queries with `= ANY($1)`, grouped by hand.
///
/// # Errors
/// Database errors.
pub fn include(conn: &mut RawConn, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for ids in &inp.groups {
        check += include_check(&users_with_orders(conn, ids)?);
    }
    Ok(Outcome {
        ops: inp.groups.len(),
        check,
        retries: 0,
    })
}

/// Workload 7: a checkout and a prepared lookup per id, from the threads of `pool`.
///
/// # Errors
/// Pool or database errors.
pub fn parallel_find_by_id(
    db: &r2d2::Pool<RawManager>,
    pool: &rayon::ThreadPool,
    inp: &Inputs,
) -> Result<Outcome, BoxError> {
    pool.install(|| {
        inp.ids
            .par_iter()
            .map(|&id| -> Result<Outcome, BoxError> {
                let mut conn = db.get()?;
                let u = find_user(&mut conn, id)?;
                Ok(Outcome {
                    ops: 1,
                    check: u.map_or(0, |u| i64::from(u.age)),
                    retries: 0,
                })
            })
            .try_reduce(Outcome::default, |a, b| Ok(a.merge(b)))
    })
}

/// The backoff ignis-tx uses between attempts (2 ms doubling, capped at 128 ms, random between
/// half and all of it), so the three implementations retry alike.
pub fn backoff(attempt: u32) {
    let cap_ms = 2u64 << (attempt.saturating_sub(1)).min(6);
    let wait = fastrand::u64(cap_ms * 500..=cap_ms * 1000);
    std::thread::sleep(Duration::from_micros(wait));
}

/// One attempt of workload 8's transaction.
fn rmw_once(conn: &mut RawConn, id: i32) -> Result<(), postgres::Error> {
    let mut tx = conn
        .client
        .build_transaction()
        .isolation_level(IsolationLevel::Serializable)
        .start()?;
    let total: f64 = tx.query_one(&conn.st.order_total, &[&id])?.try_get(0)?;
    tx.execute(&conn.st.order_set_total, &[&(total + 1.0), &id])?;
    tx.commit()
}

/// SQLSTATE 40001 or 40P01.
fn retryable(e: &postgres::Error) -> bool {
    e.as_db_error().is_some_and(|db| {
        let code = db.code().code();
        code == "40001" || code == "40P01"
    })
}

/// Workload 8: per id, BEGIN ISOLATION LEVEL SERIALIZABLE, read the total, write it plus one,
/// COMMIT; a serialization failure or deadlock re-runs it (up to 20 retries, with backoff).
///
/// # Errors
/// Pool or database errors, or retries exhausted.
pub fn serializable_rmw(
    db: &r2d2::Pool<RawManager>,
    pool: &rayon::ThreadPool,
    inp: &Inputs,
) -> Result<Outcome, BoxError> {
    pool.install(|| {
        inp.ids
            .par_iter()
            .map(|&id| -> Result<Outcome, BoxError> {
                let mut attempt = 1u32;
                loop {
                    let result = {
                        let mut conn = db.get()?;
                        rmw_once(&mut conn, id)
                    };
                    match result {
                        Ok(()) => {
                            return Ok(Outcome {
                                ops: 1,
                                check: 1,
                                retries: u64::from(attempt - 1),
                            })
                        }
                        Err(e) if retryable(&e) && attempt <= 20 => {
                            backoff(attempt);
                            attempt += 1;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            })
            .try_reduce(Outcome::default, |a, b| Ok(a.merge(b)))
    })
}
