//! What an interrupted writer (SIGINT, SIGTERM) leaves: nothing that looks finished.
//!
//! Every locked output folder and every temporary file of a command is registered here while it
//! is in use. The command line catches the signal on a thread of its own and calls [`stop`]
//! before it exits (130 for SIGINT, 143 for SIGTERM); `stop`:
//!
//! 1. closes the gate of [`renaming`]: from then on no temporary file is renamed into place and
//!    no new one is created through [`create_temporary`] (a rename under way finishes first), so
//!    the folder cannot change behind the cleanup;
//! 2. removes the folder's temporary files (`.tmp-*`, in it and in its registered subfolders)
//!    and the registered temporary files;
//! 3. if the folder has no `summary.json` (the mark of a finished folder, written last), removes
//!    the outputs the command had already put in place: they belong to a command that did not
//!    finish. What a resume needs (`mc.json`, `runs.jsonl`: every line of which is a whole,
//!    synced record) is not among them;
//! 4. removes the lock file (the kernel drops the lock itself when the process exits).
//!
//! A `kill -9` runs none of this; then the next writer of the folder removes the temporaries
//! (see [`super::lock::open_output`]) and a journal's torn last line is dropped on reading.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock, RwLockReadGuard};

/// A folder held by this process, as [`stop`] must leave it.
#[derive(Clone, Debug)]
struct Held {
    id: u64,
    dir: PathBuf,
    lock_file: PathBuf,
    subfolders: Vec<String>,
    /// The files this command writes, removed if it stops before `summary.json`.
    unfinished: Vec<String>,
    /// Said after the cleanup (e.g. how to resume).
    hint: Option<String>,
}

static HELD: Mutex<Vec<Held>> = Mutex::new(Vec::new());
static TEMPORARIES: Mutex<Vec<(u64, PathBuf)>> = Mutex::new(Vec::new());
static NEXT: AtomicU64 = AtomicU64::new(1);
static STOPPED: AtomicBool = AtomicBool::new(false);
/// Read-held while a file is renamed into place or a temporary created; write-held by `stop`.
static GATE: RwLock<()> = RwLock::new(());

/// Whether [`stop`] has begun: the process is about to exit.
pub fn stopped() -> bool {
    STOPPED.load(Ordering::SeqCst)
}

/// The permission to put a file in place (or create a temporary), or an error once the process
/// is stopping. Hold it across the rename.
pub fn renaming() -> std::io::Result<RwLockReadGuard<'static, ()>> {
    let guard = GATE.read().unwrap_or_else(|e| e.into_inner());
    if stopped() {
        return Err(std::io::Error::new(std::io::ErrorKind::Interrupted, "interrupted"));
    }
    Ok(guard)
}

/// Creates a temporary file, unless the process is stopping.
pub fn create_temporary(path: &Path) -> std::io::Result<fs::File> {
    let _gate = renaming()?;
    fs::File::create(path)
}

/// Registers a locked folder; returns its key for [`release`].
pub(super) fn hold(dir: &Path, lock_file: &Path) -> u64 {
    let id = NEXT.fetch_add(1, Ordering::SeqCst);
    let held = Held {
        id,
        dir: dir.to_path_buf(),
        lock_file: lock_file.to_path_buf(),
        subfolders: Vec::new(),
        unfinished: Vec::new(),
        hint: None,
    };
    HELD.lock().unwrap_or_else(|e| e.into_inner()).push(held);
    id
}

/// Forgets a folder (its lock is being released).
pub(super) fn release(id: u64) {
    HELD.lock().unwrap_or_else(|e| e.into_inner()).retain(|h| h.id != id);
}

/// Sets the subfolders of a held folder whose temporaries are its own too.
pub(super) fn subfolders(id: u64, subfolders: &[&str]) {
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(h) = held.iter_mut().find(|h| h.id == id) {
        h.subfolders = subfolders.iter().map(|s| s.to_string()).collect();
    }
}

/// Sets, for a held folder, the outputs to remove if the command stops before its summary and
/// what to tell the user then.
pub(super) fn describe(id: u64, unfinished: &[&str], hint: Option<String>) {
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(h) = held.iter_mut().find(|h| h.id == id) {
        h.unfinished = unfinished.iter().map(|s| s.to_string()).collect();
        h.hint = hint;
    }
}

/// A temporary file removed if the process is stopped, until the guard is dropped.
#[derive(Debug)]
pub struct Temporary(u64);

impl Temporary {
    pub fn register(path: &Path) -> Temporary {
        let id = NEXT.fetch_add(1, Ordering::SeqCst);
        TEMPORARIES.lock().unwrap_or_else(|e| e.into_inner()).push((id, path.to_path_buf()));
        Temporary(id)
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        TEMPORARIES.lock().unwrap_or_else(|e| e.into_inner()).retain(|(id, _)| *id != self.0);
    }
}

/// Cleans every held folder and registered temporary file for an exit on a signal (see the
/// module docs) and says, one line each, what was done. Call it once, then exit; it never
/// returns the gate, so nothing is put in place after it.
pub fn stop() -> Vec<String> {
    STOPPED.store(true, Ordering::SeqCst);
    // Wait for a rename under way; then keep the gate shut for good.
    std::mem::forget(GATE.write().unwrap_or_else(|e| e.into_inner()));
    let mut said = Vec::new();
    for (_, path) in TEMPORARIES.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        if fs::remove_file(path).is_ok() {
            said.push(format!("removed the unfinished {}", path.display()));
        }
    }
    for h in HELD.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let mut removed = super::lock::remove_temporaries(&h.dir);
        for sub in &h.subfolders {
            removed += super::lock::remove_temporaries(&h.dir.join(sub));
        }
        let finished = h.dir.join("summary.json").is_file();
        let mut outputs = Vec::new();
        if !finished {
            for f in &h.unfinished {
                if fs::remove_file(h.dir.join(f)).is_ok() {
                    outputs.push(f.as_str());
                }
            }
        }
        // A Monte Carlo's journal: every whole line is a finished run that a resume keeps.
        let journal = fs::read(h.dir.join("runs.jsonl")).ok().filter(|_| !finished);
        let kept = journal.map(|b| b.iter().filter(|&&c| c == b'\n').count());
        let _ = fs::remove_file(&h.lock_file);
        let mut line = format!("{}: ", h.dir.display());
        line += if finished { "finished before the interruption" } else { "not finished" };
        if removed > 0 {
            line += &format!("; removed {removed} temporary file(s)");
        }
        if !outputs.is_empty() {
            line += &format!("; removed this command's unfinished outputs ({})", outputs.join(", "));
        }
        if let Some(n) = kept {
            line += &format!("; runs.jsonl keeps {n} finished run(s)");
        }
        if !finished && let Some(hint) = &h.hint {
            line += "; ";
            line += hint;
        }
        said.push(line);
    }
    said
}
