//! Logging: JSON lines that CloudWatch indexes, carrying the Lambda request id from the runtime's
//! invocation span. Nothing logs a token or an email body.

use tracing_subscriber::filter::LevelFilter;

/// An error and all its sources on one line, for the log.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Installs the JSON subscriber. Level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` (a plain level:
/// trace, debug, info, warn, error, off), default info.
pub fn init() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(level(
            std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).ok(),
        ))
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .try_init();
}

/// The level a variable names; anything unreadable means info. Lambda spells WARN where tracing
/// accepts it too, and FATAL, which tracing has not, means error.
fn level(value: Option<String>) -> LevelFilter {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        Some("fatal") => LevelFilter::ERROR,
        Some(v) => v.parse().unwrap_or(LevelFilter::INFO),
        None => LevelFilter::INFO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_log_levels_map_to_tracing_levels() {
        assert_eq!(level(Some("DEBUG".into())), LevelFilter::DEBUG);
        assert_eq!(level(Some("WARN".into())), LevelFilter::WARN);
        assert_eq!(level(Some("FATAL".into())), LevelFilter::ERROR);
        assert_eq!(level(Some("nonsense".into())), LevelFilter::INFO);
        assert_eq!(level(None), LevelFilter::INFO);
    }
}
