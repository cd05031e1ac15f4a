//! The report: a summary table, one table per workload (median and min-max over samples, and
//! the ratios ignis-rs / raw and ignis-rs / Diesel), the targets met or missed, and
//! the machine, Postgres version, date and peak memory.

use std::fmt::Write as _;

use crate::workload::{Measured, Role, Spec, Unit};

/// Median of `values` (mean of the two middle ones for an even count); 0 when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

/// A workload's results.
#[derive(Debug, Clone)]
pub struct WorkloadResult {
    /// What ran.
    pub spec: Spec,
    /// One entry per variant.
    pub measured: Vec<Measured>,
}

/// The comparison of one workload: medians and ratios (throughput ratios, higher is better for
/// ignis-rs, for ops/s workloads; time ratios, lower is better, for ms workloads).
#[derive(Debug, Clone)]
pub struct Ratios {
    /// ignis-rs median.
    pub ignis: f64,
    /// The best raw variant's median and label.
    pub raw: Option<(f64, String)>,
    /// Diesel's median.
    pub diesel: Option<f64>,
    /// ignis-rs / raw.
    pub vs_raw: Option<f64>,
    /// ignis-rs / Diesel.
    pub vs_diesel: Option<f64>,
    /// ignis-rs / raw per sample (the best raw variant's): each sample's pieces are run by
    /// both, interleaved, so a sample's ratio compares runs made at the same time.
    pub per_sample_vs_raw: Vec<f64>,
}

impl WorkloadResult {
    /// Medians and ratios.
    pub fn ratios(&self) -> Ratios {
        let better = |a: f64, b: f64| match self.spec.unit {
            Unit::OpsPerSec => a > b,
            Unit::Millis => a < b,
        };
        let med = |role: Role| -> Vec<(f64, String)> {
            self.measured
                .iter()
                .filter(|m| m.role == role)
                .map(|m| (median(&m.values), m.label.clone()))
                .collect()
        };
        let ignis = med(Role::Ignis).first().map_or(0.0, |x| x.0);
        let raw = med(Role::Raw)
            .into_iter()
            .reduce(|a, b| if better(b.0, a.0) { b } else { a });
        let diesel = med(Role::Diesel).first().map(|x| x.0);
        let values = |role: Role, label: Option<&str>| {
            self.measured
                .iter()
                .find(|m| m.role == role && label.is_none_or(|l| m.label == l))
                .map(|m| m.values.as_slice())
        };
        let per_sample_vs_raw = match (
            values(Role::Ignis, None),
            values(Role::Raw, raw.as_ref().map(|r| r.1.as_str())),
        ) {
            (Some(a), Some(b)) => a
                .iter()
                .zip(b)
                .filter(|(_, y)| **y > 0.0)
                .map(|(x, y)| x / y)
                .collect(),
            _ => Vec::new(),
        };
        Ratios {
            ignis,
            per_sample_vs_raw,
            vs_raw: raw.as_ref().map(|r| ignis / r.0),
            vs_diesel: diesel.map(|d| ignis / d),
            raw,
            diesel,
        }
    }

    /// The targets for this workload, as `(description, met)`: at least 0.95x raw on workloads
    /// 1-4 and 6-8, at most 1.5x raw's time on workload 5, and at least Diesel's throughput
    /// (at most its time) everywhere.
    pub fn targets(&self) -> Vec<(String, bool)> {
        let r = self.ratios();
        let mut out = Vec::new();
        match (self.spec.number, r.vs_raw) {
            (5, Some(x)) => out.push((format!("time <= 1.5x raw ({x:.2}x)"), x <= 1.5)),
            (1..=4 | 6..=8, Some(x)) => out.push((format!(">= 0.95x raw ({x:.2}x)"), x >= 0.95)),
            _ => {}
        }
        if let Some(x) = r.vs_diesel {
            match self.spec.unit {
                Unit::OpsPerSec => out.push((format!(">= Diesel ({x:.2}x)"), x >= 1.0)),
                Unit::Millis => out.push((format!("time <= Diesel ({x:.2}x)"), x <= 1.0)),
            }
        }
        out
    }
}

fn num(x: f64) -> String {
    let digits = if x >= 100.0 {
        0
    } else if x >= 10.0 {
        1
    } else {
        2
    };
    let s = format!("{x:.digits$}");
    // Thousands separators on the integer part.
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(i, f)| (i, f));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if frac.is_empty() {
        grouped
    } else {
        format!("{grouped}.{frac}")
    }
}

/// Facts about the run printed under the title.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// `full` or `quick`.
    pub mode: &'static str,
    /// Samples per workload.
    pub samples: usize,
    /// Samples of workloads 4 and 5 (one piece per sample).
    pub single_piece_samples: usize,
    /// Date and time (UTC).
    pub date: String,
    /// CPU model.
    pub cpu: String,
    /// Logical cores.
    pub cores: usize,
    /// Postgres `version()`.
    pub postgres: String,
    /// Data set.
    pub data: String,
    /// How workloads 1-6 were placed on CPUs (see `pin`).
    pub placement: String,
    /// Peak resident memory of the process (kB), from `VmHWM`.
    pub peak_kb: Option<u64>,
    /// Wall time of the whole run (s).
    pub seconds: f64,
}

/// The CPU model (first `model name` of `/proc/cpuinfo`).
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// `VmHWM` of `/proc/self/status`, in kB.
pub fn peak_memory_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The whole report in Markdown.
pub fn markdown(info: &RunInfo, results: &[WorkloadResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# ignis-rs benchmark ({} run)\n", info.mode);
    let _ = writeln!(s, "- date: {}", info.date);
    let _ = writeln!(s, "- machine: {}, {} logical cores", info.cpu, info.cores);
    let _ = writeln!(s, "- server: {} on loopback", info.postgres);
    let _ = writeln!(s, "- data: {}", info.data);
    let _ = writeln!(s, "- {}", info.placement);
    let _ = writeln!(
        s,
        "- {} samples per workload ({} for workloads 4 and 5, whose sample is one piece), after one warm-up batch per implementation; each sample's \
         batch is cut into 10 pieces (workloads 4 and 5: one piece) that every implementation \
         runs, each piece in an order shuffled with the piece's seed (raw, ignis-rs, Diesel, Diesel, \
         ignis-rs, raw, ...), so the machine's slow and fast phases fall on all of them alike and \
         no implementation always goes first or always follows the same one; a sample is \
         operations over summed time. \
         Single-connection workloads (1-6) open new connections for every implementation before \
         each sample (untimed, then re-warmed): on a small VM a connection's round trip depends \
         on where the scheduler puts its server process (see the placement above)",
        info.samples,
        info.single_piece_samples
    );
    if let Some(kb) = info.peak_kb {
        let _ = writeln!(
            s,
            "- peak memory of the benchmark process (VmHWM): {:.1} MiB",
            kb as f64 / 1024.0
        );
    }
    let _ = writeln!(s, "- wall time: {:.1} s\n", info.seconds);

    let _ = writeln!(s, "## Summary\n");
    let _ = writeln!(
        s,
        "Medians. Ratios are ignis-rs / other: throughput ratios for ops/s (higher is better for \
         ignis-rs), time ratios for ms (lower is better). raw = the faster raw variant. Client \
         CPU: CPU time of the benchmark process per operation (µs; ms per call for workload 5), \
         ignis-rs / raw / Diesel: the library's own cost (it also grows when round trips cross \
         cores, but less than wall time).\n"
    );
    let _ = writeln!(
        s,
        "| # | workload | unit | ignis-rs | raw | Diesel | ignis/raw | ignis/Diesel | client CPU | targets |"
    );
    let _ = writeln!(s, "|---|---|---|---:|---:|---:|---:|---:|---:|---|");
    for r in results {
        let q = r.ratios();
        let unit = match r.spec.unit {
            Unit::OpsPerSec => "ops/s",
            Unit::Millis => "ms",
        };
        let targets: Vec<String> = r
            .targets()
            .into_iter()
            .map(|(t, ok)| format!("{} {t}", if ok { "met" } else { "MISSED" }))
            .collect();
        let cpu = |role: Role, label: Option<&str>| {
            r.measured
                .iter()
                .find(|m| m.role == role && label.is_none_or(|l| m.label == l))
                .map_or("-".to_string(), |m| num(median(&m.cpu)))
        };
        let _ = writeln!(
            s,
            "| {} | {} | {unit} | {} | {} | {} | {} | {} | {} / {} / {} | {} |",
            r.spec.number,
            r.spec.title,
            num(q.ignis),
            q.raw.as_ref().map_or("-".into(), |x| num(x.0)),
            q.diesel.map_or("-".into(), num),
            q.vs_raw.map_or("-".into(), |x| format!("{x:.2}x")),
            q.vs_diesel.map_or("-".into(), |x| format!("{x:.2}x")),
            cpu(Role::Ignis, None),
            cpu(Role::Raw, q.raw.as_ref().map(|x| x.1.as_str())),
            cpu(Role::Diesel, None),
            targets.join("; ")
        );
    }
    let _ = writeln!(s);

    for r in results {
        let q = r.ratios();
        let _ = writeln!(s, "## {}. {}\n", r.spec.number, r.spec.title);
        let (unit, per, cpu) = match r.spec.unit {
            Unit::OpsPerSec => ("ops/s", "µs/op", "client CPU µs/op"),
            Unit::Millis => ("ms/call", "rows/s", "client CPU ms/call"),
        };
        let _ = writeln!(
            s,
            "| implementation | median {unit} | min – max | {per} | ignis-rs / this | {cpu} | retries |"
        );
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|");
        for m in &r.measured {
            let med = median(&m.values);
            let (lo, hi) = min_max(&m.values);
            let per_value = match r.spec.unit {
                Unit::OpsPerSec => 1e6 / med,
                Unit::Millis => r.spec.ops as f64 / (med / 1000.0),
            };
            let ratio = if med > 0.0 { q.ignis / med } else { 0.0 };
            let _ = writeln!(
                s,
                "| {} | {} | {} – {} | {} | {ratio:.2}x | {} | {} |",
                m.label,
                num(med),
                num(lo),
                num(hi),
                num(per_value),
                num(median(&m.cpu)),
                m.retries
            );
        }
        if !q.per_sample_vs_raw.is_empty() {
            let (lo, hi) = min_max(&q.per_sample_vs_raw);
            let _ = writeln!(
                s,
                "\nignis-rs / raw sample by sample (both ran each sample's pieces, interleaved): \
                 median {:.3}x, min {lo:.3}x, max {hi:.3}x.",
                median(&q.per_sample_vs_raw)
            );
        }
        let _ = writeln!(s);
    }
    s
}
