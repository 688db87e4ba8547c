//! Fail points for crash tests (the `fail` crate; live in test builds).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Makes `point` panic the first time it is reached (the task running there dies, as it
/// would with its process); counts how often it is reached.
pub fn crash_once(point: &str) -> Arc<AtomicUsize> {
    let reached = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&reached);
    fail::cfg_callback(point, move || {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("simulated crash");
        }
    })
    .unwrap_or_else(|error| panic!("fail point {point}: {error}"));
    reached
}
