//! Nodes of managed clusters on the local stack: a throwaway root per node that the real agent
//! (`orgs-agent`) applies to with the real shadow-utils (`--prefix`), as on a node it applies to
//! `/`. Nothing here touches the host's own accounts.

use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Why shadow-utils cannot apply here (it needs root and `useradd`), or `None` when it can.
pub fn unavailable() -> Option<String> {
    // The effective uid, from /proc.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|u| u.split_whitespace().nth(1));
    if euid != Some("0") {
        return Some("node agents need root: shadow-utils' useradd --prefix writes /etc/shadow".into());
    }
    for tool in ["useradd", "usermod", "groupadd", "pkill"] {
        let found = std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            return Some(format!("node agents need {tool} (Debian's passwd and procps packages)"));
        }
    }
    None
}

/// A fresh node root at `dir`: the `/etc` files shadow-utils reads and writes (root's entries
/// only), `/home`, `/etc/sudoers.d`. An existing root there is removed first.
pub fn throwaway_root(dir: &Path) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    for sub in ["etc/sudoers.d", "home", "var/run"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    let files: [(&str, &str, u32); 5] = [
        ("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n", 0o644),
        ("etc/group", "root:x:0:\n", 0o644),
        ("etc/shadow", "root:*:19000:0:99999:7:::\n", 0o600),
        ("etc/gshadow", "root:*::\n", 0o600),
        // Members' uids are the control plane's; the image's range stays below them.
        ("etc/login.defs", "UID_MIN 1000\nUID_MAX 99999\nGID_MIN 1000\nGID_MAX 99999\n", 0o644),
    ];
    for (path, text, mode) in files {
        let path = dir.join(path);
        std::fs::write(&path, text)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(dir.to_path_buf())
}

/// One line of a file under a node root whose first field is `name` (`/etc/passwd`,
/// `/etc/shadow`, `/etc/group`), split at `:`.
pub fn entry(root: &Path, file: &str, name: &str) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(root.join(file.trim_start_matches('/'))).ok()?;
    text.lines()
        .map(|l| l.split(':').map(str::to_owned).collect::<Vec<_>>())
        .find(|fields| fields.first().map(String::as_str) == Some(name))
}

/// The agent's environment for the node `instance` of `org`'s `cluster`, whose root and state
/// (nonce and credential included) are under `dir`, with the stack's stand-in metadata service at
/// `imds` (`{issuer}/imds`) answering for that instance.
pub fn agent_env(
    api_url: &str,
    imds: &str,
    org: &str,
    cluster: &str,
    instance: &str,
    dir: &Path,
) -> Vec<(String, String)> {
    vec![
        ("ORGS_AGENT_API_URL".into(), api_url.into()),
        ("ORGS_AGENT_ORG_ID".into(), org.into()),
        ("ORGS_AGENT_CLUSTER_ID".into(), cluster.into()),
        ("ORGS_AGENT_IMDS_URL".into(), format!("{imds}/{org}/{cluster}/{instance}")),
        ("ORGS_AGENT_ROOT".into(), dir.join("root").display().to_string()),
        ("ORGS_AGENT_STATE_DIR".into(), dir.join("state").display().to_string()),
        ("ORGS_AGENT_INTERVAL_SECS".into(), "1".into()),
    ]
}

/// The dev stack's node agents: one real `orgs-agent` process for every instance of every running
/// managed cluster, each applying to its own throwaway root under `dir/{cluster}/{instance}/`
/// and enrolling through the stand-in metadata service, as a node on EC2 would. A node whose
/// cluster stops is stopped (its root and state stay, as an instance's disk does, and it catches
/// up when the cluster starts again); a terminated cluster's nodes are removed.
pub struct Nodes {
    dir: PathBuf,
    agent: PathBuf,
    api_url: String,
    imds: String,
    running: std::collections::HashMap<(String, String), tokio::process::Child>,
}

impl Nodes {
    /// `None`, with the reason, where node agents cannot run here (not root, no shadow-utils, no
    /// agent built).
    pub fn new(dir: PathBuf, agent: PathBuf, api_url: &str, issuer_url: &str) -> Result<Self, String> {
        if let Some(why) = unavailable() {
            return Err(why);
        }
        if !agent.exists() {
            return Err(format!("{} is not built (`cargo build -p orgs-agent`)", agent.display()));
        }
        Ok(Self {
            dir,
            agent,
            api_url: api_url.to_owned(),
            imds: format!("{issuer_url}/imds"),
            running: Default::default(),
        })
    }

    /// How many node agents run.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Starts the agents of nodes that run and have none, stops those whose node no longer runs.
    pub async fn reconcile(
        &mut self,
        store: &orgs::store::Store,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        use orgs::domain::{ClusterState, UserManagement};
        let mut wanted = std::collections::HashSet::new();
        let mut live_ids = std::collections::HashSet::new();
        for live in store.live_clusters().await? {
            live_ids.insert(live.cluster_id.to_string());
            let Some(cluster) = store.cluster(&live.org_id, &live.cluster_id).await? else { continue };
            if cluster.user_management != UserManagement::Managed {
                continue;
            }
            if cluster.state == ClusterState::Running {
                for instance in &cluster.instances {
                    wanted.insert((
                        cluster.org_id.to_string(),
                        cluster.cluster_id.to_string(),
                        instance.clone(),
                    ));
                }
            }
        }
        // Nodes of clusters that left the live index (terminated): their directories go.
        let terminated: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        orgs::domain::ClusterId::parse(&name).is_ok() && !live_ids.contains(&name)
                    })
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default();
        let keep: std::collections::HashSet<(String, String)> =
            wanted.iter().map(|(_, c, i)| (c.clone(), i.clone())).collect();
        let stopped: Vec<(String, String)> =
            self.running.keys().filter(|k| !keep.contains(*k)).cloned().collect();
        for key in stopped {
            if let Some(mut child) = self.running.remove(&key) {
                let _ = child.kill().await;
                tracing::info!(cluster_id = %key.0, instance_id = %key.1, "node agent stopped (its node stopped)");
            }
        }
        for (org, cluster, instance) in wanted {
            let key = (cluster.clone(), instance.clone());
            if let Some(child) = self.running.get_mut(&key)
                && child.try_wait()?.is_none()
            {
                continue;
            }
            let dir = self.dir.join(&cluster).join(&instance);
            if !dir.join("root/etc/passwd").exists() {
                throwaway_root(&dir.join("root"))?;
            }
            let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("agent.log"))?;
            let child = tokio::process::Command::new(&self.agent)
                .envs(agent_env(&self.api_url, &self.imds, &org, &cluster, &instance, &dir))
                .env("ORGS_AGENT_INTERVAL_SECS", "3")
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .kill_on_drop(true)
                .spawn()?;
            tracing::info!(cluster_id = %cluster, instance_id = %instance, root = %dir.join("root").display(), "node agent started");
            self.running.insert(key, child);
        }
        for dir in terminated {
            tracing::info!(path = %dir.display(), "a terminated cluster's nodes removed");
            let _ = std::fs::remove_dir_all(dir);
        }
        Ok(())
    }
}
