//! Applies one record to this node with the system's own tools: `groupadd`, `useradd` and
//! `usermod` from shadow-utils (with `--prefix` when the root is not `/`, as on the local stack
//! and in the tests), `pkill` from procps. Nothing here edits `/etc/passwd`, `/etc/shadow` or
//! `/etc/group` itself; it only reads them to decide which tool to call.
//!
//! - Active: the account exists with the record's uid and login, a home directory, a login
//!   shell, the member's email as its comment, an unlocked password-less entry (`*`: SSH keys
//!   only) that never expires, the member's keys in `~/.ssh/authorized_keys`, and the admins group
//!   (sudo, from `/etc/sudoers.d/orgs-admins`) for the owner and admins only.
//! - Blocked: locked (`!`), expired (day 1), no supplementary groups (no sudo), no
//!   `authorized_keys`, and every process of its uid ended. Its files stay.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::wire::{Linux, Record, Role, Status};

/// The group whose members have sudo, and its gid (the same on every node).
pub const ADMINS_GROUP: &str = "orgs-admins";
pub const ADMINS_GID: u32 = 19_999;
/// The uids the control plane gives; the agent touches no account outside them.
pub const UIDS: std::ops::RangeInclusive<u32> = 20_000..=99_999;
const SUDOERS: &str = "%orgs-admins ALL=(ALL:ALL) NOPASSWD: ALL\n";

pub struct Applier {
    root: PathBuf,
}

/// An account as `/etc/passwd` has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passwd {
    pub login: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

impl Applier {
    /// Applies to the system under `root` (`/` on a node).
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `path` (absolute on the node) under the root.
    pub fn path(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }

    /// A shadow-utils command, with `--prefix` when the root is not `/`.
    fn tool(&self, name: &str) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(name);
        if self.root != Path::new("/") {
            cmd.arg("--prefix").arg(&self.root);
        }
        cmd
    }

    /// The admins group and its sudo rule, made once.
    pub async fn prepare(&self) -> Result<(), String> {
        if !self.group_exists(ADMINS_GROUP)? {
            run(self.tool("groupadd").args(["-g", &ADMINS_GID.to_string(), ADMINS_GROUP])).await?;
        }
        let sudoers = self.path("/etc/sudoers.d/orgs-admins");
        if std::fs::read_to_string(&sudoers).ok().as_deref() != Some(SUDOERS) {
            write_file(&sudoers, SUDOERS.as_bytes(), 0o440, None)?;
        }
        Ok(())
    }

    /// Makes the node's account what `record` says (see the module's note).
    pub async fn apply(&self, record: &Record) -> Result<(), String> {
        let linux = record.linux.as_ref().ok_or("the record has no Linux account yet")?;
        if !valid_login(&linux.login) || !UIDS.contains(&linux.uid) {
            return Err(format!(
                "refused: login {:?} uid {} is not one the control plane gives",
                linux.login, linux.uid
            ));
        }
        let accounts = self.accounts()?;
        let by_login = accounts.iter().find(|a| a.login == linux.login);
        if let Some(other) = accounts.iter().find(|a| a.uid == linux.uid && a.login != linux.login) {
            return Err(format!("uid {} belongs to {} on this node", linux.uid, other.login));
        }
        if let Some(existing) = by_login
            && existing.uid != linux.uid
        {
            return Err(format!("{} has uid {} on this node, not {}", linux.login, existing.uid, linux.uid));
        }
        match record.status {
            Status::Active => self.activate(record, linux, by_login.is_none()).await,
            Status::Blocked if by_login.is_none() => Ok(()),
            Status::Blocked => self.block(linux).await,
        }
    }

    async fn activate(&self, record: &Record, linux: &Linux, create: bool) -> Result<(), String> {
        let home = format!("/home/{}", linux.login);
        let uid = linux.uid.to_string();
        let comment = comment(&record.email);
        if create {
            run(self.tool("useradd").args([
                "-m",
                "-d",
                &home,
                "-u",
                &uid,
                "-U",
                "-p",
                "*",
                "-s",
                "/bin/bash",
                "-c",
                &comment,
                &linux.login,
            ]))
            .await?;
        }
        let groups = if record.role == Role::Admin { ADMINS_GROUP } else { "" };
        // -U unlocks (`!*` back to `*`), -e '' never expires.
        run(self.tool("usermod").args([
            "-U",
            "-e",
            "",
            "-c",
            &comment,
            "-G",
            groups,
            "-s",
            "/bin/bash",
            &linux.login,
        ]))
        .await?;
        let account = self.account(&linux.login)?.ok_or("useradd left no account")?;
        let keys: String = record.ssh_keys.iter().map(|k| format!("{}\n", k.trim())).collect();
        let ssh = self.path(&account.home).join(".ssh");
        let owner = Some((account.uid, account.gid));
        create_dir(&ssh, 0o700, owner)?;
        write_file(&ssh.join("authorized_keys"), keys.as_bytes(), 0o600, owner)
    }

    async fn block(&self, linux: &Linux) -> Result<(), String> {
        run(self.tool("usermod").args(["-L", "-e", "1", "-G", "", &linux.login])).await?;
        if let Some(account) = self.account(&linux.login)? {
            let keys = self.path(&account.home).join(".ssh/authorized_keys");
            match std::fs::remove_file(&keys) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("cannot remove {}: {e}", keys.display())),
            }
        }
        // Every process of the uid, on this machine: locked accounts keep no running session.
        // pkill answers 1 when there was none.
        let status = tokio::process::Command::new("pkill")
            .args(["-KILL", "-U", &linux.uid.to_string()])
            .stdin(Stdio::null())
            .status()
            .await
            .map_err(|e| format!("pkill: {e}"))?;
        match status.code() {
            Some(0 | 1) => Ok(()),
            _ => Err(format!("pkill -U {} failed: {status}", linux.uid)),
        }
    }

    /// The accounts in `/etc/passwd` under the root.
    pub fn accounts(&self) -> Result<Vec<Passwd>, String> {
        let path = self.path("/etc/passwd");
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(text
            .lines()
            .filter_map(|line| {
                let f: Vec<&str> = line.split(':').collect();
                (f.len() >= 7).then(|| Passwd {
                    login: f[0].to_owned(),
                    uid: f[2].parse().unwrap_or(u32::MAX),
                    gid: f[3].parse().unwrap_or(u32::MAX),
                    home: f[5].to_owned(),
                })
            })
            .collect())
    }

    pub fn account(&self, login: &str) -> Result<Option<Passwd>, String> {
        Ok(self.accounts()?.into_iter().find(|a| a.login == login))
    }

    fn group_exists(&self, group: &str) -> Result<bool, String> {
        let path = self.path("/etc/group");
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(text.lines().any(|l| l.split(':').next() == Some(group)))
    }
}

/// What `useradd` takes as a login: `^[a-z][a-z0-9_-]*$`, at most 32 (the control plane gives no
/// other; a node checks again before it passes one to a command).
pub fn valid_login(login: &str) -> bool {
    !login.is_empty()
        && login.len() <= 32
        && login.starts_with(|c: char| c.is_ascii_lowercase())
        && login.chars().all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
}

/// The GECOS comment: the email, without the separators `/etc/passwd` uses.
fn comment(email: &str) -> String {
    email.chars().filter(|c| !matches!(c, ':' | ',' | '\n' | '=')).take(128).collect()
}

/// Runs a tool; its stderr is the error.
async fn run(cmd: &mut tokio::process::Command) -> Result<(), String> {
    let output = cmd.stdin(Stdio::null()).output().await.map_err(|e| format!("{cmd:?}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let program = cmd.as_std().get_program().to_string_lossy().into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // shadow-utils warns about uids outside login.defs' range; the error is the last line.
    let reason = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    Err(format!("{program} failed ({}): {reason}", output.status).chars().take(500).collect())
}

fn create_dir(path: &Path, mode: u32, owner: Option<(u32, u32)>) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("cannot set the mode of {}: {e}", path.display()))?;
    chown(path, owner)
}

/// Writes `path` whole (a new file renamed over the old) with `mode` and `owner`.
fn write_file(path: &Path, bytes: &[u8], mode: u32, owner: Option<(u32, u32)>) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().ok_or("no directory")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let temporary = path.with_extension("orgs-new");
    std::fs::write(&temporary, bytes).map_err(|e| format!("cannot write {}: {e}", temporary.display()))?;
    std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("cannot set the mode of {}: {e}", temporary.display()))?;
    chown(&temporary, owner)?;
    std::fs::rename(&temporary, path).map_err(|e| format!("cannot replace {}: {e}", path.display()))
}

fn chown(path: &Path, owner: Option<(u32, u32)>) -> Result<(), String> {
    match owner {
        Some((uid, gid)) => std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .map_err(|e| format!("cannot chown {}: {e}", path.display())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_and_comments_cannot_carry_anything_else() {
        assert!(valid_login("bob") && valid_login("bob_smith-2"));
        for bad in ["", "Bob", "-bob", "../etc", "bob smith", "b:b", &"a".repeat(33)] {
            assert!(!valid_login(bad), "{bad}");
        }
        assert_eq!(comment("bob:x,y=z@example.com"), "bobxyz@example.com");
    }
}
