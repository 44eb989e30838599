//! Logging: JSON lines that CloudWatch indexes, carrying the Lambda request id from the runtime's
//! invocation span. Nothing logs a token or an email body.

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber. Level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, default info.
pub fn init() {
    let filter = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .map(|level| EnvFilter::new(level.to_lowercase()))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .try_init();
}
