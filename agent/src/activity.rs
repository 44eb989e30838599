//! What the heartbeat reports: the members logged in on this node (their `USER_PROCESS` entries
//! in utmp, as `who` reads them) and whether anything of theirs runs (a process of a managed uid,
//! a job left running after logout included), which idle stop reads.

use std::path::Path;

use crate::apply::{Applier, UIDS};

/// glibc's `struct utmp` on Linux: 384 bytes; `ut_type` at 0, `ut_user[32]` at 44.
const UTMP_SIZE: usize = 384;
const USER_PROCESS: i16 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activity {
    pub sessions: u32,
    /// Whether a member is logged in or a process of theirs runs.
    pub active: bool,
}

pub fn now(applier: &Applier) -> Activity {
    let managed: Vec<String> = applier
        .accounts()
        .unwrap_or_default()
        .into_iter()
        .filter(|a| UIDS.contains(&a.uid))
        .map(|a| a.login)
        .collect();
    let sessions =
        std::fs::read(applier.path("/var/run/utmp")).map(|bytes| sessions_in(&bytes, &managed)).unwrap_or(0);
    Activity { sessions, active: sessions > 0 || any_process_of_managed_uid(Path::new("/proc")) }
}

/// The logged-in sessions of `logins` in a utmp file's bytes.
pub fn sessions_in(utmp: &[u8], logins: &[String]) -> u32 {
    utmp.chunks_exact(UTMP_SIZE)
        .filter(|entry| i16::from_ne_bytes([entry[0], entry[1]]) == USER_PROCESS)
        .filter(|entry| {
            let user = &entry[44..76];
            let end = user.iter().position(|b| *b == 0).unwrap_or(user.len());
            let user = String::from_utf8_lossy(&user[..end]);
            logins.iter().any(|l| *l == user)
        })
        .count() as u32
}

fn any_process_of_managed_uid(proc: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(proc) else { return false };
    entries.flatten().any(|entry| {
        let status = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|uids| uids.split_whitespace().next())
            .and_then(|uid| uid.parse::<u32>().ok())
            .is_some_and(|uid| UIDS.contains(&uid))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: i16, user: &str) -> Vec<u8> {
        let mut e = vec![0u8; UTMP_SIZE];
        e[..2].copy_from_slice(&kind.to_ne_bytes());
        e[44..44 + user.len()].copy_from_slice(user.as_bytes());
        e
    }

    #[test]
    fn only_members_logged_in_count() {
        let utmp = [
            entry(USER_PROCESS, "bob"),
            entry(USER_PROCESS, "ubuntu"),
            entry(8, "carol"),
            entry(USER_PROCESS, "bob"),
        ]
        .concat();
        assert_eq!(sessions_in(&utmp, &["bob".into(), "carol".into()]), 2);
        assert_eq!(sessions_in(&utmp[..100], &["bob".into()]), 0, "a torn entry is not read");
    }
}
