//! `cargo xtask bench`: what the release binaries cost, measured here.
//!
//! - Size: the stripped binary.
//! - Cold start: each binary is spawned against a local Lambda Runtime API (the same routes
//!   Lambda serves) with the environment the dev stack gives the functions; init is spawn to the
//!   first `GET /next`, first response is spawn to the answer of the first event. The event is
//!   the one `cargo xtask event` generates (a real token, real ids), answered against the emulator.
//!   Median of `cold_starts` spawns.
//! - Peak RSS: `VmHWM` after `warm` invocations of one process.
//! - Beside two baselines built with the same profile: a plain `lambda_http` hello, and one that
//!   also builds the SDK configuration and a DynamoDB client at init.
//! - Mutations per second through the local stack (its router, the functions' handlers, the
//!   emulator): invitations from eight organizations on an empty table and at 3,000 items, and
//!   from one organization (whose parallel invitations race for its rate logs).
//!
//! Nothing here is a test: no figure passes or fails anything.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::{Stack, StackOptions};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub struct BenchOptions {
    pub bin_dir: PathBuf,
    pub arm64_dir: Option<PathBuf>,
    pub cold_starts: usize,
    pub warm: usize,
    /// Measure only these binaries (`--only a,b`; every one when empty): for a quick look, not
    /// for the README.
    pub only: Vec<String>,
}

/// One binary's figures.
#[derive(Debug, Clone)]
pub struct Figures {
    pub name: String,
    pub size: u64,
    pub arm64_size: Option<u64>,
    pub init: Duration,
    pub first_response: Duration,
    pub peak_rss_kib: u64,
    pub failed_starts: usize,
}

#[derive(Default)]
struct RuntimeState {
    event: Value,
    served: u64,
    responses: u64,
    first_next: Option<Instant>,
    first_response: Option<Instant>,
    /// The last answer: the function's response, or the error it reported (init or invocation).
    last: Option<Result<Value, Value>>,
}

/// A local Lambda Runtime API that hands out one event, as often as asked, and records when.
#[derive(Clone, Default)]
struct FakeRuntime {
    state: Arc<Mutex<RuntimeState>>,
    answered: Arc<Notify>,
}

impl FakeRuntime {
    fn reset(&self, event: Value) {
        if let Ok(mut s) = self.state.lock() {
            *s = RuntimeState { event, ..RuntimeState::default() };
        }
    }

    fn read<T>(&self, f: impl FnOnce(&RuntimeState) -> T) -> Option<T> {
        self.state.lock().ok().map(|s| f(&s))
    }
}

async fn next(State(runtime): State<FakeRuntime>) -> impl IntoResponse {
    let event = {
        let Ok(mut s) = runtime.state.lock() else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        s.served += 1;
        s.first_next.get_or_insert_with(Instant::now);
        s.event.clone()
    };
    let mut headers = HeaderMap::new();
    let deadline = (time::OffsetDateTime::now_utc().unix_timestamp() + 30) * 1000;
    let pairs = [
        ("lambda-runtime-aws-request-id", uuid::Uuid::new_v4().to_string()),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:123456789012:function:bench".into(),
        ),
        ("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0".into()),
    ];
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    (headers, axum::Json(event)).into_response()
}

/// A response or an error: either way the binary answered.
fn answered(runtime: &FakeRuntime) -> StatusCode {
    if let Ok(mut s) = runtime.state.lock() {
        s.responses += 1;
        s.first_response.get_or_insert_with(Instant::now);
    }
    runtime.answered.notify_waiters();
    StatusCode::ACCEPTED
}

async fn response(State(runtime): State<FakeRuntime>, body: axum::body::Bytes) -> StatusCode {
    if let Ok(mut s) = runtime.state.lock() {
        s.last = Some(Ok(serde_json::from_slice(&body).unwrap_or(Value::Null)));
    }
    answered(&runtime)
}

async fn error(State(runtime): State<FakeRuntime>, body: axum::body::Bytes) -> StatusCode {
    if let Ok(mut s) = runtime.state.lock() {
        s.last = Some(Err(serde_json::from_slice(&body).unwrap_or(Value::Null)));
    }
    answered(&runtime)
}

async fn start_runtime() -> Result<(FakeRuntime, String), BoxError> {
    let runtime = FakeRuntime::default();
    let app = axum::Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(error))
        .with_state(runtime.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?.to_string();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((runtime, address))
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmHWM:").and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
        })
        .unwrap_or(0)
}

/// Waits until `runtime` has seen `responses` answers, or `limit` passes.
async fn until_answered(runtime: &FakeRuntime, responses: u64, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        let notified = runtime.answered.notified();
        if runtime.read(|s| s.responses >= responses).unwrap_or(false) {
            return true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
            return runtime.read(|s| s.responses >= responses).unwrap_or(false);
        }
    }
}

/// `binary` as Lambda starts it: the function's environment and the Runtime API at `address`.
fn lambda_command(
    binary: &Path,
    name: &str,
    env: &[(String, String)],
    address: &str,
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(binary);
    cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", address)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_LEVEL", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    cmd
}

async fn measure(
    binary: &Path,
    name: &str,
    event: &Value,
    env: &[(String, String)],
    options: &BenchOptions,
) -> Result<Figures, BoxError> {
    let (runtime, address) = start_runtime().await?;
    let spawn = || lambda_command(binary, name, env, &address);
    let (mut inits, mut firsts, mut failed) = (Vec::new(), Vec::new(), 0);
    for _ in 0..options.cold_starts {
        // Each start on a quiet machine: the previous answer's work (the emulator's, the
        // issuer's) may still hold a core for a moment, which a 2-core machine would otherwise
        // charge to this start.
        tokio::time::sleep(SETTLE).await;
        runtime.reset(event.clone());
        let started = Instant::now();
        let mut child = spawn().spawn()?;
        let ok = until_answered(&runtime, 1, Duration::from_secs(20)).await;
        let _ = child.kill().await;
        match runtime.read(|s| (s.first_next, s.first_response)) {
            Some((Some(next), Some(answer))) if ok => {
                inits.push(next - started);
                firsts.push(answer - started);
            }
            _ => failed += 1,
        }
    }
    runtime.reset(event.clone());
    let mut child = spawn().spawn()?;
    until_answered(&runtime, options.warm as u64, Duration::from_secs(120)).await;
    let rss = child.id().map(peak_rss_kib).unwrap_or(0);
    let _ = child.kill().await;
    Ok(Figures {
        name: name.to_owned(),
        size: std::fs::metadata(binary)?.len(),
        arm64_size: options
            .arm64_dir
            .as_ref()
            .and_then(|d| std::fs::metadata(d.join(name).join("bootstrap")).ok())
            .map(|m| m.len()),
        init: median(inits),
        first_response: median(firsts),
        peak_rss_kib: rss,
        failed_starts: failed,
    })
}

/// Starts `binary` as Lambda would (its `main`, the environment `env`, a local Runtime API) and
/// hands it `event`: its response, or the error it reported (at init or for the event); `None`
/// when it exited without a word (a `main` that fails before the runtime starts) or said nothing
/// within 30 s.
pub async fn invoke_binary(
    binary: &Path,
    name: &str,
    event: &Value,
    env: &[(String, String)],
) -> Result<Option<Result<Value, Value>>, BoxError> {
    let (runtime, address) = start_runtime().await?;
    runtime.reset(event.clone());
    let mut child = lambda_command(binary, name, env, &address).spawn()?;
    tokio::select! {
        _ = until_answered(&runtime, 1, Duration::from_secs(30)) => {}
        _ = child.wait() => {}
    }
    let _ = child.kill().await;
    Ok(runtime.read(|s| s.last.clone()).flatten())
}

/// Invitations per second through the stack's API, 8 at a time, after `fill` unrelated items.
async fn mutations_per_second(
    sdk: &aws_config::SdkConfig,
    fill: usize,
    organizations: usize,
) -> Result<f64, BoxError> {
    // Rate limits raised past the count (for the one-organization run), so every invitation still
    // reads and writes its logs.
    let limits = orgs::config::Limits {
        invitations_per_org: INVITATIONS,
        invitations_per_inviter: INVITATIONS,
        ..Default::default()
    };
    let stack = Stack::start(sdk, StackOptions { pump: false, limits, ..StackOptions::for_test() }).await?;
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    for chunk in (0..fill).collect::<Vec<_>>().chunks(25) {
        let writes = chunk
            .iter()
            .map(|i| {
                let item = aws_sdk_dynamodb::types::PutRequest::builder()
                    .item(
                        orgs::store::schema::PK,
                        aws_sdk_dynamodb::types::AttributeValue::S(format!("FILL#{i}")),
                    )
                    .item(orgs::store::schema::SK, aws_sdk_dynamodb::types::AttributeValue::S("FILL".into()))
                    .build()?;
                Ok(aws_sdk_dynamodb::types::WriteRequest::builder().put_request(item).build())
            })
            .collect::<Result<Vec<_>, BoxError>>()?;
        dynamodb.batch_write_item().request_items(&stack.options.table, writes).send().await?;
    }
    let context = stack.event_context(sdk);
    let mut senders = Vec::new();
    for _ in 0..organizations {
        let email = format!("owner-{}@example.com", uuid::Uuid::new_v4().simple());
        let owner = context.ensure_user(&orgs::domain::Email::parse(&email)?).await?;
        let token = stack.issuer.token(owner.user_id.as_str(), owner.email.as_str());
        let path = format!("{}/v1/organizations/{}/invitations", stack.api_url, owner.personal_org_id);
        senders.push((path, token));
    }
    let client = reqwest::Client::new();
    let total = INVITATIONS;
    let started = Instant::now();
    let mut pending = futures::stream::FuturesUnordered::new();
    let mut created = 0;
    for i in 0..total {
        let (path, token) = &senders[i % senders.len()];
        let request = client
            .post(path)
            .bearer_auth(token)
            .json(&json!({ "email": format!("m{i}@example.com") }))
            .send();
        pending.push(request);
        if pending.len() >= LANES {
            created += finish(pending.next().await).await?;
        }
    }
    while !pending.is_empty() {
        created += finish(pending.next().await).await?;
    }
    if created != total {
        return Err(
            format!("{} of {total} invitations were refused during the benchmark", total - created).into()
        );
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// The pause before each measured start.
const SETTLE: Duration = Duration::from_millis(250);

/// Invitations in flight at once.
const LANES: usize = 8;

/// The invitations one organization sends for the mutation rate.
const INVITATIONS: usize = 200;

/// 1 when a finished invitation request was created, 0 when refused.
async fn finish(done: Option<Result<reqwest::Response, reqwest::Error>>) -> Result<usize, BoxError> {
    match done {
        Some(response) => Ok(usize::from(response?.status() == reqwest::StatusCode::CREATED)),
        None => Ok(0),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Runs everything and returns the Markdown the README shows.
pub async fn run(options: BenchOptions) -> Result<String, BoxError> {
    let emulator = crate::emulator::Emulator::start(None).await?;
    let sdk = emulator.sdk_config().await;
    let stack = Stack::start(&sdk, StackOptions { pump: false, ..StackOptions::for_test() }).await?;
    let env: Vec<(String, String)> = stack
        .env_file(&emulator.endpoint)
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let context = stack.event_context(&sdk);
    let caller = orgs::domain::Email::parse("bench@example.com")?;

    let mut figures = Vec::new();
    let baseline_event = context.event("get-me", &caller).await?;
    let wanted = |name: &str| options.only.is_empty() || options.only.iter().any(|o| o == name);
    for name in ["hello-http", "hello-sdk"].into_iter().filter(|n| wanted(n)) {
        eprintln!("bench: {name}");
        figures.push(measure(&options.bin_dir.join(name), name, &baseline_event, &env, &options).await?);
    }
    // The deployed binaries (the followers' libraries are measured as dispatch-table-stream).
    for function in
        crate::events::functions().into_iter().filter(|f| crate::events::invoked_by(f) == *f && wanted(f))
    {
        eprintln!("bench: {function}");
        // A caller of its own: each start and warm invocation replays the event, and one
        // organization's limits (100 clusters) would refuse the next function's fixtures.
        let own = orgs::domain::Email::parse(&format!("bench-{function}@example.com"))?;
        let event = context.event(function, &own).await?;
        figures.push(measure(&options.bin_dir.join(function), function, &event, &env, &options).await?);
    }
    eprintln!("bench: round trips");
    let round_trips = crate::round_trips::measure(&stack).await?;
    eprintln!("bench: mutations per second");
    let empty = mutations_per_second(&sdk, 0, LANES).await?;
    let full = mutations_per_second(&sdk, 3000, LANES).await?;
    let one = mutations_per_second(&sdk, 0, 1).await?;

    let sdk_hello = figures.iter().find(|f| f.name == "hello-sdk").cloned().ok_or("no baseline")?;
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let date = time::OffsetDateTime::now_utc().date();
    let mut out = format!(
        "Measured by `cargo xtask bench` on {date}, {machine} ({cores} cores), x86_64 Linux, release profile. \
         Cold start: median of {} spawns against a local Runtime API; first response answers the event \
         `cargo xtask event` generates, against the emulator. Peak RSS after {} warm invocations. \
         Ratios are to `hello-sdk` (a `lambda_http` hello that builds the SDK config and a DynamoDB client).\n\n\
         | Binary | Stripped size | arm64 size | Init | × hello-sdk | First response | Peak RSS |\n|---|---|---|---|---|---|---|\n",
        options.cold_starts, options.warm
    );
    for f in &figures {
        let ratio = f.init.as_secs_f64() / sdk_hello.init.as_secs_f64().max(1e-9);
        let arm = f.arm64_size.map(|s| format!("{s}")).unwrap_or_else(|| "not built".into());
        let failed =
            if f.failed_starts > 0 { format!(" ({} starts failed)", f.failed_starts) } else { String::new() };
        out.push_str(&format!(
            "| {} | {} B | {} | {} | {:.2} | {}{} | {} KiB |\n",
            f.name,
            f.size,
            arm,
            ms(f.init),
            ratio,
            ms(f.first_response),
            failed,
            f.peak_rss_kib
        ));
    }
    out.push_str("\n| Operation | DynamoDB calls |\n|---|---|\n");
    for (operation, calls) in &round_trips {
        let calls = if calls.is_empty() { "none".to_owned() } else { calls.join(" + ") };
        out.push_str(&format!("| {operation} | {calls} |\n"));
    }
    out.push_str(&format!(
        "\nInvitations through the local stack (router, handlers, emulator), {INVITATIONS} from {LANES} organizations, \
         {LANES} at a time: {empty:.0}/s on an empty table, {full:.0}/s at 3,000 items (×{:.2}); from one \
         organization, {LANES} at a time (they race for its rate logs; its limits raised past {INVITATIONS}): \
         {one:.0}/s.\n",
        empty / full.max(1e-9)
    ));
    drop(stack);
    drop(emulator);
    Ok(out)
}
