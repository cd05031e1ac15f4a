//! `cargo xtask bench`: ignis-rs side by side with the raw `postgres` client and Diesel (the
//! `ignis-bench` crate, built in release mode), against the local cluster or a given database.
//!
//! `cargo xtask bench --instructions` counts instead of timing: it runs the same release
//! binary under `valgrind --tool=callgrind` and prints the client's instructions per operation
//! for workloads 1, 2 and 6, per implementation and row route (ignis-rs JSON rows, serde typed
//! rows, `FromRow`; raw; Diesel), as the "Instructions per operation" table of
//! `bench/README.md` has them ([`run_instructions`]).

use std::error::Error;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::db;

/// The benchmark's function after whose every return callgrind writes a dump, by the name
/// callgrind gives it (demangled, without the hash). The binary's own tests check that the
/// name still matches (`ignis_bench::instructions::DUMP_AFTER`).
const DUMP_AFTER: &str = "ignis_bench::instructions::counted_region";

/// The benchmark's function inside which callgrind collects (one batch of one workload
/// through one route; `ignis_bench::instructions::COLLECT_IN`).
const COLLECT_IN: &str = "ignis_bench::instructions::counted_work";

/// The first word of the line the benchmark prints for each counted region.
const LINE_TAG: &str = "counted";

/// Column order and headers of the instruction table (the benchmark's route names).
const ROUTES: [(&str, &str); 5] = [
    ("json", "ignis-rs JSON rows"),
    ("serde", "serde typed"),
    ("from-row", "FromRow"),
    ("raw", "raw"),
    ("diesel", "Diesel"),
];

/// Row titles of the instruction table.
const WORKLOADS: [(u8, &str); 3] = [
    (1, "1 find by id"),
    (2, "2 find, where + order + limit 20"),
    (6, "6 include, per call"),
];

/// Options of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// A smaller run (3 samples of small batches) that finishes in seconds: a smoke test, its
    /// numbers are not meant to be compared.
    #[arg(long, conflicts_with = "instructions")]
    pub quick: bool,
    /// The server to benchmark on (a fresh database `ignis_bench_<uuid>` is created there and
    /// dropped afterwards, so the user needs CREATE DATABASE); default: DATABASE_URL, else
    /// POSTGRES_HOST/PORT/DATABASE/USER/PASSWORD, else the local cluster (started if needed).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Count instead of timing: run workloads 1, 2 and 6 under `valgrind --tool=callgrind`,
    /// once per implementation and row route, and print the client's instructions per
    /// operation (a table, also written to target/bench/instructions.md). Needs valgrind.
    #[arg(long)]
    pub instructions: bool,
    /// With --instructions: some workloads only (of 1, 2 and 6), e.g. `--only 1,6`.
    #[arg(long, value_name = "1,2,6", requires = "instructions")]
    pub only: Option<String>,
    /// With --instructions: some routes only, of json, serde, from-row, raw, diesel.
    #[arg(long, value_name = "ROUTES", requires = "instructions")]
    pub route: Option<String>,
    /// With --instructions: operations per counted run (default: the `--quick` size of each
    /// workload: 500, 200 and 50).
    #[arg(long, value_name = "N", requires = "instructions")]
    pub ops: Option<usize>,
    /// With --instructions: counts of each workload and route (default 5); the table shows
    /// the median.
    #[arg(long, value_name = "N", requires = "instructions")]
    pub repeat: Option<usize>,
}

/// Runs `$CARGO run --release -p ignis-bench -- [--quick]` with `DATABASE_URL` set to `url`,
/// from the workspace root (or [`run_instructions`] with `--instructions`). The report goes
/// to stdout and to `target/bench/report.md`. Returns the benchmark's exit code.
///
/// # Errors
/// cargo cannot be run; with `--instructions`, see [`run_instructions`].
pub fn run(args: &BenchArgs, url: &str) -> Result<u8, Box<dyn Error>> {
    if args.instructions {
        return run_instructions(args, url);
    }
    let mut cargo_args = vec!["run", "--release", "-p", "ignis-bench", "--"];
    if args.quick {
        cargo_args.push("--quick");
    }
    db::run_cargo_with_database(url, cargo_args)
}

/// The counts of one workload through one route: operations per batch, and the instructions
/// callgrind counted in each repetition of the batch.
#[derive(Debug, Clone, PartialEq)]
struct Count {
    workload: u8,
    route: String,
    ops: u64,
    instructions: Vec<u64>,
}

impl Count {
    /// Instructions per operation of the median repetition (the lower middle one of an even
    /// number).
    fn per_op(&self) -> f64 {
        let mut sorted = self.instructions.clone();
        sorted.sort_unstable();
        let middle = sorted.get(sorted.len().saturating_sub(1) / 2).copied();
        middle.unwrap_or(0) as f64 / self.ops.max(1) as f64
    }

    /// Instructions per operation of the lowest and the highest repetition.
    fn range(&self) -> (f64, f64) {
        let ops = self.ops.max(1) as f64;
        let min = self.instructions.iter().min().copied().unwrap_or(0);
        let max = self.instructions.iter().max().copied().unwrap_or(0);
        (min as f64 / ops, max as f64 / ops)
    }
}

/// Pairs the batches the benchmark reported (in order) with callgrind's dumps (in order) and
/// groups the repetitions of each workload and route.
fn group(regions: Vec<(u8, String, u64)>, dumps: Vec<u64>) -> Vec<Count> {
    let mut counts: Vec<Count> = Vec::new();
    for ((workload, route, ops), instructions) in regions.into_iter().zip(dumps) {
        match counts
            .iter_mut()
            .find(|c| c.workload == workload && c.route == route && c.ops == ops)
        {
            Some(c) => c.instructions.push(instructions),
            None => counts.push(Count {
                workload,
                route,
                ops,
                instructions: vec![instructions],
            }),
        }
    }
    counts
}

/// `cargo xtask bench --instructions`: checks that valgrind runs, builds `ignis-bench` in
/// release mode (the binary `cargo xtask bench` times), then runs `valgrind --tool=callgrind
/// --collect-atstart=no --dump-after=`[`DUMP_AFTER`]` --toggle-collect=`[`COLLECT_IN`]`
/// ignis-bench --instructions [--only ..] [--route ..] [--ops N]` with `DATABASE_URL` set to
/// `url`. Callgrind then collects only the calling thread's instructions while it runs one
/// batch of one workload through one route, after that route's warm-up (database setup, data
/// load, connections and inputs are not counted), and writes one dump per batch to
/// `target/bench/callgrind/`. Each dump's total, divided by the operations the benchmark
/// reports for that batch, is one cell of the printed table. The table (Markdown) goes to
/// stdout and `target/bench/instructions.md`. Returns 0, or the exit code of a build or a run
/// that failed.
///
/// # Errors
/// valgrind is missing, the build's output names no binary, the output folder cannot be
/// written, or the dumps do not match the batches the benchmark reported.
pub fn run_instructions(args: &BenchArgs, url: &str) -> Result<u8, Box<dyn Error>> {
    let valgrind = check_valgrind()?;
    let exe = match build_bench()? {
        Ok(exe) => exe,
        Err(code) => return Ok(code),
    };
    // <target>/release/ignis-bench → <target>/bench
    let out_root = exe
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| db::workspace_root().join("target"), Path::to_path_buf)
        .join("bench");
    let dump_dir = out_root.join("callgrind");
    fs::create_dir_all(&dump_dir)
        .map_err(|e| format!("cannot create {}: {e}", dump_dir.display()))?;
    remove_dumps(&dump_dir)?;

    let mut cmd = Command::new(&valgrind);
    cmd.arg("--tool=callgrind")
        .arg("--quiet")
        .arg(format!(
            "--callgrind-out-file={}",
            dump_dir.join("callgrind.out").display()
        ))
        .arg("--collect-atstart=no")
        .arg(format!("--dump-after={DUMP_AFTER}"))
        .arg(format!("--toggle-collect={COLLECT_IN}"))
        .arg("--dump-instr=no")
        .arg("--dump-line=no")
        .arg(&exe)
        .arg("--instructions");
    for (flag, value) in [("--only", &args.only), ("--route", &args.route)] {
        if let Some(value) = value {
            cmd.arg(flag).arg(value);
        }
    }
    for (flag, value) in [("--ops", args.ops), ("--repeat", args.repeat)] {
        if let Some(value) = value {
            cmd.arg(flag).arg(value.to_string());
        }
    }
    cmd.env("DATABASE_URL", url)
        .current_dir(db::workspace_root())
        .stdout(Stdio::piped());
    eprintln!(
        "running ignis-bench under callgrind (setup and load run slowly under valgrind; \
         a few minutes)"
    );
    tracing::debug!(?cmd, "running");
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", valgrind.display()))?;
    let mut regions = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            match parse_region_line(&line) {
                Some(region) => regions.push(region),
                None => println!("{line}"),
            }
        }
    }
    let status = child.wait()?;
    if !status.success() {
        return Ok(status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(1));
    }
    let dumps = read_dumps(&dump_dir)?;
    if dumps.len() != regions.len() {
        return Err(format!(
            "callgrind wrote {} dump(s) in {} for {} counted region(s): the function names \
             ({DUMP_AFTER}, {COLLECT_IN}) may no longer match the benchmark binary",
            dumps.len(),
            dump_dir.display(),
            regions.len()
        )
        .into());
    }
    let counts = group(regions, dumps);
    let text = markdown(&counts, &chrono::Utc::now().format("%Y-%m-%d").to_string());
    println!("{text}");
    let path = out_root.join("instructions.md");
    fs::write(&path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("table written to {}", path.display());
    Ok(0)
}

/// The valgrind to run (`valgrind` from PATH), after checking that it starts.
///
/// # Errors
/// valgrind is not installed or does not run; the message says how to install it.
fn check_valgrind() -> Result<PathBuf, Box<dyn Error>> {
    let valgrind = PathBuf::from("valgrind");
    let ran = Command::new(&valgrind)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match ran {
        Ok(status) if status.success() => Ok(valgrind),
        Ok(status) => Err(format!("`valgrind --version` failed ({status})").into()),
        Err(e) => Err(format!(
            "cannot run valgrind ({e}): instruction counts need it. Install it: \
             `sudo apt-get install valgrind` (Debian, Ubuntu), `sudo dnf install valgrind` \
             (Fedora)"
        )
        .into()),
    }
}

/// Builds `ignis-bench` in release mode (`$CARGO build --release -p ignis-bench`, compiler
/// messages as usual on stderr) and returns the path of its binary, from cargo's own artifact
/// messages (so `CARGO_TARGET_DIR` and cargo configuration are followed); `Err(code)` when the
/// build fails.
///
/// # Errors
/// cargo cannot be run, or its output names no `ignis-bench` binary.
fn build_bench() -> Result<Result<PathBuf, u8>, Box<dyn Error>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "-p",
            "ignis-bench",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(db::workspace_root())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cargo.to_string_lossy()))?;
    if !output.status.success() {
        return Ok(Err(output
            .status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(1)));
    }
    let exe = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "ignis-bench")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from));
    exe.map(Ok)
        .ok_or_else(|| "cargo built ignis-bench but named no binary for it".into())
}

/// `counted <workload> <route> <operations> <checksum>` → (workload, route, operations).
fn parse_region_line(line: &str) -> Option<(u8, String, u64)> {
    let mut words = line.split_whitespace();
    if words.next()? != LINE_TAG {
        return None;
    }
    let workload = words.next()?.parse().ok()?;
    let route = words.next()?.to_string();
    let ops = words.next()?.parse().ok()?;
    Some((workload, route, ops))
}

/// Removes the dumps of an earlier run (`callgrind.out*`) from `dir`.
fn remove_dumps(dir: &Path) -> Result<(), Box<dyn Error>> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("callgrind.out"))
        {
            fs::remove_file(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// The instruction totals of the numbered dumps `callgrind.out.<n>` in `dir`, in dump order
/// (the final dump at exit, `callgrind.out` without a number, holds nothing counted).
///
/// # Errors
/// The folder or a dump cannot be read, or a dump has no total.
fn read_dumps(dir: &Path) -> Result<Vec<u64>, Box<dyn Error>> {
    let mut numbered = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let part = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("callgrind.out."))
            .and_then(|n| n.parse::<u32>().ok());
        if let Some(part) = part {
            numbered.push((part, path));
        }
    }
    numbered.sort();
    numbered
        .into_iter()
        .map(|(_, path)| {
            let text = fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            dump_total(&text).ok_or_else(|| {
                format!("{}: no `totals:` or `summary:` line", path.display()).into()
            })
        })
        .collect()
}

/// The first event (instructions, `Ir`) of a callgrind dump's `totals:` line, else of its
/// `summary:` line.
fn dump_total(text: &str) -> Option<u64> {
    let first_number = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
    };
    first_number("totals:").or_else(|| first_number("summary:"))
}

/// `n` with three significant digits and a k / M suffix: 21_734 → `21.7k`, 190_412 → `190k`,
/// 4_137_000 → `4.14M`.
fn short(n: f64) -> String {
    let (value, suffix) = if n >= 999_500.0 {
        (n / 1e6, "M")
    } else if n >= 999.5 {
        (n / 1e3, "k")
    } else {
        (n, "")
    };
    let decimals = if value >= 99.95 {
        0
    } else if value >= 9.995 {
        1
    } else {
        2
    };
    let decimals = if suffix.is_empty() { 0 } else { decimals };
    format!("{value:.decimals$}{suffix}")
}

/// The table of `counts` (rows: workloads, columns: routes, the median per operation, `-`
/// where not counted), then each cell's median and range, as Markdown.
fn markdown(counts: &[Count], date: &str) -> String {
    let mut text = format!(
        "## Instructions per operation\n\nClient instructions per operation (callgrind, \
         `cargo xtask bench --instructions`), {date}:\n\n| workload |"
    );
    for (_, header) in ROUTES {
        text.push_str(&format!(" {header} |"));
    }
    text.push_str("\n|---|");
    text.push_str(&"---:|".repeat(ROUTES.len()));
    text.push('\n');
    for (number, title) in WORKLOADS {
        if !counts.iter().any(|c| c.workload == number) {
            continue;
        }
        text.push_str(&format!("| {title} |"));
        for (route, _) in ROUTES {
            match counts
                .iter()
                .find(|c| c.workload == number && c.route == route)
            {
                Some(c) => text.push_str(&format!(" {} |", short(c.per_op()))),
                None => text.push_str(" - |"),
            }
        }
        text.push('\n');
    }
    text.push_str(
        "\nPer operation, the median and the range of the repeated counts (each count is one \
         batch of the given number of operations):\n\n",
    );
    for c in counts {
        let (min, max) = c.range();
        text.push_str(&format!(
            "- workload {} {}: {:.0} (counts: {}, of {} operations; {:.0} to {:.0})\n",
            c.workload,
            c.route,
            c.per_op(),
            c.instructions.len(),
            c.ops,
            min,
            max
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keeps_three_significant_digits() {
        assert_eq!(short(21_734.0), "21.7k");
        assert_eq!(short(190_412.0), "190k");
        assert_eq!(short(96_149.0), "96.1k");
        assert_eq!(short(4_137_000.0), "4.14M");
        assert_eq!(short(12_340_000.0), "12.3M");
        assert_eq!(short(999_999.0), "1.00M");
        assert_eq!(short(812.4), "812");
    }

    #[test]
    fn region_lines_and_dump_totals_parse() {
        assert_eq!(
            parse_region_line("counted 6 from-row 50 12345"),
            Some((6, "from-row".to_string(), 50))
        );
        assert_eq!(parse_region_line("report written"), None);
        assert_eq!(parse_region_line("counted x json 5 1"), None);
        let dump = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 9876\n\
                    fn=(1) main\n3 9876\ntotals: 9876\n";
        assert_eq!(dump_total(dump), Some(9876));
        assert_eq!(dump_total("events: Ir\nsummary: 12\n"), Some(12));
        assert_eq!(dump_total("events: Ir\n"), None);
    }

    #[test]
    fn repetitions_group_and_the_table_shows_their_median() {
        let regions = vec![
            (1, "json".to_string(), 500),
            (1, "json".to_string(), 500),
            (1, "json".to_string(), 500),
            (1, "raw".to_string(), 500),
        ];
        let counts = group(regions, vec![10_900_000, 10_850_000, 11_000_000, 7_500_000]);
        assert_eq!(counts.len(), 2);
        assert_eq!(counts[0].instructions.len(), 3);
        assert_eq!(counts[0].per_op(), 21_800.0);
        assert_eq!(counts[0].range(), (21_700.0, 22_000.0));
        let text = markdown(&counts, "2026-01-01");
        assert!(
            text.contains("| 1 find by id | 21.8k | - | - | 15.0k | - |"),
            "{text}"
        );
        assert!(!text.contains("| 2 find"), "{text}");
        assert!(
            text.contains(
                "- workload 1 json: 21800 (counts: 3, of 500 operations; 21700 to 22000)"
            ),
            "{text}"
        );
    }
}
