//! One writer per output folder: every command that writes one (`run`, `mc`, `merge`, `sweep`,
//! `sensitivity`, `compare`, `report`, `events export --out`) holds an exclusive lock on it from
//! before it touches it until it returns.
//!
//! # How
//! The lock is `.liqsim.lock` in the folder, held with an advisory `flock` (std's
//! [`File::try_lock`]). The kernel drops the lock when the holder exits in any way (return,
//! panic, SIGINT, `kill -9`), so a process that died leaves at most a file that nobody holds:
//! the next writer's `try_lock` succeeds on it and takes it over; nothing has to guess whether a
//! pid is alive, and no two processes can both believe a dead holder's lock is theirs. The
//! holder writes its pid, host, start time and command into the file so that a refused writer
//! can name it. On release the file is removed before the lock is dropped; a writer that locked
//! a file just removed (its path no longer names the inode it holds) tries again, so the
//! remove-then-unlock order cannot hand the folder to two writers.
//!
//! `flock` works across processes of one host and, on Linux, across hosts on NFS (emulated with
//! POSIX record locks); on a file system that refuses locks the folder cannot be locked and
//! the writer stops with that error rather than run unprotected.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The lock file's name in a locked folder.
pub const LOCK_FILE: &str = ".liqsim.lock";

/// Why a folder could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the folder.
    #[error("{dir} is in use by another liqsim ({holder}); wait for it to finish or choose another --out")]
    Held { dir: PathBuf, holder: String },
    #[error("cannot lock {path}: {err}")]
    Io { path: PathBuf, err: io::Error },
}

/// The exclusive lock on an output folder, held until dropped.
#[derive(Debug)]
pub struct FolderLock {
    file: File,
    path: PathBuf,
    /// Its key in [`super::interrupt`]'s list of held folders.
    held: u64,
}

impl FolderLock {
    /// Locks `dir` (which must exist) for `command`, or says who holds it.
    pub fn acquire(dir: &Path, command: &str) -> Result<FolderLock, LockError> {
        let path = dir.join(LOCK_FILE);
        let io_err = |err| LockError::Io { path: path.clone(), err };
        loop {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io_err)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    let _ = file.read_to_string(&mut text);
                    return Err(LockError::Held { dir: dir.to_path_buf(), holder: describe(&text) });
                }
                Err(TryLockError::Error(err)) => return Err(io_err(err)),
            }
            // A holder releasing removes the file before unlocking: if the path no longer names
            // the file just locked, that lock guards nothing. Try again on the path's new file.
            if !same_file(&file, &path) {
                continue;
            }
            file.set_len(0).map_err(io_err)?;
            file.rewind().map_err(io_err)?;
            let line = format!(
                "pid={}\nhost={}\nstarted={}\ncommand=liqsim {command}\n",
                std::process::id(),
                hostname(),
                utc_now()
            );
            file.write_all(line.as_bytes()).map_err(io_err)?;
            file.sync_all().map_err(io_err)?;
            let held = super::interrupt::hold(dir, &path);
            return Ok(FolderLock { file, path, held });
        }
    }
}

impl FolderLock {
    /// If the process is stopped by a signal before the folder's `summary.json` is written,
    /// `unfinished` (this command's outputs) are removed with the temporaries, and `hint` is
    /// said (see [`super::interrupt`]).
    pub fn on_interrupt(&self, unfinished: &[&str], hint: Option<String>) {
        super::interrupt::describe(self.held, unfinished, hint);
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        super::interrupt::release(self.held);
        // Remove, then unlock (by closing): see the module docs.
        let _ = fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// The holder as the lock file names it: `pid 4242 on host node7, since 2026-12-02T08:40:00Z
/// (liqsim mc)`.
fn describe(text: &str) -> String {
    let field = |key: &str| {
        text.lines().find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('='))).map(str::trim)
    };
    match (field("pid"), field("host"), field("started")) {
        (Some(pid), Some(host), Some(started)) => format!(
            "pid {pid} on host {host}, since {started}{}",
            field("command").map(|c| format!(" ({c})")).unwrap_or_default()
        ),
        // Locked a moment ago; its details are being written.
        _ => "a process that is just starting".to_string(),
    }
}

/// This machine's name (Linux: the kernel's; else `$HOSTNAME`), `unknown` when none is found.
pub fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// Now, as `YYYY-MM-DDTHH:MM:SSZ`.
fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3_600, rem % 3_600 / 60, rem % 60)
}

/// Why an output folder could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("{0}: is a file, not a folder (outputs go into a folder)")]
    NotAFolder(PathBuf),
    #[error("cannot create output folder {path}: {err}")]
    Create { path: PathBuf, err: io::Error },
    #[error(transparent)]
    Lock(#[from] LockError),
}

impl FolderError {
    /// The user's doing (a file named as the folder, a folder in use): bad input, not a failure.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, FolderError::NotAFolder(_) | FolderError::Lock(LockError::Held { .. }))
    }
}

/// Creates `dir` if need be, locks it for `command` and removes what an interrupted writer left
/// there (`.tmp-*` files in it and in each of `subfolders`).
pub fn open_output(dir: &Path, command: &str, subfolders: &[&str]) -> Result<FolderLock, FolderError> {
    if dir.exists() && !dir.is_dir() {
        return Err(FolderError::NotAFolder(dir.to_path_buf()));
    }
    fs::create_dir_all(dir).map_err(|err| FolderError::Create { path: dir.to_path_buf(), err })?;
    let lock = FolderLock::acquire(dir, command)?;
    super::interrupt::subfolders(lock.held, subfolders);
    clean_temporaries(dir);
    for sub in subfolders {
        clean_temporaries(&dir.join(sub));
    }
    Ok(lock)
}

/// Flushes a folder's entries (renames into it) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes the temporary files (`.tmp-*`) an interrupted writer left in `dir`. Call it holding
/// the folder's lock: then no other writer's temporary file can be there.
pub fn clean_temporaries(dir: &Path) {
    remove_temporaries(dir);
}

/// Removes `dir`'s temporary files (`.tmp-*`); how many it removed.
pub(super) fn remove_temporaries(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(".tmp-")
            && e.file_type().is_ok_and(|t| t.is_file())
            && fs::remove_file(e.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_holder_and_a_released_or_dead_one_is_taken_over() {
        let dir = std::env::temp_dir().join(format!("liqsim-lock-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let held = FolderLock::acquire(&dir, "mc").unwrap();
        let text = fs::read_to_string(dir.join(LOCK_FILE)).unwrap();
        assert!(text.contains(&format!("pid={}\n", std::process::id())), "{text}");
        match FolderLock::acquire(&dir, "run") {
            Err(LockError::Held { holder, .. }) => {
                assert!(holder.starts_with(&format!("pid {} on host ", std::process::id())), "{holder}");
                assert!(holder.ends_with("(liqsim mc)"), "{holder}");
            }
            other => panic!("expected Held, got {other:?}"),
        }
        drop(held);
        assert!(!dir.join(LOCK_FILE).exists(), "released: the file is gone");
        // A holder that died left its file, locked by nobody: taken over.
        fs::write(dir.join(LOCK_FILE), "pid=999999999\nhost=elsewhere\nstarted=1970-01-01T00:00:00Z\n")
            .unwrap();
        let again = FolderLock::acquire(&dir, "merge").unwrap();
        assert!(fs::read_to_string(dir.join(LOCK_FILE)).unwrap().contains("command=liqsim merge"));
        drop(again);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_time_is_written_in_utc() {
        let t = utc_now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'), "{t}");
    }
}
