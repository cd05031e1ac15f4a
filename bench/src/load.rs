//! The benchmark database: created fresh on the server of `DATABASE_URL`, migrated with
//! ignis-migrate, bulk-loaded once with `COPY` on a raw `postgres` connection, analyzed, and
//! dropped at the end ([`BenchDb`]'s `Drop`, which also runs when the run fails or panics).

use std::io::Write;
use std::time::Instant;

use chrono::{Duration as ChronoDuration, TimeZone, Utc};
use ignis_migrate::Migrator;
use ignis_schema::Schema;
use ignis_tx::{DataSource, DataSourceConfig, PoolOptions};

use crate::model::STATUSES;
use crate::BoxError;

/// How many rows the data set holds.
#[derive(Debug, Clone, Copy)]
pub struct DataSize {
    /// Users.
    pub users: i32,
    /// Orders (random users).
    pub orders: i32,
    /// Items per order.
    pub items_per_order: i32,
}

/// A database created for this run, dropped (`WITH (FORCE)`) when this value is dropped.
pub struct BenchDb {
    /// The database's name, `ignis_bench_<32 hex digits>`.
    pub name: String,
    admin: DataSourceConfig,
}

impl BenchDb {
    /// Creates `ignis_bench_<uuid>` on the server of `admin`.
    ///
    /// # Errors
    /// The server cannot be reached or refuses `CREATE DATABASE`.
    pub fn create(admin: &DataSourceConfig) -> Result<Self, BoxError> {
        let name = format!("ignis_bench_{}", uuid::Uuid::new_v4().simple());
        let mut client = postgres::Client::connect(&admin.connection_string(), postgres::NoTls)?;
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(|e| format!("CREATE DATABASE {name} on {admin}: {e}"))?;
        Ok(BenchDb {
            name,
            admin: admin.clone(),
        })
    }

    /// The configuration of this database with `max_size` pooled connections.
    pub fn config(&self, max_size: u32) -> DataSourceConfig {
        self.admin
            .clone()
            .with_database(&self.name)
            .with_pool(PoolOptions {
                max_size,
                ..PoolOptions::default()
            })
    }

    /// The connection string of this database (with the password, if any).
    pub fn url(&self) -> String {
        self.config(1).connection_string()
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        let dropped = postgres::Client::connect(&self.admin.connection_string(), postgres::NoTls)
            .and_then(|mut c| {
                c.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
            });
        match dropped {
            Ok(()) => eprintln!("dropped database {}", self.name),
            Err(e) => eprintln!("warning: could not drop database {}: {e}", self.name),
        }
    }
}

/// Migrates `schema` into the database with ignis-migrate.
///
/// # Errors
/// Connection or migration errors.
pub fn migrate(db: &BenchDb, schema: &Schema) -> Result<usize, BoxError> {
    let ds = DataSource::new(db.config(1))?;
    let plan = Migrator::new(ds).migrate(schema, |_| {})?;
    Ok(plan.steps.len())
}

/// Loads the data set with three `COPY ... FROM STDIN` (text format), from a seeded generator so
/// every run loads the same rows, then runs `ANALYZE`. Ids are the identity values 1..=n (a
/// fresh table, one COPY each); checked afterwards.
///
/// # Errors
/// Connection or COPY errors, or ids that are not 1..=n.
pub fn load(db: &BenchDb, size: DataSize) -> Result<(), BoxError> {
    let started = Instant::now();
    let mut client = postgres::Client::connect(&db.url(), postgres::NoTls)?;
    let mut rng = fastrand::Rng::with_seed(0x1915);
    let epoch = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .ok_or("epoch")?;
    let time = |rng: &mut fastrand::Rng| {
        (epoch + ChronoDuration::seconds(rng.i64(0..365 * 86_400)))
            .format("%Y-%m-%d %H:%M:%S+00")
            .to_string()
    };

    let mut w = client.copy_in("COPY users (name, email, age, created_at) FROM STDIN")?;
    let mut buf = String::with_capacity(1 << 20);
    for i in 1..=size.users {
        let t = time(&mut rng);
        buf.push_str(&format!(
            "user {i}\tuser{i}@example.com\t{}\t{t}\n",
            rng.i32(18..80)
        ));
        flush_if_big(&mut w, &mut buf)?;
    }
    w.write_all(buf.as_bytes())?;
    buf.clear();
    w.finish()?;

    let mut w = client.copy_in("COPY orders (user_id, status, total, created_at) FROM STDIN")?;
    for _ in 1..=size.orders {
        let t = time(&mut rng);
        let status = STATUSES[rng.usize(0..STATUSES.len())];
        buf.push_str(&format!(
            "{}\t{status}\t{}.{:02}\t{t}\n",
            rng.i32(1..=size.users),
            rng.u32(1..1000),
            rng.u32(0..100)
        ));
        flush_if_big(&mut w, &mut buf)?;
    }
    w.write_all(buf.as_bytes())?;
    buf.clear();
    w.finish()?;

    let mut w = client.copy_in("COPY order_items (order_id, sku, qty, price) FROM STDIN")?;
    for order in 1..=size.orders {
        for _ in 0..size.items_per_order {
            buf.push_str(&format!(
                "{order}\tSKU-{:05}\t{}\t{}.{:02}\n",
                rng.u32(0..5000),
                rng.i32(1..6),
                rng.u32(1..200),
                rng.u32(0..100)
            ));
            flush_if_big(&mut w, &mut buf)?;
        }
    }
    w.write_all(buf.as_bytes())?;
    w.finish()?;

    client.batch_execute("ANALYZE")?;
    let expect = [
        ("users", i64::from(size.users)),
        ("orders", i64::from(size.orders)),
        (
            "order_items",
            i64::from(size.orders) * i64::from(size.items_per_order),
        ),
    ];
    for (table, n) in expect {
        let row = client.query_one(
            &format!("SELECT count(*), COALESCE(max(id), 0)::int8 FROM {table}"),
            &[],
        )?;
        let (count, max): (i64, i64) = (row.get(0), row.get(1));
        if count != n || max != n {
            return Err(
                format!("{table}: expected ids 1..={n}, found {count} rows up to {max}").into(),
            );
        }
    }
    eprintln!(
        "loaded {} users, {} orders, {} items in {:.1} s",
        size.users,
        size.orders,
        size.orders * size.items_per_order,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn flush_if_big(w: &mut impl Write, buf: &mut String) -> std::io::Result<()> {
    if buf.len() > (1 << 20) - 256 {
        w.write_all(buf.as_bytes())?;
        buf.clear();
    }
    Ok(())
}
