//! CPU placement of the single-connection workloads.
//!
//! On a small VM the time of one round trip between the client thread and its server backend
//! depends on whether the scheduler puts the two on one CPU or on two (on a 2-vCPU VM: ~19 µs
//! against ~55 µs per primary-key lookup), and that placement is sticky for a connection's life
//! and can differ systematically between implementations (depending on the placement, the same
//! workload has measured ignis-rs anywhere from 0.38x to 1.02x of raw). So, by default, the
//! client thread and the backend of each single connection are pinned to the same CPU for
//! workloads 1-6: every implementation then runs the same synchronous ping-pong on one CPU, and
//! what differs between them is the client's own work, which is what the benchmark compares.
//! Workloads 7 and 8 (thread pools) run unpinned.

use std::cell::RefCell;

use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
use nix::unistd::Pid;

/// How the single-connection workloads are placed (`--pin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PinMode {
    /// Client thread and server backends on one CPU (the default).
    #[default]
    Same,
    /// Wherever the scheduler puts them.
    Off,
}

/// Pins the calling thread and server backends, as [`PinMode`] says, and remembers whether it
/// could.
#[derive(Debug)]
pub struct Pinner {
    mode: PinMode,
    cpu: usize,
    original: Option<CpuSet>,
    failed: RefCell<Option<String>>,
}

impl Pinner {
    /// A pinner for `mode`, on the first CPU the calling thread may run on (whose affinity
    /// is saved, to be restored by [`Pinner::unpin_client`]). If that affinity cannot be read,
    /// or allows no CPU, pinning is off for the whole run (one warning on stderr).
    pub fn new(mode: PinMode) -> Self {
        let original = sched_getaffinity(Pid::from_raw(0));
        let first = original
            .as_ref()
            .ok()
            .and_then(|set| (0..CpuSet::count()).find(|&c| set.is_set(c).unwrap_or(false)));
        let pinner = Pinner {
            mode,
            cpu: first.unwrap_or(0),
            original: original.as_ref().ok().copied(),
            failed: RefCell::new(None),
        };
        if mode == PinMode::Same {
            match (&original, first) {
                (Err(e), _) => pinner.give_up(&format!("cannot read the CPU affinity: {e}")),
                (Ok(_), None) => pinner.give_up("the CPU affinity allows no CPU"),
                (Ok(_), Some(_)) => {}
            }
        }
        pinner
    }

    /// Whether pinning is on: asked for, and nothing has failed yet.
    fn active(&self) -> bool {
        self.mode == PinMode::Same && self.failed.borrow().is_none()
    }

    /// Turns pinning off for the rest of the run after a failure: one warning line, the
    /// client thread given back its CPUs, and the reason kept for the report.
    fn give_up(&self, why: &str) {
        eprintln!("warning: {why}; CPU pinning is off for this run");
        if let Some(set) = &self.original {
            // Best effort: if the thread was pinned, it can always widen back to its own mask.
            let _ = sched_setaffinity(Pid::from_raw(0), set);
        }
        *self.failed.borrow_mut() = Some(why.to_string());
    }

    fn set(&self, pid: i32, what: &str) {
        if !self.active() {
            return;
        }
        let mut set = CpuSet::new();
        let result = set
            .set(self.cpu)
            .and_then(|()| sched_setaffinity(Pid::from_raw(pid), &set));
        if let Err(e) = result {
            self.give_up(&format!("cannot pin {what} to CPU {}: {e}", self.cpu));
        }
    }

    /// Pins the calling thread (the one that runs the samples).
    pub fn pin_client(&self) {
        self.set(0, "the client thread");
    }

    /// Gives the calling thread back the CPUs it had when the pinner was made.
    pub fn unpin_client(&self) {
        if !self.active() {
            return;
        }
        if let Some(set) = &self.original {
            if let Err(e) = sched_setaffinity(Pid::from_raw(0), set) {
                eprintln!("warning: cannot unpin the client thread: {e}");
            }
        }
    }

    /// Pins the server backend process `pid` (from `pg_backend_pid()`); needs root or the
    /// server's user.
    pub fn pin_backend(&self, pid: i32) {
        self.set(pid, "a server backend");
    }

    /// One sentence for the report: how workloads were placed.
    pub fn describe(&self) -> String {
        let failed = self.failed.borrow();
        match (self.mode, &*failed) {
            (PinMode::Off, _) => {
                "Placement: unpinned (`--pin off`): the scheduler placed the client \
                 thread and the server backends; single-connection ratios then depend on whether \
                 each backend shared the client's CPU."
                    .to_string()
            }
            (PinMode::Same, Some(why)) => format!(
                "Placement: pinning was asked for but failed ({why}), so pinning was off from \
                 then on and the scheduler placed the client thread and the server backends; \
                 single-connection ratios then depend on whether each backend shared the \
                 client's CPU."
            ),
            (PinMode::Same, None) => format!(
                "Placement: workloads 1-6 ran with the client thread and each connection's server \
                 backend pinned to CPU {} (one synchronous ping-pong on one CPU, so what differs \
                 between implementations is their own work); on this kind of VM a round trip \
                 otherwise takes ~19 µs or ~55 µs depending on where the scheduler happens to \
                 put the backend, for the connection's whole life. Workloads 7-8 ran unpinned.",
                self.cpu
            ),
        }
    }
}
