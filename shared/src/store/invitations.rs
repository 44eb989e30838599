//! Invitations: issued under the email slot's condition, answered once, withdrawn with their
//! inviter, and the story of their email.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, ReturnValuesOnConditionCheckFailure, Update};

use super::Store;
use super::items::{
    EmailSlotItem, Entity, InvitationItem, MemberItem, SlotState, UserItem, entity_of, from_item, to_item,
};
use super::keys;
use super::plumbing::{Filter, Query, Tx, built, contention, key, s, stored};
use crate::aws::failure;
use crate::domain::{
    Delivery, DomainError, Email, Invitation, InvitationId, InvitationStatus, MailProblem, Membership, OrgId,
    Timestamp, User, UserId,
};

const INVITATION: &str = "invitation";
const SLOT: &str = "email slot";
const INVITER: &str = "inviter's role";
const MEMBER: &str = "new membership";

impl Store {
    /// Writes a new pending invitation. Fails with `Conflict` when the email already belongs to a
    /// member or holds an open invitation, and with `NotFound` when the inviter lost their role
    /// meanwhile. The stream then carries it to the mailer.
    pub async fn create_invitation(
        &self,
        inviter: &Membership,
        invitation: &Invitation,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let slot = built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(to_item(&EmailSlotItem::invited(invitation))?))
                .condition_expression(
                    "attribute_not_exists(pk) OR (#state = :invited AND invitation.expires_at <= :now)",
                )
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":invited", stored(&SlotState::Invited)?)
                .expression_attribute_values(":now", stored(&now)?)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )?;
        let tx = Tx::new()
            .put(
                INVITATION,
                self.put(to_item(&InvitationItem::from(invitation))?, "attribute_not_exists(pk)")?,
            )
            .put(SLOT, slot)
            .check(INVITER, self.still_manager(&inviter.org_id, &inviter.user_id)?);
        self.commit("invitation", tx).await.map_err(|e| {
            e.explain(|c| {
                if c.failed(SLOT) {
                    let state =
                        c.old_item(SLOT).and_then(|i| from_item::<EmailSlotItem>(i).ok()).map(|s| s.state);
                    Some(DomainError::Conflict(match state {
                        Some(SlotState::Member) => {
                            format!("{} is already a member of this organization", invitation.email)
                        }
                        _ => format!(
                            "{} already has a pending invitation to this organization",
                            invitation.email
                        ),
                    }))
                } else {
                    c.failed(INVITER).then_some(DomainError::NotFound("organization"))
                }
            })
        })
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
        let condition = if status == InvitationStatus::Revoked {
            "#status = :pending"
        } else {
            "#status = :pending AND expires_at > :now"
        };
        built(
            self.update(key(keys::invitation_pk(id), keys::INVITATION_SK))
                .update_expression("SET #status = :closed, responded_at = :now REMOVE gsi1pk, gsi1sk")
                .condition_expression(condition)
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":closed", stored(&status)?)
                .expression_attribute_values(":pending", stored(&InvitationStatus::Pending)?)
                .expression_attribute_values(":now", stored(&now)?)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )
    }

    /// Frees an email's slot if it still holds invitation `id`.
    fn free_slot(&self, org: &OrgId, email: &Email, id: &InvitationId) -> Result<Delete, DomainError> {
        built(
            self.delete(key(keys::org_pk(org), keys::email_slot_sk(email)))
                .condition_expression("attribute_not_exists(pk) OR invitation.invitation_id = :id")
                .expression_attribute_values(":id", s(id.to_string()))
                .build(),
        )
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
        };
        let slot = built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(to_item(&EmailSlotItem::member(
                    &invitation.org_id,
                    &user.user_id,
                    &user.email,
                ))?))
                .condition_expression("#state = :invited AND invitation.invitation_id = :id")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":invited", stored(&SlotState::Invited)?)
                .expression_attribute_values(":id", s(invitation.invitation_id.to_string()))
                .build(),
        )?;
        let tx = Tx::new()
            .update(INVITATION, self.close(&invitation.invitation_id, InvitationStatus::Accepted, now)?)
            .put(SLOT, slot)
            .put(MEMBER, self.put(to_item(&MemberItem::from(&membership))?, "attribute_not_exists(pk)")?)
            .check(INVITER, self.still_manager(&invitation.org_id, &invitation.invited_by)?);
        self.commit("accept", tx).await.map_err(|e| {
            e.explain(|c| {
                if c.failed(INVITATION) {
                    Some(Self::answer_failed(c.old_item(INVITATION), &user.email, now))
                } else if c.failed(MEMBER) {
                    Some(DomainError::Conflict("you are already a member of this organization".into()))
                } else if c.failed(INVITER) {
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
        let tx = Tx::new()
            .update(INVITATION, self.close(&invitation.invitation_id, InvitationStatus::Declined, now)?)
            .delete(SLOT, self.free_slot(&invitation.org_id, &invitation.email, &invitation.invitation_id)?);
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
    /// Unless `actor` sent it, they must still manage members at the moment of the write.
    pub async fn revoke_invitation(
        &self,
        actor: &Membership,
        invitation: &Invitation,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let mut tx = self.revoke_into(
            Tx::new(),
            &invitation.org_id,
            &[(invitation.invitation_id, invitation.email.clone())],
            now,
        )?;
        if actor.user_id != invitation.invited_by {
            tx = tx.check(INVITER, self.still_manager(&actor.org_id, &actor.user_id)?);
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
                } else if c.failed(INVITER) {
                    Some(DomainError::Forbidden("only the owner and admins may revoke an invitation".into()))
                } else {
                    c.failed(REVOKED_SLOT).then(contention)
                }
            })
        })
    }

    /// The open invitations `inviter` sent to `org`, from the email slots (strongly consistent).
    pub(super) async fn open_invitations_by(
        &self,
        org: &OrgId,
        inviter: &UserId,
        now: Timestamp,
    ) -> Result<Vec<(InvitationId, Email)>, DomainError> {
        let names = [("#state", "state")];
        let values = [(":invited", stored(&SlotState::Invited)?), (":inviter", s(inviter.as_str()))];
        let mut query = Query::partition(keys::org_pk(org));
        query.filter = Some(Filter {
            expression: "#state = :invited AND invitation.invited_by = :inviter",
            names: &names,
            values: &values,
        });
        let mut open = Vec::new();
        for item in self.query(query).await? {
            let slot = from_item::<EmailSlotItem>(item)?;
            if let Some(pending) = slot.pending_invitation(now) {
                open.push((pending.invitation_id, pending.email));
            }
        }
        Ok(open)
    }

    /// Adds to `tx` the withdrawal of each invitation: revoked, off the invitee's dashboard, its
    /// email slot freed. Each is conditional on still being pending.
    pub(super) fn revoke_into(
        &self,
        mut tx: Tx,
        org: &OrgId,
        invitations: &[(InvitationId, Email)],
        now: Timestamp,
    ) -> Result<Tx, DomainError> {
        for (id, email) in invitations {
            tx = tx
                .update(REVOKED, self.close(id, InvitationStatus::Revoked, now)?)
                .delete(REVOKED_SLOT, self.free_slot(org, email, id)?);
        }
        Ok(tx)
    }

    /// Records that the invitation email went out, once: a redelivered stream record finds the
    /// delivery already there and changes nothing. Returns whether this call recorded it. The
    /// Members page's copy on the email slot follows.
    pub async fn record_delivery(
        &self,
        invitation: &Invitation,
        delivery: &Delivery,
    ) -> Result<bool, DomainError> {
        let recorded = self
            .update_once(
                &invitation.invitation_id,
                "SET delivery = :d",
                "attribute_exists(pk) AND attribute_not_exists(delivery)",
                stored(delivery)?,
            )
            .await?;
        self.project_mail(invitation, "SET invitation.sent_at = :d", stored(&delivery.sent_at)?).await?;
        Ok(recorded)
    }

    /// Records why the invitation email did not arrive (the first word on it wins; a bounce after
    /// a complaint changes nothing), and shows it to the inviter on the Members page.
    pub async fn record_mail_problem(
        &self,
        invitation: &Invitation,
        problem: &MailProblem,
    ) -> Result<bool, DomainError> {
        let recorded = self
            .update_once(
                &invitation.invitation_id,
                "SET mail_problem = :d",
                "attribute_exists(pk) AND attribute_not_exists(mail_problem)",
                stored(problem)?,
            )
            .await?;
        if recorded {
            self.project_mail(invitation, "SET invitation.mail_problem = :d", stored(problem)?).await?;
        }
        Ok(recorded)
    }

    async fn update_once(
        &self,
        id: &InvitationId,
        expression: &str,
        condition: &str,
        value: AttributeValue,
    ) -> Result<bool, DomainError> {
        let key = key(keys::invitation_pk(id), keys::INVITATION_SK);
        self.update_if(key, expression, condition, vec![(":d", value)]).await
    }

    /// Copies a fact about the email onto the slot the Members page reads, while the slot still
    /// holds this invitation (once answered or replaced, there is nothing to show it on).
    async fn project_mail(
        &self,
        invitation: &Invitation,
        expression: &str,
        value: AttributeValue,
    ) -> Result<(), DomainError> {
        let slot = key(keys::org_pk(&invitation.org_id), keys::email_slot_sk(&invitation.email));
        let values = vec![(":id", s(invitation.invitation_id.to_string())), (":d", value)];
        self.update_if(slot, expression, "invitation.invitation_id = :id", values).await.map(drop)
    }

    /// One conditional UpdateItem; whether its condition held.
    async fn update_if(
        &self,
        key: super::items::Item,
        expression: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<bool, DomainError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(expression)
            .condition_expression(condition);
        for (name, value) in values {
            request = request.expression_attribute_values(name, value);
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(failure("DynamoDB UpdateItem", e)),
        }
    }
}

/// The names of a removal's revocations (one name for all of them).
pub(super) const REVOKED: &str = "revoked invitation";
pub(super) const REVOKED_SLOT: &str = "revoked invitation's slot";
