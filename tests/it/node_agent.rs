//! The node agent for real: the `orgs-agent` binary against the local stack, applying to
//! throwaway node roots with the real shadow-utils (`useradd --prefix`), as root (CI is root).
//! Nothing touches the host's own accounts; the one process a test starts under a member's uid
//! is ended by the agent, as on a node.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use local_stack::node;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cluster_users::{account_becomes, account_of, accounts, alice_connected, instances};
use crate::support::*;

/// A node of `cluster`, the instance `instance`: its root and state (its nonce and credential) under
/// a fresh directory; it enrolls itself through the stack's stand-in metadata service.
struct Node {
    dir: PathBuf,
    env: Vec<(String, String)>,
}

/// A new managed cluster with `workers` workers, running: its id and instances, head first.
async fn managed_cluster(
    stack: &local_stack::Stack,
    who: &User,
    org: &str,
    name: &str,
    workers: u32,
) -> (String, Vec<String>) {
    let id = crate::cluster_users::created_with(stack, who, org, name, "managed", workers).await;
    let instances = instances(stack, who, org, &id).await;
    (id, instances)
}

impl Node {
    fn new(stack: &local_stack::Stack, org: &str, cluster: &str, instance: &str) -> Node {
        if let Some(why) = node::unavailable() {
            panic!("the node agent tests apply accounts with shadow-utils: {why} (CI runs as root)");
        }
        let dir = local_stack::emulator::workspace_root()
            .join("target/nodes")
            .join(uuid::Uuid::new_v4().simple().to_string());
        node::throwaway_root(&dir.join("root")).expect("a node root");
        let imds = format!("{}/imds", stack.issuer.url);
        Node { env: node::agent_env(&stack.api_url, &imds, org, cluster, instance, &dir), dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    /// `orgs-agent --once`: whether every record applied.
    async fn catch_up(&self) -> bool {
        let binary = local_stack::emulator::workspace_root().join("target/debug/orgs-agent");
        assert!(
            binary.exists(),
            "{} is missing: `cargo xtask test` builds it (or `cargo build --workspace --bins`)",
            binary.display()
        );
        let output = tokio::process::Command::new(binary)
            .arg("--once")
            .envs(self.env.iter().cloned())
            .stdin(Stdio::null())
            .output()
            .await
            .expect("the agent runs");
        let logs = String::from_utf8_lossy(&output.stdout);
        assert!(!logs.contains("ocn_"), "the agent logs no credential: {logs}");
        eprintln!("{logs}");
        output.status.success()
    }

    fn passwd(&self, login: &str) -> Option<Vec<String>> {
        node::entry(&self.root(), "/etc/passwd", login)
    }

    fn shadow(&self, login: &str) -> Vec<String> {
        node::entry(&self.root(), "/etc/shadow", login).expect("a shadow entry")
    }

    fn admins(&self) -> Vec<String> {
        let group = node::entry(&self.root(), "/etc/group", "orgs-admins").expect("the admins group");
        group[3].split(',').filter(|m| !m.is_empty()).map(str::to_owned).collect()
    }

    fn keys_file(&self, login: &str) -> PathBuf {
        self.root().join("home").join(login).join(".ssh/authorized_keys")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `user`'s Linux account on `cluster` as the control plane has it: (uid, login).
async fn linux_of(
    stack: &local_stack::Stack,
    viewer: &User,
    org: &str,
    cluster: &str,
    user: &User,
) -> (u32, String) {
    let all = accounts(stack, viewer, org, cluster).await;
    let linux = &account_of(&all, user).expect("an account")["linux"];
    (
        u32::try_from(linux["uid"].as_u64().expect("a uid")).expect("uid"),
        linux["login"].as_str().expect("a login").to_owned(),
    )
}

/// Waits until `user`'s record on `cluster` is `delivery`, and returns it.
async fn delivered(
    stack: &local_stack::Stack,
    viewer: &User,
    org: &str,
    cluster: &str,
    user: &User,
    delivery: &str,
) -> Value {
    let all = accounts(stack, viewer, org, cluster).await;
    let record = account_of(&all, user).expect("an account").clone();
    assert_eq!(record["delivery"], delivery, "{record}");
    record
}

fn process_of(uid: u32) -> tokio::process::Child {
    tokio::process::Command::new("setpriv")
        .args([&format!("--reuid={uid}"), &format!("--regid={uid}"), "--clear-groups", "sleep", "600"])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("setpriv (util-linux) starts a process under the uid")
}

fn exists(path: &Path) -> bool {
    path.exists()
}

#[tokio::test]
pub(crate) async fn bobs_account_appears_on_every_node_follows_his_role_and_is_locked_when_he_is_removed() {
    let stack = stack().await;
    let (alice, org) = alice_connected(&stack).await;
    let (cluster_id, instances) = managed_cluster(&stack, &alice, &org, "shared", 1).await;
    assert_eq!(instances.len(), 2, "a head and a worker");
    let nodes = [
        Node::new(&stack, &org, &cluster_id, &instances[0]),
        Node::new(&stack, &org, &cluster_id, &instances[1]),
    ];

    // Bob, with a key, joins: both nodes create his account with the control plane's uid and
    // login, and his key.
    let bob = register(&stack, &email("bob")).await;
    let laptop = ssh_key_line("bob@laptop");
    let added = post(&stack, "/v1/me/ssh-keys", &bob, json!({ "public_key": laptop })).await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    let invitation = invite(&stack, &alice, &org, &bob.email).await;
    let accepted = post(&stack, &format!("/v1/invitations/{invitation}/accept"), &bob, json!({})).await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);
    account_becomes(&stack, &alice, &org, &cluster_id, &bob, "user", "active").await;
    let (uid, login) = linux_of(&stack, &alice, &org, &cluster_id, &bob).await;
    let (alice_uid, alice_login) = linux_of(&stack, &alice, &org, &cluster_id, &alice).await;
    assert_ne!(uid, alice_uid);
    assert!(uid >= 20_000 && alice_uid >= 20_000, "members' uids are above the image's");
    for (i, node) in nodes.iter().enumerate() {
        assert!(node.catch_up().await, "every record applies");
        // The receipt counts the nodes that applied Bob's record, out of the cluster's two.
        let record = account_of(&accounts(&stack, &alice, &org, &cluster_id).await, &bob)
            .cloned()
            .expect("his record");
        assert_eq!(record["receipt"], json!({ "applied": i + 1, "nodes": 2, "failed": [] }), "{record}");
        assert_eq!(record["delivery"], if i == 0 { "pending" } else { "applied" }, "{record}");
        let passwd = node.passwd(&login).expect("Bob's account");
        assert_eq!((passwd[2].as_str(), passwd[4].as_str()), (uid.to_string().as_str(), bob.email.as_str()));
        assert_eq!(passwd[5], format!("/home/{login}"));
        assert_eq!(node.shadow(&login)[1], "*", "no password, not locked: SSH keys only");
        assert_eq!(std::fs::read_to_string(node.keys_file(&login)).expect("his keys"), format!("{laptop}\n"));
        let meta = std::fs::metadata(node.keys_file(&login)).expect("keys");
        assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), uid, "owned by him");
        assert_eq!(node.admins(), vec![alice_login.clone()], "the owner administers; Bob does not");
        assert_eq!(node.passwd(&alice_login).expect("Alice's account")[2], alice_uid.to_string());
    }
    assert_eq!(nodes[0].passwd(&login), nodes[1].passwd(&login), "two nodes, one account");
    delivered(&stack, &alice, &org, &cluster_id, &bob, "applied").await;

    // Promoted, Bob is in the admins group (sudo) on every node.
    let membership = format!("/v1/organizations/{org}/members/{}", bob.sub);
    let promoted =
        call(&stack, "PATCH", &membership, Some(&alice.token), Some(json!({ "role": "admin" }))).await;
    assert_eq!(promoted.status, StatusCode::OK, "{:?}", promoted.body);
    account_becomes(&stack, &alice, &org, &cluster_id, &bob, "admin", "active").await;
    for node in &nodes {
        assert!(node.catch_up().await);
        assert!(node.admins().contains(&login), "{:?}", node.admins());
    }
    // A key he adds later reaches every node; one he removes leaves it.
    let desktop = ssh_key_line("bob@desktop");
    let second = post(&stack, "/v1/me/ssh-keys", &bob, json!({ "public_key": desktop })).await;
    assert_eq!(second.status, StatusCode::CREATED, "{:?}", second.body);
    let first_id = added.body["key_id"].as_str().expect("key id");
    let removed =
        call(&stack, "DELETE", &format!("/v1/me/ssh-keys/{first_id}"), Some(&bob.token), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{:?}", removed.body);
    eventually("Bob's keys on his record", || async {
        let all = accounts(&stack, &alice, &org, &cluster_id).await;
        (account_of(&all, &bob)?["ssh_keys"] == json!([desktop])).then_some(())
    })
    .await;
    for node in &nodes {
        assert!(node.catch_up().await);
        assert_eq!(
            std::fs::read_to_string(node.keys_file(&login)).expect("his keys"),
            format!("{desktop}\n")
        );
    }
    let sudoers =
        std::fs::read_to_string(nodes[0].root().join("etc/sudoers.d/orgs-admins")).expect("sudoers");
    assert_eq!(sudoers, "%orgs-admins ALL=(ALL:ALL) NOPASSWD: ALL\n");

    // Removed while a process of his runs: locked and expired, no sudo, no keys, process ended.
    let mut running = process_of(uid);
    assert_eq!(
        call(&stack, "DELETE", &membership, Some(&alice.token), None).await.status,
        StatusCode::NO_CONTENT
    );
    // (A blocked record keeps the role it had; the node takes the group away whatever it says.)
    account_becomes(&stack, &alice, &org, &cluster_id, &bob, "admin", "blocked").await;
    for node in &nodes {
        assert!(node.catch_up().await);
        let shadow = node.shadow(&login);
        assert!(shadow[1].starts_with('!'), "locked: {shadow:?}");
        assert_eq!(shadow[7], "1", "expired: {shadow:?}");
        assert!(!node.admins().contains(&login), "no sudo");
        assert!(!exists(&node.keys_file(&login)), "no keys");
        assert!(exists(&node.root().join("home").join(&login)), "his files stay");
    }
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), running.wait())
        .await
        .expect("his process ended")
        .expect("status");
    assert!(!ended.success(), "killed, not finished: {ended}");
    delivered(&stack, &alice, &org, &cluster_id, &bob, "applied").await;

    // Re-invited, he is unlocked with the same uid.
    let again = invite(&stack, &alice, &org, &bob.email).await;
    let accepted = post(&stack, &format!("/v1/invitations/{again}/accept"), &bob, json!({})).await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);
    account_becomes(&stack, &alice, &org, &cluster_id, &bob, "user", "active").await;
    assert_eq!(
        linux_of(&stack, &alice, &org, &cluster_id, &bob).await,
        (uid, login.clone()),
        "the same account"
    );
    for node in &nodes {
        assert!(node.catch_up().await);
        let shadow = node.shadow(&login);
        assert_eq!((shadow[1].as_str(), shadow[7].as_str()), ("*", ""), "unlocked, never expires");
        assert_eq!(node.passwd(&login).expect("account")[2], uid.to_string());
        assert!(exists(&node.keys_file(&login)));
    }
}

#[tokio::test]
async fn a_restarted_node_resumes_where_it_stood_and_a_failed_apply_is_reported_and_retried() {
    let stack = stack().await;
    let (alice, org) = alice_connected(&stack).await;
    let (cluster_id, instances) = managed_cluster(&stack, &alice, &org, "resumes", 0).await;
    let (alice_uid, alice_login) = {
        account_becomes(&stack, &alice, &org, &cluster_id, &alice, "admin", "active").await;
        linux_of(&stack, &alice, &org, &cluster_id, &alice).await
    };
    let alices_revision = account_of(&accounts(&stack, &alice, &org, &cluster_id).await, &alice)
        .expect("Alice's record")["revision"]
        .as_u64()
        .expect("revision");
    let carol = register(&stack, &email("carol")).await;
    let invitation = invite(&stack, &alice, &org, &carol.email).await;
    assert_eq!(
        post(&stack, &format!("/v1/invitations/{invitation}/accept"), &carol, json!({})).await.status,
        StatusCode::OK
    );
    account_becomes(&stack, &alice, &org, &cluster_id, &carol, "user", "active").await;
    let (carol_uid, carol_login) = linux_of(&stack, &alice, &org, &cluster_id, &carol).await;

    // A node that stopped after applying Alice's record starts from there: it applies Carol's
    // and does not apply Alice's again (her account is not made on this node).
    let node = Node::new(&stack, &org, &cluster_id, &instances[0]);
    std::fs::create_dir_all(node.dir.join("state")).expect("state dir");
    std::fs::write(node.dir.join("state/position.json"), json!({ "applied": alices_revision }).to_string())
        .expect("a position");
    // Carol's uid is taken on this node by an account of the image: her apply fails.
    let taken = std::process::Command::new("useradd")
        .arg("--prefix")
        .arg(node.root())
        .args(["-u", &carol_uid.to_string(), "-N", "imagejob"])
        .status()
        .expect("useradd");
    assert!(taken.success());
    assert!(!node.catch_up().await, "a failed record makes --once fail");
    assert!(node.passwd(&alice_login).is_none(), "Alice's record was not applied again");
    let failed = delivered(&stack, &alice, &org, &cluster_id, &carol, "failed").await;
    assert!(
        failed["error"].as_str().is_some_and(|e| e.contains(&format!("uid {carol_uid} belongs to imagejob"))),
        "{failed}"
    );
    assert_eq!(failed["receipt"]["failed"][0]["instance_id"], instances[0].as_str(), "{failed}");
    assert_eq!(
        (failed["receipt"]["applied"].clone(), failed["receipt"]["nodes"].clone()),
        (json!(0), json!(1))
    );

    // The image's account goes; the next round tries Carol's record again, without a new one.
    let gone =
        std::process::Command::new("userdel").arg("--prefix").arg(node.root()).arg("imagejob").status();
    assert!(gone.expect("userdel").success());
    assert!(node.catch_up().await, "the failed record applies on the retry");
    assert_eq!(node.passwd(&carol_login).expect("Carol's account")[2], carol_uid.to_string());
    delivered(&stack, &alice, &org, &cluster_id, &carol, "applied").await;
    assert_ne!(alice_uid, carol_uid);
    let position: Value = serde_json::from_str(
        &std::fs::read_to_string(node.dir.join("state/position.json")).expect("position"),
    )
    .expect("json");
    assert_eq!(position["failed"], json!([]));
    assert_eq!(position["unacked"], json!([]), "everything acknowledged");
}

/// What `cargo xtask dev` runs: an agent per node of every running managed cluster, each on its
/// own root; stopped with its cluster (its root kept), removed when the cluster is terminated.
#[tokio::test]
async fn the_dev_stacks_node_agents_follow_the_clusters() {
    let stack = stack().await;
    let (alice, org) = alice_connected(&stack).await;
    let (cluster_id, instances) = managed_cluster(&stack, &alice, &org, "dev", 1).await;
    let dir = local_stack::emulator::workspace_root()
        .join("target/nodes")
        .join(uuid::Uuid::new_v4().simple().to_string());
    let agent = local_stack::emulator::workspace_root().join("target/debug/orgs-agent");
    let mut nodes = node::Nodes::new(dir.clone(), agent, &stack.api_url, &stack.issuer.url)
        .unwrap_or_else(|why| panic!("node agents cannot run here: {why} (CI runs as root)"));
    nodes.reconcile(&stack.api.store).await.expect("agents started");
    assert_eq!(nodes.running(), 2, "an agent per node");
    let (_, login) = {
        account_becomes(&stack, &alice, &org, &cluster_id, &alice, "admin", "active").await;
        linux_of(&stack, &alice, &org, &cluster_id, &alice).await
    };
    let roots: Vec<PathBuf> = instances.iter().map(|i| dir.join(&cluster_id).join(i).join("root")).collect();
    eventually("Alice's account on both nodes, and a receipt of 2/2", || async {
        let on_both = roots.iter().all(|r| node::entry(r, "/etc/passwd", &login).is_some());
        let record = account_of(&accounts(&stack, &alice, &org, &cluster_id).await, &alice)?.clone();
        (on_both && record["receipt"]["applied"] == 2 && record["delivery"] == "applied").then_some(())
    })
    .await;

    // Revoked: every node's credential stops; each agent enrolls again by itself (its document,
    // its nonce) and goes on: a member who joins next reaches both nodes.
    let revoked = crate::cluster_users::revoke_nodes(&stack, &alice, &org, &cluster_id).await;
    assert_eq!(
        (revoked.status, revoked.body["revoked"].clone()),
        (StatusCode::OK, json!(2)),
        "{:?}",
        revoked.body
    );
    let dana = register(&stack, &email("dana")).await;
    let invitation = invite(&stack, &alice, &org, &dana.email).await;
    let accepted = post(&stack, &format!("/v1/invitations/{invitation}/accept"), &dana, json!({})).await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);
    account_becomes(&stack, &alice, &org, &cluster_id, &dana, "user", "active").await;
    let (_, dana_login) = linux_of(&stack, &alice, &org, &cluster_id, &dana).await;
    eventually("Dana's account on both nodes after they enrolled again", || async {
        let on_both = roots.iter().all(|r| node::entry(r, "/etc/passwd", &dana_login).is_some());
        let record = account_of(&accounts(&stack, &alice, &org, &cluster_id).await, &dana)?.clone();
        (on_both && record["receipt"]["applied"] == 2).then_some(())
    })
    .await;

    // Stopped: the agents stop, the roots stay.
    assert_eq!(
        crate::clusters::act(&stack, &alice, &org, &cluster_id, "stop").await.status,
        StatusCode::ACCEPTED
    );
    crate::clusters::settles(&stack, &alice, &org, &cluster_id, "stopped").await;
    nodes.reconcile(&stack.api.store).await.expect("agents stopped");
    assert_eq!(nodes.running(), 0, "a stopped node's agent stops");
    assert!(roots.iter().all(|r| r.join("etc/passwd").exists()), "a stopped node keeps its disk");
    // Terminated: its nodes go.
    assert_eq!(
        crate::clusters::act(&stack, &alice, &org, &cluster_id, "terminate").await.status,
        StatusCode::ACCEPTED
    );
    crate::clusters::settles(&stack, &alice, &org, &cluster_id, "terminated").await;
    nodes.reconcile(&stack.api.store).await.expect("nodes removed");
    assert!(!dir.join(&cluster_id).exists(), "a terminated cluster's nodes are removed");
    let _ = std::fs::remove_dir_all(&dir);
}
