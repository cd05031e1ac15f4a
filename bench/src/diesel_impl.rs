//! Diesel, sync, over its r2d2 pool, with typed queries on the hand-written `table!`s.
//!
//! Connections: workloads 1-6 hold one connection checked out of a pool of 1 for the whole
//! batch; workloads 7 and 8 check out per operation from pools of 8 and 4. Every pool is built
//! with `test_on_check_out(false)`, as ignis-tx's (r2d2's default would add a round trip per
//! checkout).

use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use rayon::prelude::*;

use crate::model::tables::{orders, users};
use crate::model::{Order, OrderItem, User, UserWithOrders};
use crate::raw::backoff;
use crate::workload::{Inputs, Outcome};
use crate::BoxError;

/// A Diesel r2d2 pool.
pub type PgPool = Pool<ConnectionManager<PgConnection>>;

/// A pool of `size` connections to `url`, without a test on checkout.
///
/// # Errors
/// The first connections cannot be opened.
pub fn pool(url: &str, size: u32) -> Result<PgPool, BoxError> {
    Ok(Pool::builder()
        .max_size(size)
        .test_on_check_out(false)
        .build(ConnectionManager::<PgConnection>::new(url))?)
}

fn find_user(conn: &mut PgConnection, id: i32) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Workload 1.
///
/// # Errors
/// Database errors.
pub fn find_by_id(conn: &mut PgConnection, inp: &Inputs) -> Result<Outcome, BoxError> {
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
pub fn find_filtered(conn: &mut PgConnection, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for (status, min_total) in &inp.searches {
        let found: Vec<Order> = orders::table
            .filter(orders::status.eq(status))
            .filter(orders::total.gt(min_total))
            .order((orders::created_at.desc(), orders::id.asc()))
            .limit(20)
            .select(Order::as_select())
            .load(conn)?;
        check += found.iter().map(|o| i64::from(o.id)).sum::<i64>();
    }
    Ok(Outcome {
        ops: inp.searches.len(),
        check,
        retries: 0,
    })
}

fn insert(conn: &mut PgConnection, u: &crate::model::NewUser) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(u)
        .returning(User::as_returning())
        .get_result(conn)
}

/// Workload 3: `insert_into(..).values(..).get_result` per row, autocommit.
///
/// # Errors
/// Database errors.
pub fn create(conn: &mut PgConnection, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for u in &inp.new_users {
        check += i64::from(insert(conn, u)?.age);
    }
    Ok(Outcome {
        ops: inp.new_users.len(),
        check,
        retries: 0,
    })
}

/// Workload 4: the same inside `conn.transaction(..)`.
///
/// # Errors
/// Database errors.
pub fn create_in_transaction(conn: &mut PgConnection, inp: &Inputs) -> Result<Outcome, BoxError> {
    let check = conn.transaction(|conn| {
        let mut check = 0;
        for u in &inp.new_users {
            check += i64::from(insert(conn, u)?.age);
        }
        Ok::<_, DieselError>(check)
    })?;
    Ok(Outcome {
        ops: inp.new_users.len(),
        check,
        retries: 0,
    })
}

/// Workload 5: one batch insert (`values(&rows)`, a multi-row INSERT).
///
/// # Errors
/// Database errors.
pub fn create_all(conn: &mut PgConnection, inp: &Inputs) -> Result<Outcome, BoxError> {
    let count = diesel::insert_into(users::table)
        .values(&inp.new_users)
        .execute(conn)?;
    Ok(Outcome {
        ops: 1,
        check: i64::try_from(count)?,
        retries: 0,
    })
}

fn users_with_orders(conn: &mut PgConnection, ids: &[i32]) -> QueryResult<Vec<UserWithOrders>> {
    let found: Vec<User> = users::table
        .filter(users::id.eq_any(ids))
        .select(User::as_select())
        .load(conn)?;
    let their_orders: Vec<Order> = Order::belonging_to(&found)
        .select(Order::as_select())
        .load(conn)?;
    let items: Vec<OrderItem> = OrderItem::belonging_to(&their_orders)
        .select(OrderItem::as_select())
        .load(conn)?;
    let items_per_order = items.grouped_by(&their_orders);
    let orders_with_items: Vec<(Order, Vec<OrderItem>)> =
        their_orders.into_iter().zip(items_per_order).collect();
    let per_user = orders_with_items.grouped_by(&found);
    Ok(found
        .into_iter()
        .zip(per_user)
        .map(|(user, orders)| UserWithOrders { user, orders })
        .collect())
}

/// Workload 6: three queries, `belonging_to` and `grouped_by`.
///
/// # Errors
/// Database errors.
pub fn include(conn: &mut PgConnection, inp: &Inputs) -> Result<Outcome, BoxError> {
    let mut check = 0;
    for ids in &inp.groups {
        check += crate::raw::include_check(&users_with_orders(conn, ids)?);
    }
    Ok(Outcome {
        ops: inp.groups.len(),
        check,
        retries: 0,
    })
}

/// Workload 7: a checkout and a lookup per id, from the threads of `pool`.
///
/// # Errors
/// Pool or database errors.
pub fn parallel_find_by_id(
    db: &PgPool,
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

/// Workload 8: `build_transaction().serializable().run(..)` per id, re-run by hand on a
/// serialization failure (up to 20 retries, with ignis-tx's backoff).
///
/// # Errors
/// Pool or database errors, or retries exhausted.
pub fn serializable_rmw(
    db: &PgPool,
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
                        conn.build_transaction().serializable().run(|conn| {
                            let total: f64 =
                                orders::table.find(id).select(orders::total).first(conn)?;
                            diesel::update(orders::table.find(id))
                                .set(orders::total.eq(total + 1.0))
                                .execute(conn)?;
                            Ok::<_, DieselError>(())
                        })
                    };
                    match result {
                        Ok(()) => {
                            return Ok(Outcome {
                                ops: 1,
                                check: 1,
                                retries: u64::from(attempt - 1),
                            })
                        }
                        Err(DieselError::DatabaseError(
                            DatabaseErrorKind::SerializationFailure,
                            _,
                        )) if attempt <= 20 => {
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
