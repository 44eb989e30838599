//! Members: removal (and leaving), which takes the removed member's open invitations with it.

use super::Store;
use super::expr::{Changes, Cond, absent, attr, exists};
use super::grants::lost_grant;
use super::invitations::{ACTIONS_PER_WITHDRAWAL, REVOKED, REVOKED_SLOT, Withdrawal};
use super::keys;
use super::organizations::{EVENT, owned_limit};
use super::plumbing::{Tx, built, contention, key, s, stored};
use crate::domain::authz::Grant;
use crate::domain::{
    AuditEvent, DomainError, Email, EventAction, InvitationId, InviteRole, Membership, OrgId, Role,
    Timestamp, UserId,
};

const MEMBER: &str = "membership";
const SLOT: &str = "email slot";

/// DynamoDB takes 100 actions in one transaction; a removal uses up to 4 (with its audit event and
/// the remover's role) and each withdrawn invitation 3. Invitations beyond these are withdrawn
/// right after, in transactions of their own (and until then `accept` refuses them, since it
/// checks the inviter).
const REVOKED_WITH_REMOVAL: usize = (100 - 4) / ACTIONS_PER_WITHDRAWAL;
const REVOKED_PER_TRANSACTION: usize = 100 / ACTIONS_PER_WITHDRAWAL;

impl Store {
    /// Removes `target` from the organization: the membership, the email's slot and every open
    /// invitation the target sent go together, with the audit event. Refused when the target is
    /// the owner, or when what the remover's `grant` rested on changed meanwhile (`None`: leaving).
    pub async fn remove_member(
        &self,
        remover: &Membership,
        grant: Option<&Grant>,
        target: &Membership,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let org = &target.org_id;
        let sent = self.open_invitations_by(org, &target.user_id, now).await?;
        let (with_removal, after) = sent.split_at(sent.len().min(REVOKED_WITH_REMOVAL));

        let not_owner = exists().and(attr("role").ne(stored(&Role::Owner)?));
        let delete_member = built(
            not_owner
                .onto(self.delete(key(keys::org_pk(org), keys::member_sk(&target.user_id))))
                .return_values_on_condition_check_failure(
                    aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build(),
        )?;
        let theirs = absent().or(attr("user_id").eq(s(target.user_id.as_str())));
        let delete_slot = built(
            theirs.onto(self.delete(key(keys::org_pk(org), keys::email_slot_sk(&target.email)))).build(),
        )?;
        let action = if remover.user_id == target.user_id { EventAction::Left } else { EventAction::Removed };
        let event = AuditEvent::new(*org, remover.actor(), action, now)
            .about_user(&target.user_id, &target.email)
            .with("role", target.role.as_str())
            .with("invitations_revoked", sent.len());
        let mut tx = Tx::new()
            .delete(MEMBER, delete_member)
            .delete(SLOT, delete_slot)
            .put(EVENT, self.event_put(&event)?);
        if let Some(grant) = grant {
            tx = self.still_granted(tx, org, remover, grant)?;
        }
        let why = Withdrawal {
            actor: remover.actor(),
            reason: Some(if remover.user_id == target.user_id { "inviter_left" } else { "inviter_removed" }),
        };
        let tx = self.revoke_into(tx, org, with_removal, &why, now)?;
        self.commit("removal", tx).await.map_err(|e| {
            e.explain(|c| {
                if c.failed(MEMBER) {
                    Some(match c.old_item(MEMBER) {
                        Some(_) => DomainError::Conflict(
                            "the owner cannot be removed from their organization".into(),
                        ),
                        None => DomainError::NotFound("member"),
                    })
                } else if c.failed(SLOT) || c.failed(REVOKED) || c.failed(REVOKED_SLOT) {
                    // An invitation of theirs was answered (or the slot moved) meanwhile: that
                    // does not change the removal, which reads their invitations again.
                    Some(DomainError::Stale("the member's invitations"))
                } else {
                    lost_grant(c, "remove a member")
                }
            })
        })?;

        self.revoke_rest(org, after, &why, now).await;
        self.revoke_late(org, &target.user_id, &sent, &why, now).await;
        Ok(())
    }

    /// Withdraws what `inviter` managed to send between the read of their open invitations and
    /// the commit that took their role: once that commit lands, every later invite fails its role
    /// condition, so this second read leaves nothing they sent pending.
    async fn revoke_late(
        &self,
        org: &OrgId,
        inviter: &UserId,
        known: &[(InvitationId, Email)],
        why: &Withdrawal,
        now: Timestamp,
    ) {
        match self.open_invitations_by(org, inviter, now).await {
            Ok(open) => {
                let late: Vec<_> = open.into_iter().filter(|i| !known.contains(i)).collect();
                if !late.is_empty() {
                    tracing::info!(
                        count = late.len(),
                        "withdrawing invitations sent while the sender lost their role"
                    );
                    self.revoke_rest(org, &late, why, now).await;
                }
            }
            Err(e) => {
                tracing::warn!(error = %crate::telemetry::chain(&e), "cannot re-read a former inviter's invitations; accept refuses them");
            }
        }
    }

    /// Withdraws invitations beyond one transaction, each batch on its own. One answered
    /// meanwhile just fails its condition; accept already refuses the others (it checks the
    /// inviter's role), so a failure here is logged, not returned.
    async fn revoke_rest(
        &self,
        org: &OrgId,
        invitations: &[(InvitationId, Email)],
        why: &Withdrawal,
        now: Timestamp,
    ) {
        for chunk in invitations.chunks(REVOKED_PER_TRANSACTION) {
            let tx = match self.revoke_into(Tx::new(), org, chunk, why, now) {
                Ok(tx) => tx,
                Err(e) => {
                    tracing::warn!(error = %crate::telemetry::chain(&e), "cannot build a revocation");
                    continue;
                }
            };
            if let Err(e) = self.commit("revocation", tx).await {
                let e = e.explain(|c| (c.failed(REVOKED) || c.failed(REVOKED_SLOT)).then(contention));
                tracing::warn!(error = %crate::telemetry::chain(&e), "some invitations of a former inviter were not withdrawn; accept refuses them");
            }
        }
    }
}

const TARGET: &str = "target's membership";

impl Store {
    /// Gives `target` the role `role` (admin or member; ownership moves only by transfer), on
    /// condition that the target is not the owner and, unless acting on themselves, that `actor`
    /// still manages members at the moment of the write. A demotion to member withdraws the open
    /// invitations the target sent, as a removal does. Returns the membership as it now is.
    pub async fn change_role(
        &self,
        actor: &Membership,
        grant: Option<&Grant>,
        target: &Membership,
        role: InviteRole,
        now: Timestamp,
    ) -> Result<Membership, DomainError> {
        let org = &target.org_id;
        let role = Role::from(role);
        let withdrawn = if role == Role::Member {
            self.open_invitations_by(org, &target.user_id, now).await?
        } else {
            Vec::new()
        };
        let (with_change, after) = withdrawn.split_at(withdrawn.len().min(REVOKED_WITH_REMOVAL));
        // The role as read: a change decided on a role that changed meanwhile (an owner's
        // demotion landing first) must not undo it; the request reads again instead.
        let changes =
            Changes::new().set(attr("role"), stored(&role)?).when(attr("role").eq(stored(&target.role)?));
        let update = built(
            changes
                .onto(self.update(key(keys::org_pk(org), keys::member_sk(&target.user_id))))
                .return_values_on_condition_check_failure(
                    aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build(),
        )?;
        let event = AuditEvent::new(*org, actor.actor(), EventAction::RoleChanged, now)
            .about_user(&target.user_id, &target.email)
            .with("from", target.role.as_str())
            .with("to", role.as_str());
        let mut tx = Tx::new().update(TARGET, update).put(EVENT, self.event_put(&event)?);
        if let Some(grant) = grant {
            tx = self.still_granted(tx, org, actor, grant)?;
        }
        let why = Withdrawal { actor: actor.actor(), reason: Some("inviter_demoted") };
        let tx = self.revoke_into(tx, org, with_change, &why, now)?;
        self.commit("role change", tx).await.map_err(|e| {
            e.explain(|c| {
                if c.failed(TARGET) {
                    // Gone, made owner, or given another role since it was read: read again.
                    Some(match c.old_item(TARGET) {
                        Some(_) => DomainError::Stale("the member's role"),
                        None => DomainError::NotFound("member"),
                    })
                } else if c.failed(REVOKED) || c.failed(REVOKED_SLOT) {
                    Some(DomainError::Stale("the member's invitations"))
                } else {
                    lost_grant(c, "change a member's role")
                }
            })
        })?;
        self.revoke_rest(org, after, &why, now).await;
        if role == Role::Member {
            self.revoke_late(org, &target.user_id, &withdrawn, &why, now).await;
        }
        Ok(Membership { role, ..target.clone() })
    }
}

const OLD_OWNER: &str = "old owner's membership";
const NEW_OWNER: &str = "new owner's membership";
const ORGANIZATION: &str = "organization";
const NEW_OWNER_COUNT: &str = "new owner's organization count";
const OLD_OWNER_COUNT: &str = "old owner's organization count";

impl Store {
    /// Hands the organization from `owner` to `member`, who must still be a member; the old owner
    /// becomes an admin. One transaction: at no moment has the organization no owner or two. The
    /// new owner must own fewer than `max_owned` organizations.
    pub async fn transfer_ownership(
        &self,
        owner: &Membership,
        member: &Membership,
        max_owned: u32,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let org = &owner.org_id;
        let role_update = |user: &UserId, role: Role, condition: Cond| {
            let changes = Changes::new().set(attr("role"), stored(&role)?).when(condition);
            built(changes.onto(self.update(key(keys::org_pk(org), keys::member_sk(user)))).build())
        };
        let owner_id = attr("owner_id");
        let organization = Changes::new()
            .set(owner_id.clone(), s(member.user_id.as_str()))
            .when(owner_id.eq(s(owner.user_id.as_str())));
        let organization =
            built(organization.onto(self.update(key(keys::org_pk(org), keys::ORG_SK))).build())?;
        let owner_role = stored(&Role::Owner)?;
        let tx = Tx::new()
            .update(OLD_OWNER, role_update(&owner.user_id, Role::Admin, attr("role").eq(owner_role.clone()))?)
            .update(
                NEW_OWNER,
                role_update(&member.user_id, Role::Owner, exists().and(attr("role").ne(owner_role)))?,
            )
            .update(ORGANIZATION, organization)
            .update(NEW_OWNER_COUNT, self.count_owned(&member.user_id, 1, max_owned)?)
            .update(OLD_OWNER_COUNT, self.count_owned(&owner.user_id, -1, max_owned)?)
            .put(
                EVENT,
                self.event_put(
                    &AuditEvent::new(*org, owner.actor(), EventAction::OwnershipTransferred, now)
                        .about_user(&member.user_id, &member.email),
                )?,
            );
        self.commit("ownership transfer", tx).await.map_err(|e| {
            e.explain(|c| {
                if c.failed(OLD_OWNER) {
                    Some(DomainError::Forbidden("only the owner may transfer ownership".into()))
                } else if c.failed(NEW_OWNER) {
                    Some(DomainError::NotFound("member"))
                } else if c.failed(NEW_OWNER_COUNT) {
                    Some(match owned_limit(c.old_item(NEW_OWNER_COUNT), max_owned) {
                        DomainError::Conflict(_) => DomainError::Conflict(format!(
                            "{} already owns {max_owned} organizations, the most one user may own",
                            member.email
                        )),
                        other => other,
                    })
                } else {
                    (c.failed(ORGANIZATION) || c.failed(OLD_OWNER_COUNT)).then(contention)
                }
            })
        })
    }
}
