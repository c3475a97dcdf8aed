//! Settings loaded from files and loaded again when the files change, so
//! that a new certificate or user takes effect without a restart.
//!
//! Files are polled rather than watched with inotify: a poll sees a
//! Kubernetes secret's symlink swap and an editor's rename alike, and costs
//! a few small reads every couple of seconds.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::SecurityError;

type Loader<T> = Box<dyn Fn() -> Result<T, SecurityError> + Send + Sync>;

/// A value built from some files, rebuilt when their content changes. A
/// rebuild that fails keeps the value in use and logs why.
pub struct Watched<T> {
    what: &'static str,
    paths: Vec<PathBuf>,
    loader: Loader<T>,
    current: RwLock<Arc<T>>,
    /// The content the current value was built from.
    fingerprint: Mutex<Option<u64>>,
    generation: AtomicU64,
}

impl<T> std::fmt::Debug for Watched<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watched")
            .field("what", &self.what)
            .field("paths", &self.paths)
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<T: Send + Sync + 'static> Watched<T> {
    /// Builds the value now; an error here is a start-up error. `what`
    /// names it in log lines ("the user file", "the TLS certificate").
    pub fn load(
        what: &'static str,
        paths: Vec<PathBuf>,
        loader: impl Fn() -> Result<T, SecurityError> + Send + Sync + 'static,
    ) -> Result<Arc<Self>, SecurityError> {
        let fingerprint = fingerprint(&paths);
        let value = loader()?;
        Ok(Arc::new(Self {
            what,
            paths,
            loader: Box::new(loader),
            current: RwLock::new(Arc::new(value)),
            fingerprint: Mutex::new(fingerprint),
            generation: AtomicU64::new(0),
        }))
    }

    /// The value in use.
    pub fn get(&self) -> Arc<T> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// How many times the value was rebuilt: caches of what was derived
    /// from it compare this to know they are stale.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Looks at the files once and rebuilds the value if their content
    /// changed. Returns whether it was rebuilt.
    pub fn check(&self) -> bool {
        let Ok(mut seen) = self.fingerprint.lock() else {
            return false;
        };
        let now = fingerprint(&self.paths);
        if now.is_none() || now == *seen {
            return false;
        }
        *seen = now;
        match (self.loader)() {
            Ok(value) => {
                match self.current.write() {
                    Ok(mut current) => *current = Arc::new(value),
                    Err(poisoned) => *poisoned.into_inner() = Arc::new(value),
                }
                self.generation.fetch_add(1, Ordering::AcqRel);
                tracing::info!(what = self.what, files = ?self.paths, "reloaded");
                true
            }
            Err(e) => {
                tracing::warn!(what = self.what, error = %e, "cannot reload; keeping the one in use");
                false
            }
        }
    }

    /// Checks the files every `every` until the returned task is aborted.
    pub fn spawn(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let this = this.clone();
                // Reading and parsing files (or hashing keys) is blocking work.
                let _ = tokio::task::spawn_blocking(move || this.check()).await;
            }
        })
    }
}

/// A hash of the files' content, or `None` while one cannot be read (a
/// file being replaced): nothing is reloaded from a half-written set.
fn fingerprint(paths: &[PathBuf]) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    for path in paths {
        std::fs::read(path).ok()?.hash(&mut hasher);
    }
    Some(hasher.finish())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reloads_on_change_and_keeps_the_old_value_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n");
        std::fs::write(&path, "1").unwrap();
        let read = {
            let path = path.clone();
            move || {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| SecurityError::Tls(e.to_string()))?;
                text.trim()
                    .parse::<u32>()
                    .map_err(|e| SecurityError::Tls(e.to_string()))
            }
        };
        let watched = Watched::load("a number", vec![path.clone()], read).unwrap();
        assert_eq!(*watched.get(), 1);
        assert!(!watched.check(), "nothing changed");
        std::fs::write(&path, "2").unwrap();
        assert!(watched.check());
        assert_eq!((*watched.get(), watched.generation()), (2, 1));
        std::fs::write(&path, "two").unwrap();
        assert!(!watched.check(), "a bad file is not loaded");
        assert_eq!(*watched.get(), 2);
        std::fs::remove_file(&path).unwrap();
        assert!(!watched.check(), "a missing file is not loaded");
        std::fs::write(&path, "3").unwrap();
        assert!(watched.check());
        assert_eq!(*watched.get(), 3);
    }
}
