//! Finding the server binaries and running them, as the `postgres` OS user when we are root.

use std::ffi::OsStr;
use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::error::{ClusterError, Result};

/// The OS user the servers run as when the caller is root.
pub const SERVER_OS_USER: &str = "postgres";

/// How server commands are run when the caller is root.
#[derive(Debug, Clone)]
enum RunAs {
    /// `runuser -u postgres -- program args...`
    Runuser(PathBuf),
    /// `su postgres -s /bin/sh -c 'program args...'`
    Su(PathBuf),
}

/// The PostgreSQL server binaries of this machine and the way to run them: directly, or as the
/// `postgres` OS user when the caller is root (Postgres and PgBouncer refuse to run as root).
#[derive(Debug, Clone)]
pub struct ServerTools {
    /// The directory of initdb, pg_ctl, postgres, pg_basebackup.
    bin: PathBuf,
    /// Set when running as root.
    run_as: Option<RunAs>,
}

impl ServerTools {
    /// Finds the server binaries ([`find_server_bin`]) and, when the effective uid is 0, how to
    /// run them as the `postgres` OS user (`runuser -u postgres --`, else `su postgres -s
    /// /bin/sh -c`).
    ///
    /// # Errors
    /// [`ClusterError::Missing`] when the binaries, the `postgres` OS user (as root) or both
    /// `runuser` and `su` are missing.
    pub fn detect() -> Result<ServerTools> {
        let bin = find_server_bin()?;
        let run_as = if effective_uid()? == 0 {
            Some(root_runner()?)
        } else {
            None
        };
        Ok(ServerTools { bin, run_as })
    }

    /// The directory holding `initdb`, `pg_ctl` and `postgres`.
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// Whether server commands run as the `postgres` OS user (the caller is root): files the
    /// servers write must then belong to that user ([`ServerTools::give_to_server_user`]).
    pub fn runs_as_server_user(&self) -> bool {
        self.run_as.is_some()
    }

    /// Runs a server binary of [`ServerTools::bin_dir`] (as the `postgres` OS user when root)
    /// and captures its output.
    pub(crate) fn output(&self, tool: &str, args: &[&OsStr]) -> Result<Output> {
        self.output_of(&self.bin.join(tool), args)
    }

    /// Runs `program` (as the `postgres` OS user when root) in `/` and captures its output.
    pub(crate) fn output_of(&self, program: &Path, args: &[&OsStr]) -> Result<Output> {
        let mut cmd = match &self.run_as {
            None => {
                let mut cmd = Command::new(program);
                cmd.args(args);
                cmd
            }
            Some(RunAs::Runuser(runuser)) => {
                let mut cmd = Command::new(runuser);
                cmd.args(["-u", SERVER_OS_USER, "--"])
                    .arg(program)
                    .args(args);
                cmd
            }
            Some(RunAs::Su(su)) => {
                let mut line = shell_quote(&program.to_string_lossy());
                for arg in args {
                    line.push(' ');
                    line.push_str(&shell_quote(&arg.to_string_lossy()));
                }
                let mut cmd = Command::new(su);
                cmd.args([SERVER_OS_USER, "-s", "/bin/sh", "-c"]).arg(line);
                cmd
            }
        };
        // A folder every user can enter (the server user may not reach the caller's cwd).
        cmd.current_dir("/");
        tracing::debug!(?cmd, "running");
        cmd.output()
            .map_err(|e| ClusterError::Command(format!("cannot run {}: {e}", program.display())))
    }

    /// When running as root, gives `path` (recursively) to the `postgres` OS user; otherwise
    /// does nothing.
    ///
    /// # Errors
    /// `chown` cannot be run or fails.
    pub fn give_to_server_user(&self, path: &Path) -> Result<()> {
        if self.run_as.is_none() {
            return Ok(());
        }
        let out = Command::new("chown")
            .arg("-R")
            .arg(format!("{SERVER_OS_USER}:"))
            .arg(path)
            .output()
            .map_err(|e| ClusterError::Command(format!("cannot run chown: {e}")))?;
        if !out.status.success() {
            return Err(ClusterError::Command(command_failed(
                &format!("chown -R {SERVER_OS_USER}: {}", path.display()),
                &out,
            )));
        }
        Ok(())
    }

    /// Whether the server's OS user can write into and traverse `dir`.
    pub(crate) fn server_can_use(&self, dir: &Path) -> Result<bool> {
        let out = self.output_of(
            Path::new("/bin/sh"),
            &[
                OsStr::new("-c"),
                OsStr::new(r#"test -w "$1" && test -x "$1""#),
                OsStr::new("sh"),
                dir.as_os_str(),
            ],
        )?;
        Ok(out.status.success())
    }

    /// psql: next to the server binaries, else on PATH.
    ///
    /// # Errors
    /// [`ClusterError::Missing`] when there is none.
    pub fn psql(&self) -> Result<PathBuf> {
        let beside = self.bin.join("psql");
        if is_executable(&beside) {
            return Ok(beside);
        }
        which("psql").ok_or_else(|| {
            ClusterError::Missing(
                "psql not found (next to the server binaries or on PATH): install it with \
                 `apt-get install postgresql-client`"
                    .into(),
            )
        })
    }

    /// The `pgbouncer` program: on PATH, else `/usr/sbin/pgbouncer` (Debian's package).
    ///
    /// # Errors
    /// [`ClusterError::Missing`] with the command that installs it.
    pub fn pgbouncer(&self) -> Result<PathBuf> {
        if let Some(path) = which("pgbouncer") {
            return Ok(path);
        }
        for dir in ["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"] {
            let path = Path::new(dir).join("pgbouncer");
            if is_executable(&path) {
                return Ok(path);
            }
        }
        Err(ClusterError::Missing(
            "pgbouncer not found (on PATH or in /usr/sbin): install it with \
             `sudo apt-get install pgbouncer` (Debian, Ubuntu), `sudo dnf install pgbouncer` \
             (Fedora) or `brew install pgbouncer` (macOS)"
                .into(),
        ))
    }
}

/// The folder holding initdb, pg_ctl and postgres: where `initdb` on PATH really lives, else the
/// highest version under `/usr/lib/postgresql/*/bin`.
///
/// # Errors
/// [`ClusterError::Missing`], saying how to install them, when neither has all three.
pub fn find_server_bin() -> Result<PathBuf> {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|tool| is_executable(&dir.join(tool)))
    };
    if let Some(initdb) = which("initdb") {
        // /usr/local/bin/initdb may be a link into /usr/lib/postgresql/N/bin.
        let real_dir = fs::canonicalize(&initdb)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf));
        if let Some(dir) = real_dir.filter(|d| has_all(d)) {
            return Ok(dir);
        }
        if let Some(dir) = initdb.parent().filter(|d| has_all(d)) {
            return Ok(dir.to_path_buf());
        }
    }
    let mut best: Option<(Vec<u32>, PathBuf)> = None;
    if let Ok(entries) = fs::read_dir("/usr/lib/postgresql") {
        for entry in entries.flatten() {
            let bin = entry.path().join("bin");
            if !has_all(&bin) {
                continue;
            }
            let version: Vec<u32> = entry
                .file_name()
                .to_string_lossy()
                .split('.')
                .map(|n| n.parse().unwrap_or(0))
                .collect();
            if best.as_ref().is_none_or(|(v, _)| version > *v) {
                best = Some((version, bin));
            }
        }
    }
    best.map(|(_, bin)| bin).ok_or_else(|| {
        ClusterError::Missing(
            "no PostgreSQL server binaries (initdb, pg_ctl, postgres) on PATH or under \
             /usr/lib/postgresql/*/bin. Install them: `sudo apt-get install postgresql` (Debian, \
             Ubuntu), `sudo dnf install postgresql-server` (Fedora), `brew install postgresql` \
             (macOS); or point DATABASE_URL at an existing server"
                .into(),
        )
    })
}

/// How to run server commands as the `postgres` OS user (we are root).
fn root_runner() -> Result<RunAs> {
    let exists = Command::new("id")
        .args(["-u", SERVER_OS_USER])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !exists {
        return Err(ClusterError::Missing(format!(
            "running as root, and Postgres refuses to run as root, but there is no \
             `{SERVER_OS_USER}` OS user to run it: install the server package \
             (`apt-get install postgresql` creates it), or `useradd --system {SERVER_OS_USER}`, \
             or run as a normal user"
        )));
    }
    if let Some(runuser) = which("runuser") {
        return Ok(RunAs::Runuser(runuser));
    }
    if let Some(su) = which("su") {
        return Ok(RunAs::Su(su));
    }
    Err(ClusterError::Missing(
        "running as root, but neither `runuser` nor `su` is available to run Postgres as the \
         `postgres` OS user"
            .into(),
    ))
}

/// The effective uid: from /proc/self/status, else `id -u`.
fn effective_uid() -> Result<u32> {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        let euid = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            .and_then(|id| id.parse().ok());
        if let Some(euid) = euid {
            return Ok(euid);
        }
    }
    let out = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| ClusterError::Command(format!("cannot run `id -u`: {e}")))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| {
            ClusterError::Command(
                "cannot tell the effective user id (`id -u` printed no number)".into(),
            )
        })
}

/// A TCP port on 127.0.0.1 that is free now (the kernel's choice for port 0).
///
/// # Errors
/// No port can be bound on 127.0.0.1.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(|e| {
        ClusterError::Command(format!("cannot find a free TCP port on 127.0.0.1: {e}"))
    })?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| ClusterError::Command(format!("cannot read a bound port: {e}")))
}

/// Whether nothing listens on `port` of 127.0.0.1 (it can be bound now).
pub(crate) fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// `name` on PATH, if executable.
pub(crate) fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// 64-bit FNV-1a: a stable name for per-workspace folders under /tmp.
pub(crate) fn fnv1a(bytes: &OsStr) -> u64 {
    bytes
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

/// Quotes `s` for /bin/sh.
pub(crate) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `what failed (status): stderr, stdout`.
pub(crate) fn command_failed(what: &str, out: &Output) -> String {
    let mut msg = format!("{what} failed ({})", out.status);
    for stream in [&out.stderr, &out.stdout] {
        let text = String::from_utf8_lossy(stream);
        if !text.trim().is_empty() {
            msg.push_str(":\n");
            msg.push_str(text.trim_end());
        }
    }
    msg
}

/// The last `lines` lines of a log file (or why it cannot be read).
pub fn log_tail(path: &Path, lines: usize) -> String {
    match fs::read_to_string(path) {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read it: {e})"),
    }
}

/// Creates `dir` and its parents.
pub(crate) fn create_dir_all(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| ClusterError::io("create", dir, e))
}

/// Sets the mode of `path`.
pub(crate) fn chmod(path: &Path, mode: u32) -> Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| ClusterError::io("chmod", path, e))
}

/// Calls `probe` every few milliseconds until it returns `Some`, or `timeout` passes (then
/// `None`). The pause grows from 5 ms to 100 ms.
pub(crate) fn poll<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if start.elapsed() >= timeout {
            return None;
        }
        std::thread::sleep(pause.min(timeout.saturating_sub(start.elapsed())));
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Whether process `pid` exists and is not a zombie (from `/proc/<pid>/stat`).
pub(crate) fn process_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // `pid (comm) S ...`: the state follows the last `)`.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Sends `signal` (`TERM`, `INT`, `KILL`) to `pid` with `kill(1)`.
pub(crate) fn send_signal(pid: u32, signal: &str) -> Result<()> {
    let out = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .output()
        .map_err(|e| ClusterError::Command(format!("cannot run kill: {e}")))?;
    if !out.status.success() && process_alive(pid) {
        return Err(ClusterError::Command(command_failed(
            &format!("kill -{signal} {pid}"),
            &out,
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_survives_quotes_and_spaces() {
        assert_eq!(shell_quote("/a b/c"), "'/a b/c'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn fnv1a_is_stable() {
        // Folder names under /tmp must not change between builds or Rust versions.
        assert_eq!(fnv1a(OsStr::new("")), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(OsStr::new("a")), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn this_process_is_alive_and_an_absurd_pid_is_not() {
        assert!(process_alive(std::process::id()));
        assert!(!process_alive(u32::MAX));
    }
}
