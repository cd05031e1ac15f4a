//! Workload 10: exporting a large table, `N` rows (1,000,000; 50,000 with `--quick`), each way
//! measured in a child process of its own (this binary run again with `--export-child MODE`),
//! so the peak resident memory it reports (`VmHWM`) is that way's alone:
//!
//! - **ignis `find_iter`**: the typed stream (`ReadableRepository<Reading>::find_iter`, server-side
//!   cursor, batches of 1,000 rows in a read-only transaction), every row decoded;
//! - **ignis `find_iter`, JSON rows**: the same stream over JSON rows;
//! - **ignis `copy_to`**: `COPY .. TO STDOUT (FORMAT csv)` of the model's table into a sink;
//! - **ignis `find`**: one call that returns every row as a `Vec<Reading>` (what the stream
//!   avoids);
//! - **raw `COPY TO`**: the `postgres` crate's `copy_out` of the same statement into a sink;
//! - **raw query**: the `postgres` crate's `query` of every row, decoded by index (all rows in
//!   memory, as `find`).
//!
//! A child that only connects and runs one query gives the floor every peak includes (the
//! binary, the runtime, one connection). Times are the median of the samples (3, or 1 with
//! `--quick`); memory is the largest peak seen.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use ignis_repo::{CopyFormat, FromRow, ReadableRepository};
use ignis_schema::{Model, ModelDef, Schema};
use ignis_tx::{DataSource, Executor};
use serde_json::{json, Value};

use crate::load::BenchDb;
use crate::BoxError;

/// A row of the exported table.
#[derive(Model, FromRow, Debug)]
#[ignis(id = "number")]
pub struct Reading {
    /// Identity key.
    pub id: i32,
    /// `sensor-<n>`, 100 distinct values.
    pub sensor: String,
    /// A measurement.
    pub value: f64,
    /// When it was taken.
    pub taken_at: chrono::DateTime<chrono::Utc>,
    /// Every third row has one.
    pub note: Option<String>,
}

/// The ways of reading the table, in report order: (mode, description).
const MODES: [(&str, &str); 7] = [
    (
        "floor",
        "connect and run one query (the floor of every peak)",
    ),
    (
        "find_iter",
        "ignis `find_iter`, typed (`FromRow`), batches of 1,000",
    ),
    (
        "find_iter_json",
        "ignis `find_iter`, JSON rows, batches of 1,000",
    ),
    ("copy_to", "ignis `copy_to`, CSV into a sink"),
    ("find", "ignis `find`, typed: every row in one `Vec`"),
    ("raw_copy", "raw `postgres` `copy_out`, CSV into a sink"),
    (
        "raw_query",
        "raw `postgres` `query`, decoded by index: every row in memory",
    ),
];

/// The CSV export statement both COPY rows run.
const COPY_SQL: &str = "COPY \"public\".\"Reading\" (\"id\", \"sensor\", \"value\", \"taken_at\", \"note\") TO STDOUT (FORMAT csv)";

/// One way's measurements.
#[derive(Debug, Clone)]
pub struct ExportRow {
    mode: &'static str,
    what: &'static str,
    rows: u64,
    /// Median milliseconds.
    ms: f64,
    /// Largest peak RSS of the samples, KiB.
    peak_kib: u64,
}

/// The result of workload 10.
#[derive(Debug, Clone)]
pub struct ExportResult {
    rows: u64,
    samples: usize,
    ways: Vec<ExportRow>,
}

/// Loads `rows` rows into `db` (server-side, `generate_series`) and measures every way of
/// reading them in child processes.
///
/// # Errors
/// Loading fails, a child fails or prints no measurement, or a child read a different number of
/// rows.
pub fn run(db: &BenchDb, rows: u64, samples: usize) -> Result<ExportResult, BoxError> {
    let ds = DataSource::new(db.config(2))?;
    let schema = Arc::new(Schema::new(vec![Reading::model()])?);
    ignis_migrate::Migrator::new(ds.clone()).migrate(&schema, |_| {})?;
    let mut conn = ds.connection()?;
    let n = i64::try_from(rows)?;
    conn.execute(
        "INSERT INTO \"Reading\" (sensor, value, taken_at, note)
         SELECT 'sensor-' || (g % 100), g * 0.5, now() - g * interval '1 second',
                CASE WHEN g % 3 = 0 THEN 'checked' END
         FROM generate_series(1, $1::bigint) g",
        &[&n],
    )?;
    conn.batch_execute("VACUUM ANALYZE \"Reading\"")?;
    drop(conn);
    let exe = std::env::current_exe()?;
    let mut ways = Vec::new();
    for (mode, what) in MODES {
        let mut times = Vec::with_capacity(samples);
        let mut peak_kib = 0;
        let mut read = 0;
        for _ in 0..samples {
            let out = Command::new(&exe)
                .args(["--export-child", mode])
                .env("DATABASE_URL", db.url())
                .output()?;
            let stdout = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() {
                return Err(format!(
                    "export child {mode} failed: {stdout}{}",
                    String::from_utf8_lossy(&out.stderr)
                )
                .into());
            }
            let value = |key: &str| -> Result<f64, BoxError> {
                stdout
                    .lines()
                    .find_map(|l| l.strip_prefix(key))
                    .and_then(|v| v.trim().parse().ok())
                    .ok_or_else(|| format!("export child {mode}: no {key} in {stdout}").into())
            };
            read = value("rows=")? as u64;
            times.push(value("ms=")?);
            peak_kib = peak_kib.max(value("peak_kib=")? as u64);
        }
        if mode != "floor" && read != rows {
            return Err(format!("export child {mode} read {read} rows of {rows}").into());
        }
        times.sort_by(|a, b| a.total_cmp(b));
        ways.push(ExportRow {
            mode,
            what,
            rows: read,
            ms: crate::report::median(&times),
            peak_kib,
        });
        eprintln!("export: {mode} done");
    }
    Ok(ExportResult {
        rows,
        samples,
        ways,
    })
}

/// The child: reads the table one way (`mode`) and prints `rows=`, `ms=` and `peak_kib=`.
///
/// # Errors
/// An unknown mode, or the database's error.
pub fn child(mode: &str) -> Result<(), BoxError> {
    let url = std::env::var("DATABASE_URL")?;
    let ds = DataSource::new(ignis_tx::DataSourceConfig::from_url(&url)?)?;
    let schema = Arc::new(Schema::new(vec![Reading::model()])?);
    let typed: ReadableRepository<Reading> = ReadableRepository::for_model(ds.clone(), schema)?;
    // The connection is opened before the clock starts, as a pool's would be.
    drop(ds.connection()?);
    let started = Instant::now();
    let rows: u64 = match mode {
        "floor" => {
            let mut conn = ds.connection()?;
            conn.query("SELECT 1", &[])?;
            0
        }
        "find_iter" => {
            let mut n = 0u64;
            let mut sum = 0.0;
            for row in typed.find_iter(&json!({}))? {
                sum += touch(&row?);
                n += 1;
            }
            std::hint::black_box(sum);
            n
        }
        "find_iter_json" => {
            let json: ReadableRepository<Value> =
                ReadableRepository::new(ds.clone(), typed.schema().clone(), "Reading")?;
            let mut n = 0u64;
            for row in json.find_iter(&json!({}))? {
                std::hint::black_box(&row?);
                n += 1;
            }
            n
        }
        "copy_to" => {
            typed
                .copy_to(std::io::sink(), CopyFormat::Csv { header: false })?
                .rows
        }
        "find" => {
            let all = typed.find(&json!({}))?;
            std::hint::black_box(all.iter().map(touch).sum::<f64>());
            all.len() as u64
        }
        "raw_copy" | "raw_query" => {
            let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
            if mode == "raw_copy" {
                let mut reader = client.copy_out(COPY_SQL)?;
                let mut n = 0u64;
                loop {
                    use std::io::BufRead;
                    let len = reader.fill_buf()?.len();
                    if len == 0 {
                        break;
                    }
                    reader.consume(len);
                    n += 1;
                }
                n
            } else {
                type Decoded = (
                    i32,
                    String,
                    f64,
                    chrono::DateTime<chrono::Utc>,
                    Option<String>,
                );
                let rows = client.query(
                    "SELECT id, sensor, value, taken_at, note FROM \"Reading\"",
                    &[],
                )?;
                let decoded: Vec<Decoded> = rows
                    .iter()
                    .map(|r| {
                        Ok((
                            r.try_get(0)?,
                            r.try_get(1)?,
                            r.try_get(2)?,
                            r.try_get(3)?,
                            r.try_get(4)?,
                        ))
                    })
                    .collect::<Result<_, postgres::Error>>()?;
                std::hint::black_box(&decoded);
                decoded.len() as u64
            }
        }
        other => return Err(format!("unknown export mode {other}").into()),
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    println!("rows={rows}");
    println!("ms={ms:.1}");
    println!("peak_kib={}", crate::report::peak_memory_kb().unwrap_or(0));
    Ok(())
}

/// Reads every field of `r` (what a consumer of the rows does).
fn touch(r: &Reading) -> f64 {
    r.value
        + f64::from(r.id)
        + r.sensor.len() as f64
        + r.taken_at.timestamp() as f64
        + r.note.as_ref().map_or(0.0, |n| n.len() as f64)
}

/// The export section of the report.
pub fn markdown(r: &ExportResult) -> String {
    let floor = r
        .ways
        .iter()
        .find(|w| w.mode == "floor")
        .map_or(0, |w| w.peak_kib);
    let mut s = format!(
        "\n## Export: {} rows (id, text, float8, timestamptz, nullable text), each way in a child process\n\n\
         Time is the median of {} run(s) from the first statement to the last row (connection \
         already open); peak is the child's `VmHWM`, which includes the {:.1} MiB floor (the first row of the table). \
         Target: a streamed read of 1,000,000 rows peaks under 50 MiB.\n\n\
         | way | rows | time | rows/s | peak RSS | above the floor |\n|---|---:|---:|---:|---:|---:|\n",
        r.rows,
        r.samples,
        floor as f64 / 1024.0,
    );
    for w in &r.ways {
        let rate = if w.ms > 0.0 && w.rows > 0 {
            format!("{:.0}", w.rows as f64 / (w.ms / 1000.0))
        } else {
            "-".to_string()
        };
        s.push_str(&format!(
            "| {} | {} | {:.0} ms | {rate} | {:.1} MiB | {:.1} MiB |\n",
            w.what,
            w.rows,
            w.ms,
            w.peak_kib as f64 / 1024.0,
            w.peak_kib.saturating_sub(floor) as f64 / 1024.0,
        ));
    }
    s
}
