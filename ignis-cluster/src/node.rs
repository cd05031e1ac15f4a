//! One Postgres server process over one data directory: initdb, base backup, start, stop,
//! promote, status.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{ClusterError, Result};
use crate::process::{chmod, command_failed, create_dir_all, log_tail, shell_quote, ServerTools};

/// The database superuser `initdb` creates, and the user of every URL this crate prints.
pub const DB_USER: &str = "postgres";

/// The locales a new cluster is created with, the first that `initdb` accepts: UTF-8 locales,
/// so `ilike`, `upper` and `lower` fold non-ASCII letters as on a Debian or Ubuntu server.
/// `C.UTF-8` (glibc, musl) sorts text in code point order, the same order as `C`.
pub const CLUSTER_LOCALES: [&str; 2] = ["C.UTF-8", "en_US.UTF-8"];

/// The locale of a new cluster when `initdb` accepts none of [`CLUSTER_LOCALES`].
pub const FALLBACK_LOCALE: &str = "C";

/// Whether an `LC_CTYPE` value folds ASCII letters only (`C`, `POSIX`): Postgres then leaves
/// `É` and `é` apart in `ilike`, `upper` and `lower`.
pub fn ctype_folds_ascii_only(ctype: &str) -> bool {
    matches!(ctype, "C" | "POSIX")
}

/// The settings every server of this crate starts with, whatever its role: streaming
/// replication from it is possible (`wal_level=replica`, WAL senders and slots) and a standby
/// made from it answers read-only queries (`hot_standby=on`).
pub(crate) const REPLICATION_SETTINGS: [(&str, &str); 4] = [
    ("wal_level", "replica"),
    ("max_wal_senders", "10"),
    ("max_replication_slots", "10"),
    ("hot_standby", "on"),
];

/// How a server is stopped (`pg_ctl stop -m ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StopMode {
    /// `-m fast`: open sessions are disconnected, transactions rolled back, a shutdown
    /// checkpoint is written.
    #[default]
    Fast,
    /// `-m immediate`: the server processes are killed at once, as in a crash; the next start
    /// runs crash recovery. Acknowledged commits survive (they are in the WAL on disk).
    Immediate,
}

impl StopMode {
    fn arg(self) -> &'static str {
        match self {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        }
    }
}

/// What `initdb` did: the locale it accepted, and what it refused first.
pub(crate) struct Initdb {
    /// The locale of the new cluster.
    pub locale: &'static str,
    /// A warning when the cluster got [`FALLBACK_LOCALE`], naming what was refused.
    pub warning: Option<String>,
}

/// One Postgres server: its data directory, its log, and its Unix socket directory (`None`: no
/// Unix socket, TCP on 127.0.0.1 only).
#[derive(Debug, Clone)]
pub(crate) struct PgNode {
    /// The data directory (`pg_ctl -D`).
    pub data: PathBuf,
    /// The server log (`pg_ctl -l`).
    pub log: PathBuf,
    /// The Unix socket directory, if any.
    pub socket: Option<PathBuf>,
}

impl PgNode {
    /// Whether the data directory holds a cluster.
    pub fn initialized(&self) -> bool {
        self.data.join("PG_VERSION").is_file()
    }

    /// Whether the data directory is a standby's (`standby.signal`, removed by promotion).
    pub fn is_standby_dir(&self) -> bool {
        self.data.join("standby.signal").is_file()
    }

    /// The server's major version, from `PG_VERSION`.
    pub fn version(&self) -> String {
        fs::read_to_string(self.data.join("PG_VERSION"))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|_| "(version unknown)".into())
    }

    /// The port the server is running on, or `None` when it is stopped (or not created).
    pub fn running_port(&self, tools: &ServerTools) -> Result<Option<u16>> {
        if !self.initialized() {
            return Ok(None);
        }
        let out = tools.output(
            "pg_ctl",
            &[
                OsStr::new("status"),
                OsStr::new("-D"),
                self.data.as_os_str(),
            ],
        )?;
        match out.status.code() {
            Some(0) => {}
            // 3: not running; 4: no accessible data directory.
            Some(3) | Some(4) => return Ok(None),
            _ => return Err(ClusterError::Command(command_failed("pg_ctl status", &out))),
        }
        // The 4th line of postmaster.pid is the port the running server listens on.
        let from_pid = fs::read_to_string(self.data.join("postmaster.pid"))
            .ok()
            .and_then(|pid| pid.lines().nth(3).and_then(|l| l.trim().parse().ok()));
        Ok(from_pid)
    }

    /// Creates the cluster with the first locale of [`CLUSTER_LOCALES`] that initdb accepts;
    /// when it accepts none, with [`FALLBACK_LOCALE`] and a warning that case folding is then
    /// ASCII only. `no_sync`: `initdb --no-sync` (for throwaway clusters).
    pub fn initdb(&self, tools: &ServerTools, no_sync: bool) -> Result<Initdb> {
        let mut refused = Vec::new();
        for locale in CLUSTER_LOCALES {
            let out = self.initdb_with(tools, locale, no_sync)?;
            if out.status.success() {
                return Ok(Initdb {
                    locale,
                    warning: None,
                });
            }
            refused.push(command_failed(&format!("initdb --locale={locale}"), &out));
        }
        let out = self.initdb_with(tools, FALLBACK_LOCALE, no_sync)?;
        if !out.status.success() {
            refused.push(command_failed(
                &format!("initdb --locale={FALLBACK_LOCALE}"),
                &out,
            ));
            return Err(ClusterError::Command(refused.join("\n")));
        }
        Ok(Initdb {
            locale: FALLBACK_LOCALE,
            warning: Some(format!(
                "warning: initdb accepted none of the locales {}, so the local cluster uses the \
                 `C` locale: `ilike`, `upper` and `lower` fold ASCII letters only (install a \
                 UTF-8 locale, e.g. the `locales` package, then recreate the cluster; see the \
                 README).\n{}",
                CLUSTER_LOCALES.join(", "),
                refused.join("\n")
            )),
        })
    }

    /// One `initdb` run with `locale` (for every category) and UTF-8 encoding, into an empty
    /// data directory (the remains of an interrupted or refused run are removed first).
    fn initdb_with(
        &self,
        tools: &ServerTools,
        locale: &str,
        no_sync: bool,
    ) -> Result<std::process::Output> {
        if self.data.exists() {
            // An earlier initdb was interrupted or refused: the folder is ours and holds no
            // cluster.
            fs::remove_dir_all(&self.data)
                .map_err(|e| ClusterError::io("remove the incomplete", &self.data, e))?;
        }
        let locale_arg = format!("--locale={locale}");
        let mut args = vec![
            OsStr::new("-D"),
            self.data.as_os_str(),
            OsStr::new("-U"),
            OsStr::new(DB_USER),
            OsStr::new("--auth=trust"),
            OsStr::new("-E"),
            OsStr::new("UTF8"),
            OsStr::new(&locale_arg),
        ];
        if no_sync {
            args.push(OsStr::new("--no-sync"));
        }
        tools.output("initdb", &args)
    }

    /// Makes sure `pg_hba.conf` lets the `postgres` user open replication connections from
    /// 127.0.0.1 without a password (`initdb --auth=trust` writes that line; an older or edited
    /// file gets it appended). Returns whether the file changed (a running server then needs
    /// a reload).
    pub fn ensure_replication_hba(&self) -> Result<bool> {
        let path = self.data.join("pg_hba.conf");
        let text = fs::read_to_string(&path).map_err(|e| ClusterError::io("read", &path, e))?;
        let allowed = text.lines().any(|line| {
            let fields: Vec<&str> = line
                .split('#')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            matches!(
                fields.as_slice(),
                [
                    "host",
                    "replication",
                    "all" | "postgres",
                    "127.0.0.1/32",
                    "trust"
                ]
            )
        });
        if allowed {
            return Ok(false);
        }
        let mut new = text;
        if !new.ends_with('\n') {
            new.push('\n');
        }
        new.push_str("host    replication     all             127.0.0.1/32            trust\n");
        fs::write(&path, new).map_err(|e| ClusterError::io("write", &path, e))?;
        Ok(true)
    }

    /// Makes a standby's data directory: `pg_basebackup -R` from the server on `primary_port`
    /// (fast checkpoint, WAL streamed alongside), with `application_name` in the
    /// `primary_conninfo` it writes (the name `synchronous_standby_names` refers to). The
    /// parent of [`PgNode::data`] must exist and belong to the server's OS user.
    pub fn base_backup(
        &self,
        tools: &ServerTools,
        primary_port: u16,
        application_name: &str,
        no_sync: bool,
    ) -> Result<()> {
        if self.data.exists() {
            fs::remove_dir_all(&self.data)
                .map_err(|e| ClusterError::io("remove", &self.data, e))?;
        }
        let conninfo = format!(
            "host=127.0.0.1 port={primary_port} user={DB_USER} application_name={application_name}"
        );
        let mut args = vec![
            OsStr::new("-D"),
            self.data.as_os_str(),
            OsStr::new("-d"),
            OsStr::new(&conninfo),
            OsStr::new("-R"),
            OsStr::new("--checkpoint=fast"),
            OsStr::new("--wal-method=stream"),
        ];
        if no_sync {
            args.push(OsStr::new("--no-sync"));
        }
        let out = tools.output("pg_basebackup", &args)?;
        if !out.status.success() {
            return Err(ClusterError::Command(command_failed(
                &format!("pg_basebackup from port {primary_port}"),
                &out,
            )));
        }
        Ok(())
    }

    /// Starts the server on 127.0.0.1:`port` (`pg_ctl start -w`) with `settings` given as `-c`
    /// options, so they hold whatever the configuration files say.
    pub fn start(
        &self,
        tools: &ServerTools,
        port: u16,
        settings: &[(String, String)],
    ) -> Result<()> {
        let socket_option = match &self.socket {
            Some(sock) => {
                create_dir_all(sock)?;
                chmod(sock, 0o700)?;
                tools.give_to_server_user(sock)?;
                // pg_ctl hands `-o` to a shell: quote the path.
                shell_quote(&sock.to_string_lossy())
            }
            None => "''".to_string(),
        };
        let mut options = format!("-p {port} -k {socket_option} -c listen_addresses=127.0.0.1");
        for (name, value) in settings {
            options.push_str(" -c ");
            options.push_str(&shell_quote(&format!("{name}={value}")));
        }
        let out = tools.output(
            "pg_ctl",
            &[
                OsStr::new("-D"),
                self.data.as_os_str(),
                OsStr::new("-l"),
                self.log.as_os_str(),
                OsStr::new("-o"),
                OsStr::new(&options),
                OsStr::new("-w"),
                OsStr::new("-t"),
                OsStr::new("120"),
                OsStr::new("-s"),
                OsStr::new("start"),
            ],
        )?;
        if !out.status.success() {
            return Err(ClusterError::Command(format!(
                "{}\nend of {}:\n{}",
                command_failed("pg_ctl start", &out),
                self.log.display(),
                log_tail(&self.log, 20)
            )));
        }
        Ok(())
    }

    /// Stops the server (`pg_ctl stop -w`); `false` when it was not running.
    pub fn stop(&self, tools: &ServerTools, mode: StopMode) -> Result<bool> {
        if self.running_port(tools)?.is_none() {
            return Ok(false);
        }
        let out = tools.output(
            "pg_ctl",
            &[
                OsStr::new("-D"),
                self.data.as_os_str(),
                OsStr::new("-m"),
                OsStr::new(mode.arg()),
                OsStr::new("-w"),
                OsStr::new("-s"),
                OsStr::new("stop"),
            ],
        )?;
        if !out.status.success() {
            // It may have stopped between the status check and the stop.
            if self.running_port(tools)?.is_none() {
                return Ok(true);
            }
            return Err(ClusterError::Command(command_failed("pg_ctl stop", &out)));
        }
        Ok(true)
    }

    /// Promotes a running standby (`pg_ctl promote -w`: returns once it left recovery).
    pub fn promote(&self, tools: &ServerTools) -> Result<()> {
        let out = tools.output(
            "pg_ctl",
            &[
                OsStr::new("-D"),
                self.data.as_os_str(),
                OsStr::new("-w"),
                OsStr::new("-s"),
                OsStr::new("promote"),
            ],
        )?;
        if !out.status.success() {
            return Err(ClusterError::Command(format!(
                "{}\nend of {}:\n{}",
                command_failed("pg_ctl promote", &out),
                self.log.display(),
                log_tail(&self.log, 20)
            )));
        }
        Ok(())
    }

    /// Asks the server to reload its configuration files (`pg_ctl reload`).
    pub fn reload(&self, tools: &ServerTools) -> Result<()> {
        let out = tools.output(
            "pg_ctl",
            &[
                OsStr::new("-D"),
                self.data.as_os_str(),
                OsStr::new("-s"),
                OsStr::new("reload"),
            ],
        )?;
        if !out.status.success() {
            return Err(ClusterError::Command(command_failed("pg_ctl reload", &out)));
        }
        Ok(())
    }
}

/// The settings a node starts with: [`REPLICATION_SETTINGS`] followed by `extra`.
pub(crate) fn settings_with(extra: &[(String, String)]) -> Vec<(String, String)> {
    REPLICATION_SETTINGS
        .iter()
        .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
        .chain(extra.iter().cloned())
        .collect()
}

/// `dir` under the folder a node's files go to.
pub(crate) fn node_in(dir: &Path, socket: Option<PathBuf>) -> PgNode {
    PgNode {
        data: dir.join("data"),
        log: dir.join("postgres.log"),
        socket,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_clusters_try_utf8_locales_before_c() {
        assert_eq!(CLUSTER_LOCALES[0], "C.UTF-8");
        assert!(CLUSTER_LOCALES
            .iter()
            .all(|l| l.ends_with(".UTF-8") && !ctype_folds_ascii_only(l)));
        assert!(ctype_folds_ascii_only(FALLBACK_LOCALE));
    }

    #[test]
    fn only_c_and_posix_ctypes_fold_ascii_only() {
        assert!(ctype_folds_ascii_only("C"));
        assert!(ctype_folds_ascii_only("POSIX"));
        for folds in ["C.UTF-8", "C.utf8", "en_US.UTF-8", "de_DE.utf8"] {
            assert!(!ctype_folds_ascii_only(folds), "{folds}");
        }
    }

    #[test]
    fn a_missing_replication_line_is_appended_once() {
        let dir = std::env::temp_dir().join(format!("ignis-cluster-hba-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let node = node_in(&dir, None);
        fs::create_dir_all(&node.data).unwrap();
        let hba = node.data.join("pg_hba.conf");
        fs::write(
            &hba,
            "local all all trust\n# host replication all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        assert!(node.ensure_replication_hba().unwrap());
        assert!(!node.ensure_replication_hba().unwrap());
        let text = fs::read_to_string(&hba).unwrap();
        assert_eq!(text.matches("127.0.0.1/32").count(), 2, "{text}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
