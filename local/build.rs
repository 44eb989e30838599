//! Writes the router's dispatch to the HTTP functions (`$OUT_DIR/dispatch.rs`): every function
//! crate this crate depends on whose library has the API's handler signature,
//! `pub async fn handle(api: &Api, req: Request)`, gets its arm. A new endpoint therefore needs
//! no edit here: its dependency line in `Cargo.toml` is enough. The few functions that need more
//! than `Api` (the cloud, the service's identity, the document) keep hand-written arms in
//! `src/router.rs`.

use std::path::Path;

const SIGNATURE: &str = "pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error>";

fn main() {
    // Read when the script runs, not when it was compiled: a build script binary is reused
    // across checkouts that share a target directory.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let manifest = Path::new(&manifest_dir);
    let functions = manifest.join("../functions");
    println!("cargo:rerun-if-changed=Cargo.toml");
    let cargo_toml = std::fs::read_to_string(manifest.join("Cargo.toml")).expect("local/Cargo.toml");
    let mut arms = Vec::new();
    let mut in_dependencies = false;
    for line in cargo_toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if !in_dependencies {
            continue;
        }
        let Some(name) = line.split(['.', '=', ' ']).next().filter(|n| !n.is_empty()) else { continue };
        let lib = functions.join(name).join("src/lib.rs");
        if !lib.exists() {
            continue;
        }
        println!("cargo:rerun-if-changed={}", lib.display());
        let source = std::fs::read_to_string(&lib).expect("a function's lib.rs");
        if source.lines().any(|l| l.trim().strip_suffix(" {") == Some(SIGNATURE)) {
            let ident = name.replace('-', "_");
            arms.push(format!("        {name:?} => {ident}::handle(api, request).await,\n"));
        }
    }
    let code = format!(
        "/// `request` answered by `function` when it is a linked function with the API handler's\n\
         /// signature, and by the fallback (route-not-found) otherwise.\n\
         async fn dispatch_api(\n    api: &orgs::Api,\n    function: &str,\n    request: lambda_http::Request,\n\
         ) -> Result<lambda_http::Response<lambda_http::Body>, lambda_http::Error> {{\n    match function {{\n{}        _ => route_not_found::handle(request).await,\n    }}\n}}\n",
        arms.concat(),
    );
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("dispatch.rs");
    std::fs::write(out, code).expect("writing dispatch.rs");
}
