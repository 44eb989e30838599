//! Where this node stands, on disk: the last revision it applied, what it has applied but not yet
//! acknowledged, and the records that failed (tried again each round until they apply or a newer
//! record for that member replaces them). Written after every record, by writing a new file and
//! renaming it over the old one, so a node stopped at any moment restarts exactly where it was:
//! it neither skips a record nor applies one twice.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::wire::{AckResult, Record};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Every record up to this revision has been applied (or has failed and is in `failed`).
    pub applied: u64,
    /// Results not yet acknowledged, for records up to `applied`.
    #[serde(default)]
    pub unacked: Vec<AckResult>,
    /// Records whose apply failed, to try again.
    #[serde(default)]
    pub failed: Vec<Record>,
}

pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn new(dir: &Path) -> Self {
        Self { path: dir.join("position.json") }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The state as last saved; a node that never ran starts at revision 0. A file this agent
    /// cannot read as its state (damaged by a full disk, or edited) is moved aside to
    /// `position.json.damaged` and the node starts again from 0: applying converges to each
    /// record and an acknowledgement never marks a newer change applied, so going over the
    /// records again is safe, while refusing to run would leave the node's accounts stale.
    pub fn load(&self) -> Result<State, String> {
        match std::fs::read(&self.path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(state) => Ok(state),
                Err(e) => {
                    let aside = self.path.with_extension("json.damaged");
                    std::fs::rename(&self.path, &aside)
                        .map_err(|e| format!("cannot move {} aside: {e}", self.path.display()))?;
                    tracing::warn!(path = %aside.display(), error = %e, "the saved position was damaged; starting again from revision 0");
                    Ok(State::default())
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(format!("cannot read {}: {e}", self.path.display())),
        }
    }

    /// Saves `state` whole or not at all (a new file, synced, renamed over the old one).
    pub fn save(&self, state: &State) -> Result<(), String> {
        use std::io::Write;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let temporary = self.path.with_extension("json.new");
        let bytes = serde_json::to_vec(state).map_err(|e| e.to_string())?;
        let mut file = std::fs::File::create(&temporary)
            .map_err(|e| format!("cannot write {}: {e}", temporary.display()))?;
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", temporary.display()))?;
        std::fs::rename(&temporary, &self.path)
            .map_err(|e| format!("cannot replace {}: {e}", self.path.display()))
    }
}

impl State {
    /// Records `record`'s outcome: the position moves past it, its result waits to be
    /// acknowledged (replacing an older one for the same member), and a failure is kept to try
    /// again (a success forgets an older failure of that member).
    pub fn record(&mut self, record: &Record, result: AckResult) {
        self.applied = self.applied.max(record.revision);
        self.unacked.retain(|r| r.user_id != result.user_id);
        self.failed.retain(|f| f.user_id != record.user_id);
        if result.status == crate::wire::Outcome::Failed {
            self.failed.push(record.clone());
        }
        self.unacked.push(result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Outcome, Role, Status};

    fn record(user: &str, revision: u64) -> Record {
        Record {
            user_id: user.into(),
            email: format!("{user}@example.com"),
            role: Role::User,
            status: Status::Active,
            linux: None,
            ssh_keys: vec![],
            revision,
        }
    }

    fn result(user: &str, status: Outcome) -> AckResult {
        AckResult { user_id: user.into(), status, error: None }
    }

    #[test]
    fn a_saved_state_is_read_back_whole() -> Result<(), String> {
        let dir = std::env::temp_dir().join(format!("orgs-agent-state-{}", std::process::id()));
        let file = StateFile::new(&dir);
        assert_eq!(file.load()?, State::default(), "a node that never ran starts at 0");
        let mut state = State::default();
        state.record(&record("bob", 3), result("bob", Outcome::Failed));
        file.save(&state)?;
        assert_eq!(file.load()?, state);
        std::fs::write(file.path(), b"{not json").map_err(|e| e.to_string())?;
        assert_eq!(file.load()?, State::default(), "a damaged state starts again from 0");
        assert!(file.path().with_extension("json.damaged").exists(), "kept aside for a person to read");
        assert!(!file.path().exists());
        std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())
    }

    #[test]
    fn a_newer_record_replaces_a_members_failure_and_result() {
        let mut state = State::default();
        state.record(&record("bob", 3), result("bob", Outcome::Failed));
        state.record(&record("carol", 4), result("carol", Outcome::Applied));
        assert_eq!((state.applied, state.failed.len(), state.unacked.len()), (4, 1, 2));
        state.record(&record("bob", 5), result("bob", Outcome::Applied));
        assert_eq!(state.applied, 5);
        assert!(state.failed.is_empty(), "bob's newer record applied");
        assert_eq!(state.unacked, vec![result("carol", Outcome::Applied), result("bob", Outcome::Applied)]);
        // A retried failure never moves the position back.
        state.record(&record("dave", 2), result("dave", Outcome::Applied));
        assert_eq!(state.applied, 5);
    }
}
