//! Every instance of a cluster boots with user data that installs and starts the node agent: read
//! back from EC2 as the customer sees it, it names the cluster and the pinned agent, holds no
//! secret, and passes cloud-init's own schema check and shellcheck (Debian's `cloud-init` and
//! `shellcheck`, which `.ci/run` installs); the agent's unit passes `systemd-analyze verify`.

use std::process::Stdio;

use base64::Engine;

use crate::cluster_users::{alice_connected, created, instances};
use crate::clusters::customer_ec2;
use orgs::cloud::ec2::query::{Params, child, text};

/// A tool the check needs, or a failure saying how to get it.
fn tool(name: &str, package: &str) -> String {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(found, "{name} is missing: apt-get install {package} (.ci/run installs it)");
    name.to_owned()
}

/// Runs a checker and fails with what it said (and what it checked) unless it accepts.
fn accepts(command: &mut std::process::Command, checked: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{command:?} runs: {e}"));
    assert!(
        output.status.success(),
        "{command:?} refused it:\n{}{}\n{checked}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The file cloud-init writes at `path`: the block under it in `write_files`, unindented.
fn written(data: &str, path: &str) -> String {
    data.split(&format!("path: {path}"))
        .nth(1)
        .and_then(|rest| rest.split("content: |\n").nth(1))
        .unwrap_or_else(|| panic!("no {path} in the user data"))
        .lines()
        .take_while(|l| l.starts_with("      ") || l.is_empty())
        .map(|l| format!("{}\n", l.strip_prefix("      ").unwrap_or(l)))
        .collect()
}

#[tokio::test]
async fn every_instance_boots_the_agent_with_user_data_cloud_init_and_shellcheck_accept() {
    let (cloud_init, shellcheck) = (tool("cloud-init", "cloud-init"), tool("shellcheck", "shellcheck"));
    let stack = crate::support::stack().await;
    let (alice, org) = alice_connected(&stack).await;
    let cluster = created(&stack, &alice, &org, "booted", "managed").await;
    let instances = instances(&stack, &alice, &org, &cluster).await;
    let ec2 = customer_ec2(&stack, &org).await;
    let mut seen = Vec::new();
    for instance in &instances {
        let params = Params::new().set("InstanceId", instance).set("Attribute", "userData");
        let attribute = ec2
            .call("EC2 DescribeInstanceAttribute", "DescribeInstanceAttribute", &params)
            .await
            .expect("the instance's user data");
        let doc = attribute.doc().expect("xml");
        let encoded = child(doc.root_element(), "userData")
            .and_then(|v| text(v, "value"))
            .expect("user data on every instance");
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64");
        seen.push(String::from_utf8(decoded).expect("text"));
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "every node boots the same");
    let data = &seen[0];
    assert!(data.starts_with("#cloud-config\n"), "{data}");
    assert!(data.contains(&format!("ORGS_AGENT_CLUSTER_ID={cluster}\n")), "{data}");
    assert!(data.contains(&format!("ORGS_AGENT_ORG_ID={org}\n")), "{data}");
    assert!(data.contains(&format!("ORGS_AGENT_API_URL={}\n", stack.api_url)), "{data}");
    for secret in ["ocn_", "Bearer", "token", "secret", "password"] {
        assert!(!data.to_lowercase().contains(&secret.to_lowercase()), "{secret} in the user data: {data}");
    }

    let dir = local_stack::emulator::workspace_root().join("target/user-data").join(&cluster);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let config = dir.join("user-data.yaml");
    std::fs::write(&config, data).expect("written");
    accepts(std::process::Command::new(&cloud_init).args(["schema", "--config-file"]).arg(&config), data);

    // The install script as the instance writes it.
    let script = written(data, "/usr/local/sbin/orgs-agent-install");
    assert!(script.starts_with("#!/bin/sh\n") && script.contains("sha256sum --check"), "{script}");
    let path = dir.join("orgs-agent-install");
    std::fs::write(&path, &script).expect("written");
    accepts(
        std::process::Command::new(&shellcheck).args(["--shell=sh", "--severity=style"]).arg(&path),
        &script,
    );

    // The agent's unit, as systemd reads it (the agent's path pointed at the one built here:
    // `systemd-analyze verify` checks that the command exists).
    let unit = written(data, "/etc/systemd/system/orgs-agent.service");
    assert!(unit.contains("ExecStartPre=-/usr/local/sbin/orgs-agent --once"), "catches up first: {unit}");
    assert!(unit.contains("Before=ssh.service"), "before anyone can log in: {unit}");
    let agent = local_stack::emulator::workspace_root().join("target/debug/orgs-agent");
    let unit_path = dir.join("orgs-agent.service");
    std::fs::write(&unit_path, unit.replace("/usr/local/sbin/orgs-agent", &agent.display().to_string()))
        .expect("written");
    accepts(
        std::process::Command::new(tool("systemd-analyze", "systemd"))
            .args(["verify", "--man=no"])
            .arg(&unit_path),
        &unit,
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A script shellcheck does flag is flagged: the check above can fail.
#[test]
fn shellcheck_flags_an_unquoted_expansion() {
    let shellcheck = tool("shellcheck", "shellcheck");
    let dir = local_stack::emulator::workspace_root().join("target/user-data");
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join(format!("flawed-{}.sh", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, "#!/bin/sh\nrm -f $1\n").expect("written");
    let checked = std::process::Command::new(shellcheck).arg(&path).output().expect("runs");
    let _ = std::fs::remove_file(&path);
    assert!(!checked.status.success(), "SC2086 expected");
}
