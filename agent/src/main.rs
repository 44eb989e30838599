//! `orgs-agent`: runs until SIGTERM (systemd's stop) or SIGINT; `orgs-agent --once` catches up
//! once and exits (0 when every record applied, 1 otherwise), for a first boot's readiness check
//! and for the tests.

use std::process::ExitCode;

use orgs_agent::{Agent, Config};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let _ = tracing_subscriber::fmt().json().with_target(false).with_ansi(false).try_init();
    let once = std::env::args().skip(1).any(|a| a == "--once");
    let agent = match Config::from_env().and_then(Agent::new) {
        Ok(agent) => agent,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            return ExitCode::from(2);
        }
    };
    if once {
        return match agent.round().await {
            Ok(round) if round.failed == 0 => {
                tracing::info!(applied = round.applied, position = round.position, "caught up");
                ExitCode::SUCCESS
            }
            Ok(round) => {
                tracing::warn!(
                    applied = round.applied,
                    failed = round.failed,
                    position = round.position,
                    "caught up with failures"
                );
                ExitCode::FAILURE
            }
            Err(e) => {
                tracing::error!(error = %e, "round failed");
                ExitCode::FAILURE
            }
        };
    }
    let stop = async {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    agent.run(stop).await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
}
