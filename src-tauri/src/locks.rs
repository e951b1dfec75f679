//! One poisoned-lock policy for the app's mutexes.

use std::sync::{Mutex, MutexGuard};

/// A mutex guard even after a panic elsewhere: every value kept behind these
/// locks is valid between statements, so a poisoned lock holds usable data.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
