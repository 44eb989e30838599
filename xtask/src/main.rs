//! Project commands, run as `cargo xtask <command>`:
//!
//! - `dev [--api-port N] [--emulator-port N] [--issuer-port N]`: the local stack (emulator, table,
//!   API router, stream pump, JWKS) on 127.0.0.1.
//! - `token <email>`: registers the user on the running dev stack if new and prints a bearer token.
//! - `event <function|all> --as <email>`: writes `.local/events/<function>.json`, an event ready for
//!   `cargo lambda invoke`, with a fresh token and ids that exist on the running dev stack.
//! - `test`: installs the pinned emulator if missing, checks formatting and clippy, runs every test
//!   in the workspace, and lints `infra/template.yaml` with cfn-lint.
//!
//! - `contract [--max-examples N] [--seed N] [-- <schemathesis options>]`: only the contract test
//!   (schemathesis against a fresh, seeded local stack), which `test` also runs.
//! - `web`: installs the dashboard's pinned npm packages (`npm ci`) and builds `web/dist`.
//! - `browser [-- <node --test options>]`: only the browser tests (Debian's Chromium against a fresh
//!   local stack serving the built dashboard), which `test` also runs.
//!
//! - `bench`: builds the release binaries (and the arm64 ones, with cargo lambda from the pinned
//!   bench requirements), then measures size, cold start, peak RSS, round trips and mutations per
//!   second, prints the table and writes it into the README. Not a test: nothing depends on timing.
//!
//! - `agent`: builds the node agent for release as one static binary (glibc's static libc, so it
//!   runs on any x86_64 Linux image), checks that it is static, and prints its SHA-256 and where
//!   to upload it (the template's `AgentArtifactsBucket`, `AgentSha256`).
//!
//! Standard library only, so that it builds in seconds.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <dev [--api-port N] [--emulator-port N] [--issuer-port N] [--dashboard-port N] | token <email> | event <function|all> --as <email> | test | contract [--max-examples N] [--seed N] | web | browser | bench [--no-arm64] | agent>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dev") => {
            ensure_venv().and_then(|venv| build_web().map(|()| venv)).and_then(|venv| dev(&venv, &args[1..]))
        }
        Some("token") if args.len() == 2 => {
            ensure_venv().and_then(|venv| local_stack(&venv, "token", &args[1..], true))
        }
        Some("event") if args.len() == 4 && args[2] == "--as" => {
            ensure_venv().and_then(|venv| local_stack(&venv, "event", &args[1..], true))
        }
        Some("test") => test(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("agent") => release_agent(),
        Some("contract") => ensure_venv().and_then(|venv| contract(&venv, &args[1..])),
        Some("web") => build_web(),
        Some("browser") => ensure_venv().and_then(|venv| browser(&venv, &args[1..])),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Cargo for every dev-profile build (tests, the local stack, the contract and browser runs):
/// the workspace's own crates are compiled by clippy's driver with `-D warnings`, so one build
/// both lints and produces the binaries the tests run. `cargo clippy` would compile the whole
/// dependency tree a second time in check mode (about 300 s of a clean CI run). Clippy's lints
/// are the same; its driver builds MIR without optimisation, which the dev profile barely does
/// anyway. Release builds (`bench`, `agent`) use plain rustc. Cargo hashes the wrapper into the
/// artifacts' names, so a plain `cargo build` beside this one does not rebuild either.
fn dev_cargo() -> Command {
    let mut cmd = Command::new(cargo());
    match clippy_driver() {
        Ok(driver) => {
            cmd.env("RUSTC_WORKSPACE_WRAPPER", driver)
                .env("CLIPPY_ARGS", "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__");
        }
        Err(e) => eprintln!("xtask: building without clippy's lints: {e}"),
    }
    cmd
}

/// The toolchain's `clippy-driver`, beside its `rustc`.
fn clippy_driver() -> Result<PathBuf, String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let out = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run {rustc}: {e}"))?;
    let driver = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("bin/clippy-driver");
    if driver.is_file() {
        Ok(driver)
    } else {
        Err(format!("{} is missing (`rustup component add clippy`)", driver.display()))
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{cmd:?} failed ({status})")) }
}

/// Creates `.venv` with the pinned emulator and linter unless it already holds exactly them.
fn ensure_venv() -> Result<PathBuf, String> {
    let root = root();
    let venv = root.join(".venv");
    let requirements = root.join("local/emulator/requirements.txt");
    let constraints = root.join("local/emulator/constraints.txt");
    let read = |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
    let wanted = format!("{}{}", read(&requirements)?, read(&constraints)?);
    let stamp = venv.join(".installed-requirements");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str())
        && venv.join("bin/python").exists()
    {
        return Ok(venv);
    }
    eprintln!("xtask: installing the pinned emulator, linter and fuzzer into {}", venv.display());
    if !venv.join("bin/python").exists() {
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
        run(Command::new(python).args(["-m", "venv"]).arg(&venv))?;
    }
    run(Command::new(venv.join("bin/python"))
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements)
        .arg("-c")
        .arg(&constraints))?;
    std::fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
    Ok(venv)
}

fn local_stack(venv: &Path, command: &str, args: &[String], quiet: bool) -> Result<(), String> {
    let mut cmd = dev_cargo();
    cmd.current_dir(root()).args(["run", "--package", "local-stack", "--bin", "local-stack"]);
    if quiet {
        cmd.arg("--quiet");
    }
    run(cmd.arg("--").arg(command).args(args).env("ORGS_VENV", venv))
}

/// The dev stack, in this process's place (`cargo run` replaces itself with the binary too): the
/// PID that `cargo xtask dev` started under is the stack's, so one kill stops it, and the emulator
/// it started follows it.
fn dev(venv: &Path, args: &[String]) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    // The node agent the dev stack runs for every node of a managed cluster.
    let built = dev_cargo()
        .current_dir(root())
        .args(["build", "--package", "orgs-agent"])
        .status()
        .map_err(|e| format!("cargo build -p orgs-agent: {e}"))?;
    if !built.success() {
        return Err("the node agent did not build".into());
    }
    let mut cmd = dev_cargo();
    cmd.current_dir(root())
        .args(["run", "--package", "local-stack", "--bin", "local-stack", "--", "dev"])
        .args(args)
        .env("ORGS_VENV", venv);
    Err(format!("cannot start the dev stack: {}", cmd.exec()))
}

/// The contract test: schemathesis against a fresh local stack (`local-stack contract`).
fn contract(venv: &Path, args: &[String]) -> Result<(), String> {
    eprintln!("xtask: the contract test (schemathesis against the OpenAPI document)");
    let started = std::time::Instant::now();
    local_stack(venv, "contract", args, true)?;
    eprintln!("xtask: the API keeps its contract ({} s)", started.elapsed().as_secs());
    Ok(())
}

/// `npm ci` in `web/` unless `node_modules` already holds exactly the lockfile's packages.
fn ensure_web_packages() -> Result<PathBuf, String> {
    let web = root().join("web");
    let lock = std::fs::read_to_string(web.join("package-lock.json"))
        .map_err(|e| format!("web/package-lock.json: {e}"))?;
    let stamp = web.join("node_modules/.installed-lock");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(lock.as_str()) {
        return Ok(web);
    }
    eprintln!("xtask: installing the dashboard's pinned npm packages (npm ci)");
    run(Command::new("npm").current_dir(&web).args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]))
        .map_err(|e| format!("{e}: the dashboard needs Node.js 20 and npm"))?;
    std::fs::write(&stamp, lock).map_err(|e| e.to_string())?;
    Ok(web)
}

/// Builds the dashboard into `web/dist` (what is deployed) and prints its size.
fn build_web() -> Result<(), String> {
    let web = ensure_web_packages()?;
    run(Command::new("npm").current_dir(&web).args(["run", "--silent", "build"]))
}

/// The dashboard's tests: its unit tests under Node.js, then the browser tests.
fn browser(venv: &Path, args: &[String]) -> Result<(), String> {
    build_web()?;
    let web = root().join("web");
    eprintln!("xtask: the dashboard's unit tests");
    run(Command::new("node").current_dir(&web).args(["--test", "test/unit.test.mjs"]))?;
    eprintln!("xtask: the browser tests (Chromium against a fresh local stack)");
    let started = std::time::Instant::now();
    local_stack(venv, "browser", args, true)?;
    eprintln!("xtask: the dashboard works in the browser ({} s)", started.elapsed().as_secs());
    Ok(())
}

/// How long each phase of `cargo xtask test` took, printed as a table at the end (the README's CI
/// table is made from it).
#[derive(Default)]
struct Phases(Vec<(&'static str, std::time::Duration)>);

impl Phases {
    fn time<T>(&mut self, name: &'static str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
        let started = std::time::Instant::now();
        let out = f();
        self.0.push((name, started.elapsed()));
        out
    }

    fn print(&self) {
        let total: std::time::Duration = self.0.iter().map(|(_, d)| *d).sum();
        eprintln!("xtask: phases (seconds)");
        for (name, took) in &self.0 {
            eprintln!("xtask:   {:>6.0}  {name}", took.as_secs_f64());
        }
        eprintln!("xtask:   {:>6.0}  total", total.as_secs_f64());
    }
}

fn test(extra: &[String]) -> Result<(), String> {
    let mut phases = Phases::default();
    let result = test_phases(extra, &mut phases);
    phases.print();
    result
}

fn test_phases(extra: &[String], phases: &mut Phases) -> Result<(), String> {
    let root = root();
    run(Command::new(cargo()).current_dir(&root).args(["fmt", "--all", "--", "--check"]))
        .map_err(|e| format!("{e}: run `cargo fmt --all`"))?;
    let driver = clippy_driver()?;
    // xtask itself is built by `cargo xtask` with plain rustc: linted on its own (it has no
    // dependencies, so this takes seconds).
    run(Command::new(cargo()).current_dir(&root).args([
        "clippy",
        "--package",
        "xtask",
        "--all-targets",
        "--quiet",
        "--",
        "-D",
        "warnings",
    ]))?;
    // Everything else is built once, by clippy's driver: the lints of every target and the
    // binaries and test executables the phases below run. Meanwhile the pinned virtualenv (and,
    // for a whole run, the dashboard's npm packages) install: one waits on the CPU, the other on
    // the network.
    let whole = extra.is_empty();
    let (venv, built) = std::thread::scope(|scope| {
        let venv = scope.spawn(move || {
            let started = std::time::Instant::now();
            let venv = ensure_venv()?;
            if whole {
                ensure_web_packages()?;
            }
            Ok::<_, String>((venv, started.elapsed()))
        });
        let built = phases.time("build and lint (clippy's driver), installs beside it", || {
            eprintln!("xtask: building every target with {} (-D warnings)", driver.display());
            run(dev_cargo().current_dir(&root).args([
                "build",
                "--workspace",
                "--exclude",
                "xtask",
                "--all-targets",
                "--quiet",
            ]))
        });
        (venv.join(), built)
    });
    let (venv, took) = venv.map_err(|_| "the virtualenv's installer panicked".to_owned())??;
    eprintln!("xtask: the virtualenv and packages were ready after {} s, beside the build", took.as_secs());
    built?;
    let totals = if extra.is_empty() {
        split_tests(&root, &venv, phases)?
    } else {
        cargo_test(
            dev_cargo()
                .current_dir(&root)
                .args(["test", "--workspace", "--exclude", "xtask"])
                .args(extra)
                .env("ORGS_VENV", &venv),
        )?
    };
    if extra.is_empty() {
        phases.time("contract test", || contract(&venv, &[]))?;
        phases.time("dashboard (build, unit and browser tests)", || browser(&venv, &[]))?;
    }
    eprintln!("xtask: linting infra/template.yaml with cfn-lint");
    phases.time("cfn-lint", || {
        run(Command::new(venv.join("bin/cfn-lint")).current_dir(&root).arg("infra/template.yaml"))
    })?;
    eprintln!("xtask: the template lints clean");
    // One line that sums up every test binary (cargo prints one result line per binary).
    println!("tests: {} passed, {} failed, {} skipped", totals.passed, totals.failed, totals.ignored);
    if totals.passed == 0 {
        return Err("no test ran".to_owned());
    }
    Ok(())
}

/// Modules of the integration tests that run in a process of their own (with its own emulator):
/// the emulator serves one request at a time, so two processes use both cores. The split is by
/// measured time: `--report-time` on 2026-12-03 gave 911 s and 935 s of test time, the IAM
/// check's own scenario (322 s) in the first; it now reads the whole suite's calls instead (see
/// [`IAM_CHECK`]), and the authorization test grew by four key columns. A clean run with
/// `cluster_users::` here too took 527 s and 393 s; it went back.
const FIRST_HALF: &[&str] = &[
    "authorization::",
    "pages::",
    "delivery::",
    "local_events::",
    "round_trips::",
    "iam::",
    "service_accounts::",
    "webhooks::",
    "ec2_query::",
];

/// The IAM conformance check. In a whole run it does not run its own scenario (29 tests run a
/// second time): both halves' emulators record every call to a file (`ORGS_RECORD_CALLS`), and
/// the check reads them all once both are done (`ORGS_IAM_CALLS_FROM`), so it sees every call
/// the suite made.
const IAM_CHECK: &str =
    "iam::every_aws_call_a_function_makes_is_granted_by_its_policy_and_every_grant_is_used";

/// Runs the unit tests, then the integration tests as two processes at once, and checks that
/// the two halves ran every integration test exactly once.
fn split_tests(root: &Path, venv: &Path, phases: &mut Phases) -> Result<Totals, String> {
    let mut totals = phases.time("unit tests (build and run)", || {
        cargo_test(
            dev_cargo()
                .current_dir(root)
                .args(["test", "--workspace", "--exclude", "xtask", "--exclude", "integration-tests"])
                .env("ORGS_VENV", venv),
        )
    })?;
    let started = std::time::Instant::now();
    let output = dev_cargo()
        .current_dir(root)
        .args(["test", "-p", "integration-tests", "--test", "it", "--no-run", "--message-format=json"])
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot build the integration tests: {e}"))?;
    if !output.status.success() {
        return Err("building the integration tests failed".to_owned());
    }
    phases.0.push(("build the integration tests", started.elapsed()));
    let text = String::from_utf8_lossy(&output.stdout);
    let binary = text
        .lines()
        .filter(|l| l.contains("\"reason\":\"compiler-artifact\"") && l.contains("\"name\":\"it\""))
        .find_map(|l| l.split("\"executable\":\"").nth(1)?.split('"').next().map(PathBuf::from))
        .ok_or("the integration test binary was not found in cargo's output")?;
    let listed = Command::new(&binary)
        .args(["--list", "--format", "terse"])
        .current_dir(root.join("tests"))
        .output()
        .map_err(|e| format!("cannot list the integration tests: {e}"))?;
    let expected =
        String::from_utf8_lossy(&listed.stdout).lines().filter(|l| l.ends_with(": test")).count() as u64;
    let record = root.join("target/iam-calls");
    let _ = std::fs::remove_dir_all(&record);
    std::fs::create_dir_all(&record).map_err(|e| format!("{}: {e}", record.display()))?;
    let mut first = Command::new(&binary);
    first
        .current_dir(root.join("tests"))
        .env("ORGS_VENV", venv)
        .env("ORGS_RECORD_CALLS", record.join("first.jsonl"))
        .args(FIRST_HALF)
        .args(["--skip", IAM_CHECK]);
    let mut second = Command::new(&binary);
    second
        .current_dir(root.join("tests"))
        .env("ORGS_VENV", venv)
        .env("ORGS_RECORD_CALLS", record.join("second.jsonl"))
        .args(["--skip", IAM_CHECK]);
    for module in FIRST_HALF {
        second.args(["--skip", module]);
    }
    eprintln!("xtask: running the {expected} integration tests as two processes, each with its own emulator");
    let started = std::time::Instant::now();
    let (a, b) = std::thread::scope(|scope| {
        let (first, second) = (&mut first, &mut second);
        let a = scope.spawn(move || (cargo_test(first), started.elapsed()));
        let b = scope.spawn(move || (cargo_test(second), started.elapsed()));
        (a.join(), b.join())
    });
    let (a, a_took) = a.map_err(|_| "the first half's runner panicked")?;
    let (b, b_took) = b.map_err(|_| "the second half's runner panicked")?;
    eprintln!("xtask: the integration tests' halves took {} s and {} s", a_took.as_secs(), b_took.as_secs());
    phases.0.push(("integration tests (two halves at once)", a_took.max(b_took)));
    let (a, b) = (a?, b?);
    eprintln!("xtask: the IAM check, over every call both halves made");
    let started = std::time::Instant::now();
    let iam = cargo_test(
        Command::new(&binary)
            .current_dir(root.join("tests"))
            .env("ORGS_IAM_CALLS_FROM", &record)
            .args([IAM_CHECK, "--exact"]),
    )?;
    phases.0.push(("the IAM check over the suite's calls", started.elapsed()));
    let ran = a.passed + a.failed + a.ignored + b.passed + b.failed + b.ignored + iam.passed + iam.failed;
    if ran != expected {
        return Err(format!("the two halves ran {ran} integration tests, not the {expected} listed"));
    }
    for half in [a, b, iam] {
        totals.passed += half.passed;
        totals.failed += half.failed;
        totals.ignored += half.ignored;
    }
    Ok(totals)
}

#[derive(Default)]
struct Totals {
    passed: u64,
    failed: u64,
    ignored: u64,
}

/// Runs `cargo test`, passing its output through, and adds up its `test result:` lines.
fn cargo_test(cmd: &mut Command) -> Result<Totals, String> {
    use std::io::{BufRead, BufReader};
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    let mut totals = Totals::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                let count = |word: &str| {
                    rest.split(';')
                        .find_map(|part| {
                            part.trim().strip_suffix(word)?.split_whitespace().last()?.parse::<u64>().ok()
                        })
                        .unwrap_or(0)
                };
                totals.passed += count("passed");
                totals.failed += count("failed");
                totals.ignored += count("ignored");
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() { Ok(totals) } else { Err(format!("cargo test failed ({status})")) }
}

/// The release binaries measured: every function and the two baselines.
fn release_packages() -> Result<Vec<String>, String> {
    let mut packages: Vec<String> = std::fs::read_dir(root().join("functions"))
        .map_err(|e| format!("functions/: {e}"))?
        .filter_map(|e| e.ok())
        // A function crate without `main.rs` is a library another function calls.
        .filter(|e| e.path().join("src/main.rs").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    packages.sort();
    packages.extend(["hello-http".to_owned(), "hello-sdk".to_owned()]);
    Ok(packages)
}

fn bench(args: &[String]) -> Result<(), String> {
    let venv = ensure_venv()?;
    let root = root();
    let packages = release_packages()?;
    let mut build = Command::new(cargo());
    build.current_dir(&root).args(["build", "--release"]);
    for p in &packages {
        build.args(["-p", p]);
    }
    eprintln!("xtask: building the release binaries (fat LTO links each one on its own: minutes)");
    run(&mut build)?;

    let arm64_dir = root.join("target/lambda");
    // `--no-arm64`: the x86_64 figures alone (the cross build with cargo lambda and Zig takes
    // about as long again).
    let arm64 = if args.iter().any(|a| a == "--no-arm64") {
        Err("--no-arm64".to_owned())
    } else {
        arm64_build(&venv, &root, &packages)
    };
    if let Err(e) = &arm64 {
        eprintln!("xtask: arm64 sizes will be missing: {e}");
    }
    let mut cmd = dev_cargo();
    cmd.current_dir(&root)
        .args([
            "run",
            "--quiet",
            "--package",
            "local-stack",
            "--bin",
            "local-stack",
            "--",
            "bench",
            "--bin-dir",
        ])
        .arg(root.join("target/release"))
        .env("ORGS_VENV", &venv);
    if arm64.is_ok() {
        cmd.arg("--arm64-dir").arg(&arm64_dir);
    }
    run(&mut cmd)
}

/// `cargo lambda build --release --arm64` for every measured binary, with cargo-lambda (and the
/// Zig it cross-links with) from the pinned bench requirements.
fn arm64_build(venv: &Path, root: &Path, packages: &[String]) -> Result<(), String> {
    let requirements = root.join("xtask/bench-requirements.txt");
    run(Command::new(venv.join("bin/python"))
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements))?;
    run(Command::new("rustup").args(["target", "add", "aarch64-unknown-linux-gnu"]))?;
    let path = format!("{}:{}", venv.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new(venv.join("bin/cargo-lambda"));
    cmd.current_dir(root).env("PATH", path).args(["lambda", "build", "--release", "--arm64"]);
    for p in packages {
        cmd.args(["--package", p]);
    }
    eprintln!("xtask: building the arm64 binaries with cargo lambda");
    run(&mut cmd)
}

/// `cargo xtask agent`: the node agent as cluster instances download it.
fn release_agent() -> Result<(), String> {
    const TARGET: &str = "x86_64-unknown-linux-gnu";
    let target_dir = root().join("target/agent");
    let status = Command::new(cargo())
        .current_dir(root())
        .args(["build", "--release", "--package", "orgs-agent", "--target", TARGET])
        .arg("--target-dir")
        .arg(&target_dir)
        // Static: with an explicit target, the flag reaches the agent and not build scripts.
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err("the agent did not build".into());
    }
    let binary = target_dir.join(TARGET).join("release/orgs-agent");
    let ldd = Command::new("ldd").arg(&binary).output().map_err(|e| format!("ldd: {e}"))?;
    let said = format!("{}{}", String::from_utf8_lossy(&ldd.stdout), String::from_utf8_lossy(&ldd.stderr));
    if !(said.contains("not a dynamic executable") || said.contains("statically linked")) {
        return Err(format!("{} is not static:\n{said}", binary.display()));
    }
    let sum = Command::new("sha256sum").arg(&binary).output().map_err(|e| format!("sha256sum: {e}"))?;
    let sha = String::from_utf8_lossy(&sum.stdout).split_whitespace().next().unwrap_or_default().to_owned();
    let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
    println!("{} ({size} bytes, static)\nSHA-256: {sha}", binary.display());
    println!(
        "Release: aws s3 cp {} s3://<AgentArtifactsBucket>/agent/{sha}/orgs-agent, then deploy with AgentSha256={sha}",
        binary.display()
    );
    Ok(())
}
