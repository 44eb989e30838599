//! `local-stack dev`, `local-stack token <email>` and `local-stack event <function> --as <email>`:
//! what `cargo xtask dev`, `cargo xtask token` and `cargo xtask event` run. State shared between the two (the signing key and the stack's
//! addresses) lives in `.local/`, which git ignores.

use std::path::PathBuf;
use std::time::Duration;

use local_stack::emulator::{Emulator, sdk_config_for, workspace_root};
use local_stack::{SigningKey, Stack, StackOptions};
use orgs::domain::Email;
use serde::{Deserialize, Serialize};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "usage: local-stack dev [--api-port N] [--emulator-port N] [--issuer-port N] [--dashboard-port N]\n       local-stack token <email>\n       local-stack event <function|all> --as <email>\n       local-stack bench --bin-dir DIR [--arm64-dir DIR] [--readme FILE] [--only NAME,...]\n       local-stack contract [--max-examples N] [--seed N] [-- <schemathesis options>]\n       local-stack browser [--screenshots] [-- <node --test options>]";

/// What `dev` leaves for `token`.
#[derive(Serialize, Deserialize)]
struct StackState {
    api_url: String,
    emulator: String,
    issuer: String,
    table: String,
}

fn state_dir() -> PathBuf {
    workspace_root().join(".local")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dev") => dev(&args[1..]).await,
        Some("token") => match args.get(1) {
            Some(email) => token(email).await,
            None => Err(USAGE.into()),
        },
        Some("event") => event(&args[1..]).await,
        Some("bench") => bench(&args[1..]).await,
        Some("contract") => contract(&args[1..]).await,
        Some("browser") => browser(&args[1..]).await,
        _ => Err(USAGE.into()),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn port_flag(args: &[String], flag: &str, default: u16) -> Result<u16, BoxError> {
    match args.iter().position(|a| a == flag) {
        Some(i) => Ok(args.get(i + 1).ok_or(format!("{flag} needs a port"))?.parse()?),
        None => Ok(default),
    }
}

/// The dev signing key, created once and kept in `.local/` (never committed).
fn dev_key() -> Result<String, BoxError> {
    let path = state_dir().join("signing-key.pem");
    if let Ok(pem) = std::fs::read_to_string(&path) {
        return Ok(pem);
    }
    std::fs::create_dir_all(state_dir())?;
    let pem = SigningKey::generate("local-1").to_pem()?;
    std::fs::write(&path, &pem)?;
    Ok(pem)
}

async fn dev(args: &[String]) -> Result<(), BoxError> {
    if std::env::var_os("RUST_LOG").is_some() || std::env::var_os("TEST_LOG").is_some() {
        tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    } else {
        tracing_subscriber::fmt().with_env_filter("info").init();
    }
    let api_port = port_flag(args, "--api-port", 3000)?;
    let emulator_port = port_flag(args, "--emulator-port", 4566)?;
    let issuer_port = port_flag(args, "--issuer-port", 3001)?;
    let dashboard_port = port_flag(args, "--dashboard-port", 5173)?;
    let dashboard = tokio::net::TcpListener::bind(("127.0.0.1", dashboard_port)).await?;
    let dashboard_url = format!("http://{}", dashboard.local_addr()?);
    let emulator = Emulator::start(Some(emulator_port)).await?;
    let sdk = emulator.sdk_config().await;
    let options = StackOptions {
        table: "orgs-dev".into(),
        api_port: Some(api_port),
        issuer_port: Some(issuer_port),
        signing_key_pem: Some(dev_key()?),
        sender: "no-reply@orgs.local".into(),
        verify_sender: true,
        dashboard_url: dashboard_url.clone(),
        pump: true,
        // Lambda's rate for a stream's shard, and up to 2 s between polls when nothing happens:
        // an idle dev stack costs little CPU, and the first change after a pause waits at most that.
        pump_options: local_stack::pump::PumpOptions {
            poll_interval: Duration::from_millis(250),
            idle_interval: Duration::from_secs(2),
            ..Default::default()
        },
        jwks_min_refresh: Duration::from_secs(10),
        // The deployment's limits, as the functions read them from their environment.
        limits: orgs::config::Limits::from_source(&orgs::config::Env)?,
        pricing: orgs::config::Pricing::from_source(&orgs::config::Env)?,
        // What EventBridge does in AWS (the emulator's schedules never fire).
        reconcile_every: Some(Duration::from_secs(60)),
        deliver_webhooks_every: Some(Duration::from_secs(60)),
        // As deployed: only public addresses, so a webhook cannot be pointed at the machine.
        webhook_targets: orgs::domain::webhooks::Targets::PublicOnly,
    };
    let stack = Stack::start(&sdk, options).await?;
    let _dashboard =
        local_stack::dashboard::serve(dashboard, &stack, &local_stack::dashboard::default_dir(), false)?;
    let state = StackState {
        api_url: stack.api_url.clone(),
        emulator: emulator.endpoint.clone(),
        issuer: stack.issuer.url.clone(),
        table: stack.options.table.clone(),
    };
    std::fs::write(state_dir().join("stack.json"), serde_json::to_string_pretty(&state)?)?;
    let env_file = state_dir().join("functions.env");
    std::fs::write(&env_file, stack.env_file(&emulator.endpoint))?;
    // A real node agent for every node of every running managed cluster, each applying to its own
    // throwaway root under .local/nodes/ (where shadow-utils can run here).
    let nodes_dir = state_dir().join("nodes");
    let agent = workspace_root().join("target/debug/orgs-agent");
    let node_agents = match local_stack::node::Nodes::new(
        nodes_dir.clone(),
        agent,
        &stack.api_url,
        &stack.issuer.url,
    ) {
        Ok(mut nodes) => {
            let store = stack.api.store.clone();
            Some(tokio::spawn(async move {
                loop {
                    if let Err(e) = nodes.reconcile(&store).await {
                        tracing::warn!(error = %e, "node agents: could not look at the clusters; trying again");
                    }
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
            }))
        }
        Err(why) => {
            eprintln!(
                "No node agents: {why}. The dev stack carries on without them (members' accounts stay records)."
            );
            None
        }
    };
    println!(
        "\nLocal stack is up.\n  Dashboard: {dashboard_url} (sign in with any email address)\n  API:       {api}\n  Emulator:  {emu} (DynamoDB, Streams, SES; outbox at {emu}/moto-api/data.json)\n  Issuer:    {iss}/.well-known/jwks.json\n  Table:     {table}\n\nGet a token:   TOKEN=$(cargo xtask token alice@example.com)\nTry it:        curl -H \"Authorization: Bearer $TOKEN\" {api}/v1/me\nFunctions env: {env} (for cargo lambda watch --env-file)\nNode agents:   {nodes}/<cluster>/<instance>/ (root/, agent.log)\n\nCtrl-C stops everything.",
        api = stack.api_url,
        emu = emulator.endpoint,
        iss = stack.issuer.url,
        table = stack.options.table,
        env = env_file.display(),
        nodes = nodes_dir.display(),
    );
    tokio::signal::ctrl_c().await?;
    if let Some(agents) = node_agents {
        agents.abort();
    }
    drop(stack);
    drop(emulator);
    Ok(())
}

/// What generating events needs, from the running dev stack's state.
async fn context() -> Result<local_stack::events::EventContext, BoxError> {
    let state: StackState = serde_json::from_str(
        &std::fs::read_to_string(state_dir().join("stack.json"))
            .map_err(|_| "no local stack found: start it with `cargo xtask dev` in another terminal")?,
    )?;
    let key = SigningKey::from_pem("local-1", &dev_key()?)?;
    let sdk = sdk_config_for(&state.emulator).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    dynamodb.describe_table().table_name(&state.table).send().await.map_err(|_| {
        format!("the dev stack at {} does not answer: is `cargo xtask dev` running?", state.emulator)
    })?;
    Ok(local_stack::events::EventContext {
        store: orgs::store::Store::new(dynamodb.clone(), &state.table),
        dynamodb,
        streams: aws_sdk_dynamodbstreams::Client::new(&sdk),
        table: state.table,
        issuer: local_stack::Issuer::new(state.issuer, key),
        emulator: state.emulator,
    })
}

async fn token(email: &str) -> Result<(), BoxError> {
    let email = Email::parse(email).map_err(|e| format!("{e}"))?;
    let context = context().await?;
    let user = context.ensure_user(&email).await?;
    println!("{}", context.issuer.token(user.user_id.as_str(), user.email.as_str()));
    Ok(())
}

async fn event(args: &[String]) -> Result<(), BoxError> {
    let (Some(function), Some("--as"), Some(email)) =
        (args.first(), args.get(1).map(String::as_str), args.get(2))
    else {
        return Err(USAGE.into());
    };
    let email = Email::parse(email).map_err(|e| format!("{e}"))?;
    let context = context().await?;
    let functions: Vec<&str> =
        if function == "all" { local_stack::events::functions() } else { vec![function.as_str()] };
    for function in functions {
        let event = context.event(function, &email).await?;
        let path = local_stack::events::write(&state_dir().join("events"), function, &event)?;
        let shown = path.strip_prefix(workspace_root()).unwrap_or(&path).display().to_string();
        let binary = local_stack::events::invoked_by(function);
        println!("cargo lambda invoke {binary} --invoke-address 127.0.0.1 --data-file {shown}");
    }
    Ok(())
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

/// The contract test: schemathesis against a fresh, seeded stack. Fails when it finds anything.
async fn contract(args: &[String]) -> Result<(), BoxError> {
    tracing_subscriber::fmt().with_env_filter("warn").init();
    let number = |name: &str, default: u64| -> Result<u64, BoxError> {
        Ok(flag(args, name).map(str::parse).transpose()?.unwrap_or(default))
    };
    let options = local_stack::contract::ContractOptions {
        schemathesis: local_stack::contract::default_schemathesis(),
        max_examples: u32::try_from(number("--max-examples", 25)?)?,
        seed: number("--seed", 20261129)?,
        out_dir: local_stack::contract::default_out_dir(),
        extra_args: args.iter().position(|a| a == "--").map(|i| args[i + 1..].to_vec()).unwrap_or_default(),
    };
    if local_stack::contract::run(options).await? {
        Ok(())
    } else {
        Err("schemathesis found answers outside the API's contract (above; report in target/contract)".into())
    }
}

/// The browser tests: a fresh stack with its own emulator, the built dashboard on its own origin
/// (with the clock control), and `node --test web/test/browser.test.mjs` driving Debian's Chromium
/// against it. Fails when Chromium is missing, never skips.
async fn browser(args: &[String]) -> Result<(), BoxError> {
    tracing_subscriber::fmt().with_env_filter("warn").init();
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    if !std::path::Path::new(&chromium).exists() {
        return Err(format!(
            "Chromium is missing at {chromium}: the browser tests need Debian's chromium and chromium-driver (`apt-get install chromium chromium-driver`; .ci/run installs them), or CHROMIUM=/path/to/chromium"
        )
        .into());
    }
    let emulator = Emulator::start(None).await?;
    let sdk = emulator.sdk_config().await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let dashboard_url = format!("http://{}", listener.local_addr()?);
    let options = StackOptions { dashboard_url: dashboard_url.clone(), ..StackOptions::for_test() };
    let stack = Stack::start(&sdk, options).await?;
    let _dashboard =
        local_stack::dashboard::serve(listener, &stack, &local_stack::dashboard::default_dir(), true)?;
    let web = workspace_root().join("web");
    let extra = args.iter().position(|a| a == "--").map(|i| args[i + 1..].to_vec()).unwrap_or_default();
    // The screenshots go under target/, so a test run leaves the tree as it was; the README's
    // copies in web/screenshots/ are refreshed only when asked (`--screenshots`).
    let refresh = args.iter().take_while(|a| *a != "--").any(|a| a == "--screenshots");
    let shots =
        if refresh { web.join("screenshots") } else { workspace_root().join("target").join("screenshots") };
    let status = tokio::process::Command::new("node")
        .current_dir(&web)
        .args(["--test", "--test-concurrency=1"])
        .args(&extra)
        .arg("test/browser.test.mjs")
        .env("DASHBOARD_URL", &dashboard_url)
        .env("API_URL", &stack.api_url)
        .env("EMULATOR_URL", &emulator.endpoint)
        .env("CHROMIUM", &chromium)
        .env("SCREENSHOTS", &shots)
        .status()
        .await
        .map_err(|e| format!("cannot run node (Node.js 20 is needed for the browser tests): {e}"))?;
    drop(stack);
    drop(emulator);
    if status.success() { Ok(()) } else { Err(format!("the browser tests failed ({status})").into()) }
}

/// Measures the release binaries in `--bin-dir` and writes the table into the README between
/// its bench markers.
async fn bench(args: &[String]) -> Result<(), BoxError> {
    let bin_dir = flag(args, "--bin-dir").ok_or(USAGE)?;
    let options = local_stack::bench::BenchOptions {
        bin_dir: bin_dir.into(),
        arm64_dir: flag(args, "--arm64-dir").map(PathBuf::from),
        cold_starts: 25,
        warm: 100,
        only: flag(args, "--only").map(|o| o.split(',').map(str::to_owned).collect()).unwrap_or_default(),
    };
    let table = local_stack::bench::run(options).await?;
    println!("{table}");
    let readme =
        flag(args, "--readme").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("README.md"));
    let text = std::fs::read_to_string(&readme)?;
    let (start, end) = ("<!-- bench:start -->", "<!-- bench:end -->");
    match (text.find(start), text.find(end)) {
        (Some(i), Some(j)) if i < j => {
            let updated = format!("{}{start}\n{table}{}", &text[..i], &text[j..]);
            std::fs::write(&readme, updated)?;
            eprintln!("bench: wrote the table into {}", readme.display());
        }
        _ => eprintln!("bench: {} has no bench markers; the table is above", readme.display()),
    }
    Ok(())
}
