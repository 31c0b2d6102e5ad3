//! Captures the host's tracing output in memory for the whole test binary, so tests can check
//! what the host logged (e.g. that no secret ever appears). Installed once, on first use; the
//! host's own targets are captured down to `trace`, everything else is left out.

use std::io::Write;
use std::sync::{Mutex, OnceLock, PoisonError};

static CAPTURED: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static INSTALLED: OnceLock<()> = OnceLock::new();

/// Installs the capturing subscriber as the global default (once per test binary).
pub fn install() {
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("ats_host=trace,ats_tests=trace"))
            .with_writer(|| CaptureWriter)
            .with_ansi(false)
            .finish();
        // Another test may have installed a subscriber first; then logs are not captured
        // and `captured()` says so.
        if tracing::subscriber::set_global_default(subscriber).is_err() {
            CAPTURED.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(
                b"<log capture unavailable: another global subscriber was installed>",
            );
        }
    });
}

/// Everything captured so far.
pub fn captured() -> String {
    String::from_utf8_lossy(&CAPTURED.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
}

struct CaptureWriter;

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURED.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
