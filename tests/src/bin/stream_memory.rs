//! The child process of the streaming memory test (`tests/streaming.rs`): one way of reading a
//! large table per run, so each run's peak resident memory (`VmHWM` of `/proc/self/status`)
//! is that reading's alone.
//!
//! `stream_memory load N` migrates the `Reading` model into `DATABASE_URL` and inserts `N`
//! rows server-side (`generate_series`); `stream_memory find_iter | find_iter_json | copy_to |
//! find` reads every row (typed stream, JSON stream, CSV export into a sink, or, for contrast,
//! one `find` that holds them all). Each prints
//! `rows=<rows>` and `peak_kib=<VmHWM in KiB>` on stdout; errors go to stderr with exit code 1.

use std::process::ExitCode;
use std::sync::Arc;

use ignis_repo::{CopyFormat, FromRow, ReadableRepository};
use ignis_schema::{Model, ModelDef, Schema};
use ignis_tx::{DataSource, Executor};
use serde_json::{json, Value};

/// A row of the large table.
#[derive(Model, FromRow, Debug)]
#[ignis(id = "number")]
struct Reading {
    id: i32,
    sensor: String,
    value: f64,
    note: Option<String>,
}

type BoxError = Box<dyn std::error::Error>;

/// The process's peak resident set size in KiB (`VmHWM`).
fn peak_kib() -> Result<u64, BoxError> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM in /proc/self/status".into())
}

fn run(args: &[String]) -> Result<u64, BoxError> {
    let ds = DataSource::from_env()?;
    let schema = Arc::new(Schema::new(vec![Reading::model()])?);
    let typed: ReadableRepository<Reading> = ReadableRepository::for_model(ds.clone(), schema)?;
    match args.first().map(String::as_str) {
        Some("load") => {
            let n: i64 = args.get(1).ok_or("load N")?.parse()?;
            ignis_migrate::Migrator::new(ds.clone())
                .migrate(typed.schema(), |_| {})
                .map_err(|e| e.to_string())?;
            let mut conn = ds.connection()?;
            conn.execute(
                "INSERT INTO \"Reading\" (sensor, value, note)
                 SELECT 'sensor-' || (g % 100), g * 0.5,
                        CASE WHEN g % 3 = 0 THEN 'checked' END
                 FROM generate_series(1, $1::bigint) g",
                &[&n],
            )?;
            Ok(typed.count(&json!({}))?)
        }
        Some("find_iter") => {
            let mut rows = 0u64;
            let mut sum = 0f64;
            for row in typed.find_iter(&json!({}))? {
                let row = row?;
                rows += 1;
                sum += row.value + f64::from(row.id) + row.sensor.len() as f64;
                if row.note.as_deref() == Some("") {
                    sum += 1.0;
                }
            }
            std::hint::black_box(sum);
            Ok(rows)
        }
        Some("find_iter_json") => {
            let json: ReadableRepository<Value> =
                ReadableRepository::new(ds.clone(), typed.schema().clone(), "Reading")?;
            let mut rows = 0u64;
            for row in json.find_iter(&json!({}))? {
                let row = row?;
                rows += u64::from(row.get("id").is_some());
            }
            Ok(rows)
        }
        Some("find") => Ok(typed.find(&json!({}))?.len() as u64),
        Some("copy_to") => {
            let report = typed.copy_to(std::io::sink(), CopyFormat::Csv { header: true })?;
            Ok(report.rows)
        }
        _ => {
            Err("usage: stream_memory load N | find_iter | find_iter_json | copy_to | find".into())
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).and_then(|rows| Ok((rows, peak_kib()?))) {
        Ok((rows, peak)) => {
            println!("rows={rows}");
            println!("peak_kib={peak}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("stream_memory {args:?}: {e}");
            ExitCode::FAILURE
        }
    }
}
