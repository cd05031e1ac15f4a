//! PgBouncer in transaction pooling mode in front of a local server.

use std::ffi::OsStr;
use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{ClusterError, Result};
use crate::node::DB_USER;
use crate::process::{
    command_failed, create_dir_all, log_tail, poll, process_alive, send_signal, ServerTools,
};

/// One PgBouncer process and its files, all in one folder: `pgbouncer.ini`, `userlist.txt`,
/// `pgbouncer.log`, `pgbouncer.pid`.
#[derive(Debug, Clone)]
pub(crate) struct Bouncer {
    /// The folder of its files.
    pub dir: PathBuf,
}

impl Bouncer {
    pub fn ini(&self) -> PathBuf {
        self.dir.join("pgbouncer.ini")
    }

    pub fn log(&self) -> PathBuf {
        self.dir.join("pgbouncer.log")
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.join("pgbouncer.pid")
    }

    /// The pid of the running PgBouncer, from its pid file; `None` when it is not running.
    pub fn running_pid(&self) -> Option<u32> {
        let pid: u32 = fs::read_to_string(self.pid_file())
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        // A pid file left by a crash may name a process that reused the number.
        (process_alive(pid) && comm.trim() == "pgbouncer").then_some(pid)
    }

    /// The port its configuration file names (`listen_port`), if written.
    pub fn configured_port(&self) -> Option<u16> {
        let text = fs::read_to_string(self.ini()).ok()?;
        text.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == "listen_port")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
    }

    /// Writes the configuration: listen on 127.0.0.1:`port` (no Unix socket), send every
    /// database name (a wildcard entry) to the server on 127.0.0.1:`server_port`, `trust`
    /// authentication of the `postgres` user (listed in `userlist.txt`, as PgBouncer requires
    /// even for `trust`), `pool_mode = transaction`.
    pub fn configure(&self, tools: &ServerTools, port: u16, server_port: u16) -> Result<()> {
        create_dir_all(&self.dir)?;
        let userlist = self.dir.join("userlist.txt");
        fs::write(&userlist, format!("\"{DB_USER}\" \"\"\n"))
            .map_err(|e| ClusterError::io("write", &userlist, e))?;
        let ini = format!(
            "; Written by ignis-cluster: PgBouncer in transaction pooling mode in front of the\n\
             ; local server on 127.0.0.1:{server_port}.\n\
             [databases]\n\
             * = host=127.0.0.1 port={server_port}\n\
             \n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = trust\n\
             auth_file = {userlist}\n\
             admin_users = {DB_USER}\n\
             pool_mode = transaction\n\
             max_client_conn = 500\n\
             default_pool_size = 40\n\
             ignore_startup_parameters = extra_float_digits,options\n\
             logfile = {log}\n\
             pidfile = {pid}\n",
            userlist = userlist.display(),
            log = self.log().display(),
            pid = self.pid_file().display(),
        );
        fs::write(self.ini(), ini).map_err(|e| ClusterError::io("write", self.ini(), e))?;
        tools.give_to_server_user(&self.dir)
    }

    /// Starts PgBouncer as a daemon (`pgbouncer -d`, as the `postgres` OS user when root) and
    /// waits until it accepts TCP connections on `port`.
    pub fn start(&self, tools: &ServerTools, port: u16, timeout: Duration) -> Result<()> {
        if self.running_pid().is_some() {
            return Ok(());
        }
        let program = tools.pgbouncer()?;
        let out = tools.output_of(&program, &[OsStr::new("-d"), self.ini().as_os_str()])?;
        if !out.status.success() {
            return Err(ClusterError::Command(format!(
                "{}\nend of {}:\n{}",
                command_failed("pgbouncer -d", &out),
                self.log().display(),
                log_tail(&self.log(), 20)
            )));
        }
        let listening = poll(timeout, || {
            TcpStream::connect_timeout(
                &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
                Duration::from_millis(200),
            )
            .ok()
        });
        if listening.is_none() {
            return Err(ClusterError::Timeout {
                what: format!(
                    "PgBouncer does not listen on 127.0.0.1:{port}; end of {}:\n{}",
                    self.log().display(),
                    log_tail(&self.log(), 20)
                ),
                waited: timeout,
            });
        }
        Ok(())
    }

    /// Stops PgBouncer (SIGTERM: immediate shutdown) and waits for its process to end;
    /// `false` when it was not running.
    pub fn stop(&self) -> Result<bool> {
        let Some(pid) = self.running_pid() else {
            return Ok(false);
        };
        send_signal(pid, "TERM")?;
        let wait = Duration::from_secs(10);
        if poll(wait, || (!process_alive(pid)).then_some(())).is_none() {
            send_signal(pid, "KILL")?;
            if poll(wait, || (!process_alive(pid)).then_some(())).is_none() {
                return Err(ClusterError::Timeout {
                    what: format!("PgBouncer (pid {pid}) does not exit"),
                    waited: wait * 2,
                });
            }
        }
        Ok(true)
    }
}

/// The PgBouncer of the files in `dir`.
pub(crate) fn bouncer_in(dir: &Path) -> Bouncer {
    Bouncer {
        dir: dir.to_path_buf(),
    }
}
