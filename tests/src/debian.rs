//! Third-party schema SQL from Debian packages, fetched at test time.
//!
//! Real application schemas (PowerDNS, Icinga, Bacula, ...) are the best test of the migrator's
//! fidelity, but their files are not ours to commit. [`fetch_sql`] downloads the package with the
//! machine's own `apt-get download` (so only the configured Debian mirrors are contacted),
//! unpacks it with `dpkg -x` under `target/debian-schemas/<package>/`, and returns the text of
//! one file of it. A package already unpacked there is reused without any network access.
//!
//! Nothing here panics: every failure (no `apt-get`, no network, a package that is gone, a file
//! that moved inside the package) comes back as a [`FetchError`] whose message says what to
//! do, so a test can print `skipping <package>: <why>` and move on.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Why a package's file could not be had. Its `Display` is one line, fit for a skip message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    /// The package asked for.
    pub package: String,
    /// What went wrong (the failing command and the last lines of its output, or the I/O error).
    pub reason: String,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.package, self.reason)
    }
}

impl std::error::Error for FetchError {}

/// Serialises the `apt-get` runs of this process (parallel tests would otherwise race for
/// apt's locks), and remembers whether `apt-get update` already ran: `Some(Ok)` once it
/// succeeded, `Some(Err(why))` once it failed (it is not retried).
static APT: Mutex<Option<Result<(), String>>> = Mutex::new(None);

/// The folder downloads go to: `$CARGO_TARGET_DIR/debian-schemas` when that variable holds an
/// absolute path, else `target/debian-schemas` of the workspace.
pub fn cache_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
        });
    target.join("debian-schemas")
}

/// The text of file `path` (absolute inside the package, e.g.
/// `/usr/share/pdns-backend-pgsql/schema/schema.pgsql.sql`) of Debian package `package`,
/// downloading and unpacking the package into [`cache_dir`]`/<package>/root` unless it is
/// already there.
///
/// `apt-get download` needs the package lists: when it answers "Unable to locate package",
/// `apt-get update` runs once per process (it needs root, as in CI) and the download is retried.
///
/// # Errors
/// A [`FetchError`] when the package name is not a Debian package name, `apt-get` or `dpkg` is
/// missing or fails (no network, package gone), or the file is not in the package or not UTF-8.
pub fn fetch_sql(package: &str, path: &str) -> Result<String, FetchError> {
    let fail = |reason: String| FetchError {
        package: package.to_string(),
        reason,
    };
    // Debian policy 5.6.1: lower case letters, digits, '+', '-', '.'; starting alphanumeric.
    let valid = package
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
        && package
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if !valid {
        return Err(fail("not a Debian package name".into()));
    }
    let relative = path.trim_start_matches('/');
    if relative.is_empty() || relative.split('/').any(|s| s == "..") {
        return Err(fail(format!("not a path inside a package: {path:?}")));
    }
    let dir = cache_dir().join(package);
    let root = dir.join("root");
    if !root.is_dir() {
        unpack(package, &dir, &root).map_err(fail)?;
    }
    let file = root.join(relative);
    let bytes = std::fs::read(&file).map_err(|e| {
        fail(format!(
            "{} is not in the unpacked package ({e}); delete {} to download it again",
            file.display(),
            dir.display()
        ))
    })?;
    String::from_utf8(bytes).map_err(|_| fail(format!("{path} is not UTF-8")))
}

/// Downloads `package` into `dir/download` and unpacks it into `root` (through a temporary
/// folder renamed at the end, so an interrupted run leaves no half-unpacked `root`).
fn unpack(package: &str, dir: &Path, root: &Path) -> Result<(), String> {
    let download = dir.join("download");
    let _ = std::fs::remove_dir_all(&download);
    std::fs::create_dir_all(&download)
        .map_err(|e| format!("cannot create {}: {e}", download.display()))?;
    download_deb(package, &download)?;
    let deb = std::fs::read_dir(&download)
        .map_err(|e| format!("cannot read {}: {e}", download.display()))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or_else(|| format!("apt-get download left no .deb in {}", download.display()))?;
    let partial = dir.join("root.partial");
    let _ = std::fs::remove_dir_all(&partial);
    run(Command::new("dpkg").arg("-x").arg(&deb).arg(&partial))?;
    std::fs::rename(&partial, root).map_err(|e| format!("cannot rename {}: {e}", partial.display()))
}

/// `apt-get download <package>` in `into`, with one `apt-get update` when apt does not know
/// the package yet.
fn download_deb(package: &str, into: &Path) -> Result<(), String> {
    // A test that panicked while holding the lock leaves nothing inconsistent behind.
    let mut updated = APT.lock().unwrap_or_else(|e| e.into_inner());
    let download = || {
        run(Command::new("apt-get")
            .args(["-q", "download", "--", package])
            .current_dir(into))
    };
    match download() {
        Ok(()) => Ok(()),
        Err(why) if why.contains("Unable to locate package") => {
            if updated.is_none() {
                *updated = Some(run(Command::new("apt-get").args(["-q", "update"])));
            }
            match updated.as_ref() {
                Some(Err(update)) => Err(format!(
                    "{why}; apt-get update (needs root) failed too: {update}"
                )),
                _ => download().map_err(|again| format!("{again} (after apt-get update)")),
            }
        }
        Err(why) => Err(why),
    }
}

/// Runs a command to completion; on failure, the command and the last lines of its output.
fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(3)..].join(" / ");
    Err(format!("{shown} failed ({}): {tail}", out.status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_not_debian_package_names_are_refused_before_apt_runs() {
        for bad in ["", "Bad Name", "-rf", "pkg;ls", "../etc", "UPPER"] {
            let err = fetch_sql(bad, "/x.sql").unwrap_err();
            assert_eq!(err.reason, "not a Debian package name", "{bad:?}");
            assert_eq!(err.to_string(), format!("{bad}: not a Debian package name"));
        }
    }

    #[test]
    fn paths_that_leave_the_package_are_refused() {
        for bad in ["", "/", "/usr/../../etc/passwd", "../x.sql"] {
            let err = fetch_sql("pdns-backend-pgsql", bad).unwrap_err();
            assert!(
                err.reason.starts_with("not a path inside a package"),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn a_failing_command_names_itself_and_its_last_output_lines() {
        let err =
            run(Command::new("sh").args(["-c", "echo one; echo two >&2; exit 3"])).unwrap_err();
        assert!(
            err.starts_with("sh -c echo one; echo two >&2; exit 3 failed"),
            "{err}"
        );
        assert!(err.ends_with("one / two"), "{err}");
        assert!(run(&mut Command::new("ignis-no-such-program")).is_err());
    }
}
