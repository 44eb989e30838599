//! The user data every cluster instance boots with: a cloud-init config that downloads the node
//! agent from the service's artifacts bucket, checks it against the pinned SHA-256, installs it and
//! starts it as a systemd service. It carries no secret: the service's URL, the organization and
//! cluster ids, where the agent is and its checksum. The node proves who it is with its instance
//! identity document (see `domain::node_identity`).
//!
//! The tests validate what this renders with cloud-init's own `cloud-init schema` and check the
//! install script with `shellcheck` (Debian's packages).

use crate::domain::{ClusterId, OrgId};

/// What an instance needs to fetch and start the agent (`AGENT_API_URL`, `AGENT_ARTIFACT_URL`,
/// `AGENT_SHA256`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeBootstrap {
    /// The service's base URL, which the agent calls.
    api_url: String,
    /// The agent binary (https: the bucket's regional endpoint, its key named by the checksum).
    artifact_url: String,
    /// The agent binary's SHA-256, lowercase hex: the instance refuses anything else.
    sha256: String,
}

impl NodeBootstrap {
    /// Checks each value: URLs over https with nothing a shell or YAML would read specially (the
    /// service's may be plain http on a loopback address: the local stack's); a SHA-256 of 64
    /// lowercase hex digits.
    pub fn new(api_url: &str, artifact_url: &str, sha256: &str) -> Result<Self, String> {
        let loopback = api_url.starts_with("http://127.0.0.1:") || api_url.starts_with("http://localhost:");
        let api_url = if loopback { api_url.replacen("http://", "https://", 1) } else { api_url.to_owned() };
        let url = |name: &str, value: &str| {
            let plain = value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~:/%".contains(&b));
            if value.starts_with("https://") && value.len() > "https://".len() && plain {
                Ok(value.trim_end_matches('/').to_owned())
            } else {
                Err(format!("{name} must be an https URL of letters, digits and -._~:/% only: {value:?}"))
            }
        };
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(format!("the agent's SHA-256 must be 64 lowercase hex digits: {sha256:?}"));
        }
        let mut api_url = url("the service URL", &api_url)?;
        if loopback {
            api_url = api_url.replacen("https://", "http://", 1);
        }
        Ok(Self { api_url, artifact_url: url("the agent's URL", artifact_url)?, sha256: sha256.to_owned() })
    }

    /// The agent binary's pinned SHA-256.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The cloud-init user data of every instance of `org`'s `cluster`.
    pub fn user_data(&self, org: &OrgId, cluster: &ClusterId) -> String {
        let indent = |text: &str, by: usize| {
            text.lines()
                .map(|l| if l.is_empty() { String::new() } else { format!("{}{l}", " ".repeat(by)) })
                .collect::<Vec<_>>()
                .join("\n")
        };
        format!(
            "#cloud-config\n\
             # The node agent of cluster {cluster} (organization {org}): members' accounts on this\n\
             # node. Nothing here is confidential: the node enrolls with its instance identity document.\n\
             write_files:\n\
             \x20 - path: /etc/orgs-agent/agent.env\n\
             \x20   owner: root:root\n\
             \x20   permissions: '0644'\n\
             \x20   content: |\n{env}\n\
             \x20 - path: /etc/systemd/system/orgs-agent.service\n\
             \x20   owner: root:root\n\
             \x20   permissions: '0644'\n\
             \x20   content: |\n{unit}\n\
             \x20 - path: /usr/local/sbin/orgs-agent-install\n\
             \x20   owner: root:root\n\
             \x20   permissions: '0755'\n\
             \x20   content: |\n{script}\n\
             runcmd:\n\
             \x20 - [/usr/local/sbin/orgs-agent-install]\n\
             \x20 - [systemctl, daemon-reload]\n\
             \x20 - [systemctl, enable, --now, orgs-agent.service]\n",
            env = indent(&self.env_file(org, cluster), 6),
            unit = indent(UNIT, 6),
            script = indent(&self.install_script(), 6),
        )
    }

    /// The agent's environment file.
    fn env_file(&self, org: &OrgId, cluster: &ClusterId) -> String {
        format!(
            "ORGS_AGENT_API_URL={}\nORGS_AGENT_ORG_ID={org}\nORGS_AGENT_CLUSTER_ID={cluster}\n",
            self.api_url
        )
    }

    /// The script that fetches, checks and installs the agent (POSIX sh).
    pub fn install_script(&self) -> String {
        INSTALL.replace("@ARTIFACT_URL@", &self.artifact_url).replace("@SHA256@", &self.sha256)
    }
}

const UNIT: &str = "[Unit]
Description=orgs node agent: the organization members' accounts on this node
Wants=network-online.target
After=network-online.target
# Accounts first: a node that was stopped applies what changed meanwhile (a removed member's
# block above all) before anyone can log in.
Before=ssh.service sshd.service

[Service]
EnvironmentFile=/etc/orgs-agent/agent.env
ExecStartPre=-/usr/local/sbin/orgs-agent --once
ExecStart=/usr/local/sbin/orgs-agent
TimeoutStartSec=300
Restart=always
RestartSec=5
StateDirectory=orgs-agent
StateDirectoryMode=0700

[Install]
WantedBy=multi-user.target
";

const INSTALL: &str = r#"#!/bin/sh
# Fetches the node agent, refuses it unless its SHA-256 is the pinned one, installs it.
set -eu
url='@ARTIFACT_URL@'
sum='@SHA256@'
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
tries=0
until curl --fail --silent --show-error --location --proto '=https' --output "$tmp" "$url"; do
  tries=$((tries + 1))
  if [ "$tries" -ge 10 ]; then
    echo "orgs-agent: could not download $url" >&2
    exit 1
  fi
  sleep $((tries * 3))
done
if ! echo "$sum  $tmp" | sha256sum --check --status; then
  echo "orgs-agent: the download's SHA-256 is not the pinned one" >&2
  exit 1
fi
install -m 0755 -o root -g root "$tmp" /usr/local/sbin/orgs-agent
"#;

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn user_data_names_the_cluster_and_the_pinned_agent_and_no_secret() {
        let boot = NodeBootstrap::new(
            "https://api.example.com",
            &format!("https://artifacts.s3.eu-west-1.amazonaws.com/agent/{SHA}/orgs-agent"),
            SHA,
        )
        .unwrap();
        let (org, cluster) = (OrgId::new(), ClusterId::new());
        let data = boot.user_data(&org, &cluster);
        assert!(data.starts_with("#cloud-config\n"));
        assert!(data.contains(&format!("      ORGS_AGENT_CLUSTER_ID={cluster}\n")));
        assert!(data.contains(&format!("      ORGS_AGENT_ORG_ID={org}\n")));
        assert!(data.contains(&format!("      sum='{SHA}'\n")));
        assert!(!data.contains("ocn_") && !data.contains("TOKEN") && !data.contains('@'));
    }

    #[test]
    fn values_a_shell_or_yaml_would_read_are_refused() {
        let url = |u: &str| NodeBootstrap::new(u, "https://a.example/x", SHA);
        assert!(url("https://api.example.com").is_ok());
        assert!(url("http://127.0.0.1:9000").is_ok(), "the local stack's");
        for bad in [
            "http://api.example.com",
            "http://127.0.0.1.evil.example",
            "https://a.example/'$(reboot)'",
            "https://a b",
            "https://",
            "https://x\n- y",
        ] {
            assert!(url(bad).is_err(), "{bad:?}");
        }
        assert!(NodeBootstrap::new("https://a.example", "https://b.example", &SHA.to_uppercase()).is_err());
        assert!(NodeBootstrap::new("https://a.example", "https://b.example", &SHA[1..]).is_err());
    }
}
