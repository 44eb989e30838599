//! Invitations: issued under the email slot's condition, answered once, withdrawn with their
//! inviter, and the story of their email.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, ReturnValuesOnConditionCheckFailure, Update};

use super::Store;
use super::expr::{Changes, Cond, absent, attr, exists};
use super::grants::lost_grant;
use super::items::{
    EmailSlotItem, Entity, InvitationItem, MemberItem, SlotState, UserItem, entity_of, from_item,
    invitation_ttl, slot_ttl, to_item,
};
use super::keys;
use super::limits::{LOG_ACTIONS, REREADS, RateLogs, decisions};
use super::organizations::EVENT;
use super::pages::{Page, PageRequest, cursor, position};
use super::plumbing::{Query, Tx, TxError, built, contention, key, s, stored};
use super::schema;
use crate::config::Limits;
use crate::domain::authz::Grant;
use crate::domain::{
    AuditEvent, Delivery, DomainError, Email, EventAction, Invitation, InvitationId, InvitationStatus,
    MailProblem, Membership, OrgId, Role, Settings, Timestamp, User, UserId,
};

const INVITATION: &str = "invitation";
const SLOT: &str = "email slot";
const INVITER: &str = "inviter's role";
const INVITER_PERMISSION: &str = "organization's permission for the inviter";
const MEMBER: &str = "new membership";

impl Store {
    /// Writes a new pending invitation, with its audit event and its record in each rate log as
    /// `logs` (read with [`Store::organization_for_sending`]). Fails
    /// with `Conflict` when the email already belongs to a member or holds an open invitation,
    /// `Forbidden` when what the inviter's grant rested on changed meanwhile, and `TooMany` past a
    /// limit. The stream then carries it to the mailer.
    pub async fn create_invitation(
        &self,
        inviter: &Membership,
        grant: &Grant,
        invitation: &Invitation,
        logs: RateLogs,
        limits: &Limits,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let slot = built(
            self.put_if(to_item(&EmailSlotItem::invited(invitation))?, slot_free(now)?)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )?;
        let event = AuditEvent::new(invitation.org_id, inviter.actor(), EventAction::Invited, now)
            .about_invitation(invitation.invitation_id, &invitation.email)
            .with("role", invitation.role.as_str());
        let tx = Tx::new()
            .put(INVITATION, self.put(to_item(&InvitationItem::from(invitation))?, absent())?)
            .put(SLOT, slot)
            .put(EVENT, self.event_put(&event)?);
        let tx = self.still_granted(tx, &inviter.org_id, inviter, grant)?;
        self.commit_with_logs("invitation", tx, inviter, &invitation.email, logs, limits, now).await.map_err(
            |e| {
                e.explain(|c| {
                    if c.failed(SLOT) {
                        Some(slot_taken(
                            c,
                            &invitation.email,
                            "already has a pending invitation to this organization",
                        ))
                    } else {
                        lost_grant(c, "invite")
                    }
                })
            },
        )
    }

    /// Commits a send with its record in each rate log as `read`, deciding again on the logs as
    /// they are when a parallel send moved one (each loss is another send that got in, so this
    /// ends within [`decisions`]). Any other failure is the caller's to explain.
    #[allow(clippy::too_many_arguments)]
    async fn commit_with_logs(
        &self,
        what: &'static str,
        tx: Tx,
        sender: &Membership,
        recipient: &crate::domain::Email,
        read: RateLogs,
        limits: &Limits,
        now: Timestamp,
    ) -> Result<(), TxError> {
        let (org, inviter) = (&sender.org_id, &sender.user_id);
        let mut logs = read;
        let mut rereads = 0;
        for _ in 0..decisions(limits) {
            let with_logs = self
                .record_sends(tx.clone(), sender, recipient, &logs, limits, now)
                .map_err(TxError::Failed)?;
            match self.commit(what, with_logs).await {
                Err(e) if LOG_ACTIONS.iter().any(|n| e.failed(n)) && !e.any_failed_except(&LOG_ACTIONS) => {
                    let as_now = match &e {
                        TxError::Cancelled(c) => logs.after(c).map_err(TxError::Failed)?,
                        TxError::Failed(_) => None,
                    };
                    logs = match as_now {
                        Some(logs) => logs,
                        None if rereads < REREADS => {
                            rereads += 1;
                            self.rate_logs(org, inviter, recipient).await.map_err(TxError::Failed)?
                        }
                        None => return Err(e),
                    };
                }
                result => return result,
            }
        }
        Err(TxError::Failed(contention()))
    }

    /// An invitation and the user answering it, in one round trip.
    pub async fn invitation_and_user(
        &self,
        id: &InvitationId,
        user: &UserId,
    ) -> Result<(Option<Invitation>, Option<User>), DomainError> {
        let items = self
            .get_many(vec![
                key(keys::invitation_pk(id), keys::INVITATION_SK),
                key(keys::user_pk(user), keys::USER_SK),
            ])
            .await?;
        let (mut invitation, mut found_user) = (None, None);
        for item in items {
            match entity_of(&item) {
                Some(Entity::Invitation) => {
                    invitation = Some(Invitation::from(from_item::<InvitationItem>(item)?))
                }
                Some(Entity::User) => found_user = Some(User::from(from_item::<UserItem>(item)?)),
                _ => {}
            }
        }
        Ok((invitation, found_user))
    }

    pub async fn invitation(&self, id: &InvitationId) -> Result<Option<Invitation>, DomainError> {
        self.get(keys::invitation_pk(id), keys::INVITATION_SK)
            .await?
            .map(|i| from_item::<InvitationItem>(i).map(Invitation::from))
            .transpose()
    }

    /// Ends a pending invitation with `status`, on condition that it is still pending (and, for
    /// an answer, unexpired), and takes it off the dashboard index.
    fn close(
        &self,
        id: &InvitationId,
        status: InvitationStatus,
        now: Timestamp,
    ) -> Result<Update, DomainError> {
        let mut changes = Changes::new()
            .set(attr("status"), stored(&status)?)
            .set(attr("responded_at"), stored(&now)?)
            .remove(attr(schema::GSI1_PK))
            .remove(attr(schema::GSI1_SK))
            .when(attr("status").eq(stored(&InvitationStatus::Pending)?));
        if status != InvitationStatus::Revoked {
            changes = changes.when(attr("expires_at").gt(stored(&now)?));
        }
        built(
            changes
                .onto(self.update(key(keys::invitation_pk(id), keys::INVITATION_SK)))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )
    }

    /// Frees an email's slot if it still holds invitation `id`.
    fn free_slot(&self, org: &OrgId, email: &Email, id: &InvitationId) -> Result<Delete, DomainError> {
        let holds = absent().or(attr("invitation").dot("invitation_id").eq(s(id.to_string())));
        built(holds.onto(self.delete(key(keys::org_pk(org), keys::email_slot_sk(email)))).build())
    }

    /// Explains a failed answer from the invitation as it was.
    fn answer_failed(old: Option<super::items::Item>, email: &Email, now: Timestamp) -> DomainError {
        let current = old.and_then(|i| from_item::<InvitationItem>(i).ok()).map(Invitation::from);
        match current {
            Some(inv) => inv.check_answerable_by(email, now).err().unwrap_or_else(contention),
            None => DomainError::NotFound("invitation"),
        }
    }

    /// Accepts: the invitation becomes accepted, the email's slot becomes a member's, and the
    /// membership is created, all or nothing, while the inviter may still invite. Two accepts of
    /// one invitation: exactly one wins. An inviter who lost their role took the invitation with
    /// them: not found.
    pub async fn accept_invitation(
        &self,
        invitation: &Invitation,
        user: &User,
        now: Timestamp,
    ) -> Result<Membership, DomainError> {
        let membership = Membership {
            org_id: invitation.org_id,
            org_name: invitation.org_name.clone(),
            user_id: user.user_id.clone(),
            email: user.email.clone(),
            role: invitation.role.into(),
            joined_at: now,
            key: None,
        };
        let slot = built(
            self.put_if(
                to_item(&EmailSlotItem::member(&invitation.org_id, &user.user_id, &user.email))?,
                slot_holds(&invitation.invitation_id)?,
            )
            .build(),
        )?;
        let event = AuditEvent::new(
            invitation.org_id,
            crate::domain::Actor::Member { user_id: user.user_id.clone(), email: user.email.clone() },
            EventAction::Accepted,
            now,
        )
        .about_invitation(invitation.invitation_id, &invitation.email)
        .with("role", invitation.role.as_str())
        .with("invited_by", &invitation.invited_by_email);
        let mut tx = Tx::new()
            .update(INVITATION, self.close(&invitation.invitation_id, InvitationStatus::Accepted, now)?)
            .put(SLOT, slot)
            .put(MEMBER, self.put(to_item(&MemberItem::from(&membership))?, absent())?)
            .check(INVITER, self.inviter_still_may(invitation)?)
            .put(EVENT, self.event_put(&event)?);
        if invitation.inviter_role == Role::Member && invitation.invited_by.service_account().is_none() {
            // A plain member invited under `members_can_invite`: the invitation stands only while
            // the organization still lets members invite.
            tx = tx.check(
                INVITER_PERMISSION,
                self.permission_on(&invitation.org_id, crate::domain::Permission::MembersCanInvite)?,
            );
        }
        self.commit("accept", tx).await.map_err(|e| {
            e.explain(|c| {
                if c.failed(INVITATION) {
                    Some(Self::answer_failed(c.old_item(INVITATION), &user.email, now))
                } else if c.failed(MEMBER) {
                    Some(DomainError::Conflict("you are already a member of this organization".into()))
                } else if c.failed(INVITER) || c.failed(INVITER_PERMISSION) {
                    Some(DomainError::NotFound("invitation"))
                } else {
                    c.failed(SLOT).then(contention)
                }
            })
        })?;
        Ok(membership)
    }

    /// Declines: the invitation becomes declined and the email's slot is freed for a new one.
    pub async fn decline_invitation(
        &self,
        invitation: &Invitation,
        user: &User,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let event = AuditEvent::new(
            invitation.org_id,
            crate::domain::Actor::Member { user_id: user.user_id.clone(), email: user.email.clone() },
            EventAction::Declined,
            now,
        )
        .about_invitation(invitation.invitation_id, &invitation.email);
        let tx = Tx::new()
            .update(INVITATION, self.close(&invitation.invitation_id, InvitationStatus::Declined, now)?)
            .delete(SLOT, self.free_slot(&invitation.org_id, &invitation.email, &invitation.invitation_id)?)
            .put(EVENT, self.event_put(&event)?);
        self.commit("decline", tx).await.map_err(|e| {
            e.explain(|c| {
                if c.failed(INVITATION) {
                    Some(Self::answer_failed(c.old_item(INVITATION), &user.email, now))
                } else {
                    c.failed(SLOT).then(contention)
                }
            })
        })
    }

    /// Withdraws a pending invitation: revoked, off the invitee's dashboard, its email slot freed.
    /// `grant` is what the actor's right rested on (`None` for one's own invitation).
    pub async fn revoke_invitation(
        &self,
        actor: &Membership,
        grant: Option<&Grant>,
        invitation: &Invitation,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let mut tx = self.revoke_into(
            Tx::new(),
            &invitation.org_id,
            &[(invitation.invitation_id, invitation.email.clone())],
            &Withdrawal { actor: actor.actor(), reason: None },
            now,
        )?;
        if let Some(grant) = grant {
            tx = self.still_granted(tx, &actor.org_id, actor, grant)?;
        }
        self.commit("revocation", tx).await.map_err(|e| {
            e.explain(|c| {
                if c.failed(REVOKED) {
                    let old = c
                        .old_item(REVOKED)
                        .and_then(|i| from_item::<InvitationItem>(i).ok())
                        .map(Invitation::from);
                    Some(match old {
                        Some(inv) => inv.check_revocable().err().unwrap_or_else(contention),
                        None => DomainError::NotFound("invitation"),
                    })
                } else if c.failed(REVOKED_SLOT) {
                    Some(contention())
                } else {
                    lost_grant(c, "revoke an invitation")
                }
            })
        })
    }

    /// Sends a pending invitation again (an expired one too): a new expiry from now, the email
    /// asked for once more, a slot of each rate limit. Refused when it was answered or revoked,
    /// or when its email slot now holds a member or a newer invitation.
    pub async fn resend_invitation(
        &self,
        actor: &Membership,
        grant: &Grant,
        invitation: &Invitation,
        settings: &Settings,
        limits: &Limits,
        now: Timestamp,
    ) -> Result<Invitation, DomainError> {
        let resent = Invitation {
            expires_at: now.plus(settings.invitation_ttl_days.duration()),
            sends: invitation.sends + 1,
            delivery: None,
            mail_problem: None,
            ..invitation.clone()
        };
        let changes = Changes::new()
            .set(attr("expires_at"), stored(&resent.expires_at)?)
            .set(attr("sends"), stored(&resent.sends)?)
            .set(attr(schema::TTL), stored(&invitation_ttl(resent.expires_at))?)
            .remove(attr("delivery"))
            .remove(attr("mail_problem"))
            .when(attr("status").eq(stored(&InvitationStatus::Pending)?))
            .when(attr("sends").eq(stored(&invitation.sends)?));
        let update = built(
            changes
                .onto(self.update(key(keys::invitation_pk(&invitation.invitation_id), keys::INVITATION_SK)))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )?;
        // The slot may have aged out (TTL) since the invitation expired: it is put back.
        let slot = built(
            self.put_if(
                to_item(&EmailSlotItem::invited(&resent))?,
                absent().or(slot_holds(&invitation.invitation_id)?),
            )
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build(),
        )?;
        debug_assert_eq!(EmailSlotItem::invited(&resent).ttl, Some(slot_ttl(resent.expires_at)));
        let event = AuditEvent::new(invitation.org_id, actor.actor(), EventAction::Resent, now)
            .about_invitation(invitation.invitation_id, &invitation.email)
            .with("expires_at", resent.expires_at);
        let tx = Tx::new().update(INVITATION, update).put(SLOT, slot).put(EVENT, self.event_put(&event)?);
        let tx = self.still_granted(tx, &actor.org_id, actor, grant)?;
        let logs = self.rate_logs(&actor.org_id, &actor.user_id, &invitation.email).await?;
        self.commit_with_logs("resend", tx, actor, &invitation.email, logs, limits, now).await.map_err(
            |e| {
                e.explain(|c| {
                    if c.failed(INVITATION) {
                        let old = c
                            .old_item(INVITATION)
                            .and_then(|i| from_item::<InvitationItem>(i).ok())
                            .map(Invitation::from);
                        Some(match old {
                            Some(inv) if inv.status == InvitationStatus::Pending => contention(),
                            Some(inv) => inv.check_revocable().err().unwrap_or_else(contention),
                            None => DomainError::NotFound("invitation"),
                        })
                    } else if c.failed(SLOT) {
                        Some(slot_taken(
                            c,
                            &invitation.email,
                            "has a newer invitation that replaced this one: resend that one instead",
                        ))
                    } else {
                        lost_grant(c, "resend this invitation")
                    }
                })
            },
        )?;
        Ok(resent)
    }

    /// One page of the organization's invitations, newest first, optionally of one status
    /// (`expired` is a pending one past its time). Read from GSI2: eventually consistent.
    pub async fn invitations_page(
        &self,
        org: &OrgId,
        status: Option<InvitationStatus>,
        request: &PageRequest,
        now: Timestamp,
    ) -> Result<Page<Invitation>, DomainError> {
        let partition = keys::org_invitations_gsi_pk(org);
        let list = match status {
            None => "invitations".to_owned(),
            Some(s) => format!("invitations:{}", stored(&s)?.as_s().map(String::as_str).unwrap_or("")),
        };
        let pos = position(
            request,
            &list,
            org,
            &[schema::GSI2_PK, schema::GSI2_SK, schema::PK, schema::SK],
            |name, value| match name {
                schema::GSI2_PK => value == partition,
                schema::PK => value.starts_with(keys::INVITATION_PREFIX),
                schema::SK => value == keys::INVITATION_SK,
                _ => true,
            },
        )?;
        let pending = attr("status").eq(stored(&InvitationStatus::Pending)?);
        let mut query = Query::gsi2(partition.clone()).newest_first();
        query.filter = match status {
            None => None,
            Some(InvitationStatus::Pending) => Some(pending.and(attr("expires_at").gt(stored(&now)?))),
            Some(InvitationStatus::Expired) => Some(pending.and(attr("expires_at").le(stored(&now)?))),
            Some(other) => Some(attr("status").eq(stored(&other)?)),
        };
        let (items, last) = self.page(query, pos.limit, pos.start).await?;
        let invitations = items
            .into_iter()
            .map(|i| from_item::<InvitationItem>(i).map(|i| Invitation::from(i).shown_at(now)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items: invitations, next_cursor: cursor(&list, org, last)? })
    }

    /// Copies `name` onto the organization's pending invitations (what invitees' dashboards show).
    pub(super) async fn copy_org_name_to_invitations(
        &self,
        org: &OrgId,
        name: &str,
    ) -> Result<usize, DomainError> {
        let mut query = Query::gsi2(keys::org_invitations_gsi_pk(org));
        query.filter =
            Some(attr("status").eq(stored(&InvitationStatus::Pending)?).and(attr("org_name").ne(s(name))));
        let mut changed = 0;
        for item in self.query(query).await? {
            let inv = from_item::<InvitationItem>(item)?;
            if self.set_copied_name(key(inv.pk, inv.sk), name).await? {
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Condition that the inviter of `invitation` may still stand behind it: a service account
    /// (by a key with `invite_member`) must still exist; an inviter who was a plain member
    /// (invited under `members_can_invite`) must still be a member; any other must still be the
    /// owner or an admin (a demotion withdraws their invitations).
    fn inviter_still_may(
        &self,
        invitation: &Invitation,
    ) -> Result<aws_sdk_dynamodb::types::ConditionCheck, DomainError> {
        if let Some(account) = invitation.invited_by.service_account() {
            let there = attr("accounts").entry(account.to_string()).exists();
            let item = key(keys::org_pk(&invitation.org_id), keys::SERVICE_ACCOUNTS_SK);
            built(there.onto(self.condition(item)).build())
        } else if invitation.inviter_role == Role::Member {
            let member = key(keys::org_pk(&invitation.org_id), keys::member_sk(&invitation.invited_by));
            built(exists().onto(self.condition(member)).build())
        } else {
            self.still_manager(&invitation.org_id, &invitation.invited_by)
        }
    }

    /// The open invitations `inviter` sent to `org`, from the email slots (strongly consistent).
    pub(super) async fn open_invitations_by(
        &self,
        org: &OrgId,
        inviter: &UserId,
        now: Timestamp,
    ) -> Result<Vec<(InvitationId, Email)>, DomainError> {
        let mut query = Query::partition(keys::org_pk(org));
        query.filter = Some(
            attr("state")
                .eq(stored(&SlotState::Invited)?)
                .and(attr("invitation").dot("invited_by").eq(s(inviter.as_str()))),
        );
        let mut open = Vec::new();
        for item in self.query(query).await? {
            let slot = from_item::<EmailSlotItem>(item)?;
            open.extend(slot.open_invitation(now));
        }
        Ok(open)
    }

    /// Adds to `tx` the withdrawal of each invitation: revoked, off the invitee's dashboard, its
    /// email slot freed, and its audit event. Each is conditional on still being pending.
    pub(super) fn revoke_into(
        &self,
        mut tx: Tx,
        org: &OrgId,
        invitations: &[(InvitationId, Email)],
        why: &Withdrawal,
        now: Timestamp,
    ) -> Result<Tx, DomainError> {
        for (id, email) in invitations {
            let mut event = AuditEvent::new(*org, why.actor.clone(), EventAction::Revoked, now)
                .about_invitation(*id, email);
            if let Some(reason) = why.reason {
                event = event.with("reason", reason);
            }
            tx = tx
                .update(REVOKED, self.close(id, InvitationStatus::Revoked, now)?)
                .delete(REVOKED_SLOT, self.free_slot(org, email, id)?)
                .put(EVENT, self.event_put(&event)?);
        }
        Ok(tx)
    }

    /// Records that the invitation email went out, once: a redelivered stream record finds the
    /// delivery already there and changes nothing. Returns whether this call recorded it.
    pub async fn record_delivery(
        &self,
        invitation: &Invitation,
        delivery: &Delivery,
    ) -> Result<bool, DomainError> {
        let recorded = self.update_once(&invitation.invitation_id, "delivery", stored(delivery)?).await?;
        Ok(recorded)
    }

    /// Records why the invitation email did not arrive (the first word on it wins; a bounce after
    /// a complaint changes nothing); the invitations list shows it to the inviter.
    pub async fn record_mail_problem(
        &self,
        invitation: &Invitation,
        problem: &MailProblem,
    ) -> Result<bool, DomainError> {
        let recorded = self.update_once(&invitation.invitation_id, "mail_problem", stored(problem)?).await?;
        Ok(recorded)
    }

    /// Sets the invitation's `field` to `value` unless it has one already.
    async fn update_once(
        &self,
        id: &InvitationId,
        field: &'static str,
        value: AttributeValue,
    ) -> Result<bool, DomainError> {
        let key = key(keys::invitation_pk(id), keys::INVITATION_SK);
        self.update_if(key, Changes::new().set(attr(field), value).when(exists()).when(attr(field).missing()))
            .await
    }
}

/// The 409 of an email slot that holds something else: a member, or (in `otherwise`'s words)
/// another invitation.
fn slot_taken(c: &super::plumbing::Cancelled, email: &Email, otherwise: &str) -> DomainError {
    let state = c.old_item(SLOT).and_then(|i| from_item::<EmailSlotItem>(i).ok()).map(|s| s.state);
    DomainError::Conflict(match state {
        Some(SlotState::Member) => format!("{email} is already a member of this organization"),
        _ => format!("{email} {otherwise}"),
    })
}

/// Who withdraws invitations, and why when it is not their own decision (their inviter was
/// removed or demoted).
pub(super) struct Withdrawal {
    pub actor: crate::domain::Actor,
    pub reason: Option<&'static str>,
}

/// DynamoDB actions one withdrawal takes: the invitation, its slot, its audit event.
pub(super) const ACTIONS_PER_WITHDRAWAL: usize = 3;

/// The names of a removal's revocations (one name for all of them).
pub(super) const REVOKED: &str = "revoked invitation";
pub(super) const REVOKED_SLOT: &str = "revoked invitation's slot";

/// An email slot an invitation may take: free, or held by an invitation that expired by `now`.
pub(super) fn slot_free(now: Timestamp) -> Result<Cond, DomainError> {
    let expired = attr("state")
        .eq(stored(&SlotState::Invited)?)
        .and(attr("invitation").dot("expires_at").le(stored(&now)?));
    Ok(absent().or(expired))
}

/// An email slot that holds invitation `id`.
fn slot_holds(id: &InvitationId) -> Result<Cond, DomainError> {
    Ok(attr("state")
        .eq(stored(&SlotState::Invited)?)
        .and(attr("invitation").dot("invitation_id").eq(s(id.to_string()))))
}
