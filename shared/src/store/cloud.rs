//! The organization's cloud account: its external id, made once, and the verified configuration.

use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;

use super::Store;
use super::clusters::LIVE_CLUSTERS;
use super::expr::{Changes, absent, attr};
use super::items::{CloudAccountItem, Entity, OrgItem, entity_of, from_item, to_item};
use super::keys;
use super::organizations::EVENT;
use super::plumbing::{Tx, built, contention, key, number, s, stored};
use super::service_accounts::Reader;
use crate::domain::authz::Grant;
use crate::domain::{
    AuditEvent, CloudAccount, DomainError, EventAction, ExternalId, Membership, OrgId, Organization,
};

const ACCOUNT: &str = "cloud account";

/// What the cloud-account routes read in one round trip.
pub struct CloudAccountView {
    pub organization: Organization,
    pub membership: Membership,
    pub external_id: Option<ExternalId>,
    pub account: Option<CloudAccount>,
}

impl Store {
    /// The organization, who reads it (a member, or a key: [`Reader`]) and the cloud account
    /// item, strongly consistent, in one round trip; 404 unless the reader is a member, 401 for
    /// a key not in force.
    pub async fn cloud_account_view(
        &self,
        org: &OrgId,
        reader: Reader<'_>,
    ) -> Result<CloudAccountView, DomainError> {
        let items = self
            .get_many(vec![
                key(keys::org_pk(org), keys::ORG_SK),
                reader.item(org),
                key(keys::org_pk(org), keys::CLOUD_ACCOUNT_SK),
            ])
            .await?;
        let (mut organization, mut cloud) = (None, None);
        for item in &items {
            match entity_of(item) {
                Some(Entity::Org) => {
                    organization = Some(Organization::from(from_item::<OrgItem>(item.clone())?))
                }
                Some(Entity::CloudAccount) => cloud = Some(from_item::<CloudAccountItem>(item.clone())?),
                _ => {}
            }
        }
        let membership = reader.acting(organization.as_ref(), &items)?;
        let organization = organization.ok_or(DomainError::NotFound("organization"))?;
        Ok(CloudAccountView {
            organization,
            membership,
            external_id: cloud.as_ref().map(|c| c.external_id.clone()),
            account: cloud.and_then(|c| c.account),
        })
    }

    /// Where the organization's clusters run: the role, its external id and the region; `None`
    /// until an account is connected.
    pub async fn cloud_target(&self, org: &OrgId) -> Result<Option<crate::cloud::Target>, DomainError> {
        let Some(item) = self.get(keys::org_pk(org), keys::CLOUD_ACCOUNT_SK).await? else {
            return Ok(None);
        };
        let item = from_item::<CloudAccountItem>(item)?;
        Ok(item.account.map(|account| crate::cloud::Target {
            role_arn: account.role_arn,
            external_id: item.external_id,
            region: account.region.clone(),
        }))
    }

    /// The organization's external id, made on first use. Two first uses at once agree: the put
    /// is conditional, and the loser reads what the winner wrote.
    pub async fn ensure_external_id(&self, org: &OrgId) -> Result<ExternalId, DomainError> {
        let item = CloudAccountItem {
            pk: keys::org_pk(org),
            sk: keys::CLOUD_ACCOUNT_SK.into(),
            entity: Entity::CloudAccount,
            org_id: *org,
            external_id: ExternalId::generate(),
            account: None,
            live_clusters: 0,
        };
        let put = absent()
            .onto(self.client.put_item().table_name(&self.table).set_item(Some(to_item(&item)?)))
            .send()
            .await;
        match put {
            Ok(_) => Ok(item.external_id),
            Err(aws_sdk_dynamodb::error::SdkError::ServiceError(e))
                if matches!(
                    e.err(),
                    aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                let existing =
                    self.get(keys::org_pk(org), keys::CLOUD_ACCOUNT_SK).await?.ok_or_else(contention)?;
                Ok(from_item::<CloudAccountItem>(existing)?.external_id)
            }
            Err(e) => Err(crate::aws::failure("DynamoDB PutItem", e)),
        }
    }

    /// Saves a verified configuration, on condition that the external id it was verified with is
    /// still the organization's, that no cluster still lives in another account or region, and
    /// that `actor` still holds what `grant` rested on.
    pub async fn configure_cloud_account(
        &self,
        actor: &Membership,
        grant: &Grant,
        external_id: &ExternalId,
        account: &CloudAccount,
        now: crate::domain::Timestamp,
    ) -> Result<(), DomainError> {
        let org = &actor.org_id;
        // The same external id, and no live cluster elsewhere: none at all, or all in this account
        // and region.
        let live = attr(LIVE_CLUSTERS);
        let same_place = attr("account")
            .dot("role_arn")
            .eq(s(account.role_arn.as_str()))
            .and(attr("account").dot("region").eq(s(account.region.as_str())));
        let changes = Changes::new()
            .set(attr("account"), stored(account)?)
            .when(attr("external_id").eq(s(external_id.as_str())))
            .when(live.missing().or(live.eq(number(0))).or(same_place));
        let update = built(
            changes
                .onto(self.update(key(keys::org_pk(org), keys::CLOUD_ACCOUNT_SK)))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )?;
        let event = AuditEvent::new(*org, actor.actor(), EventAction::CloudAccountConfigured, now)
            .with("role_arn", &account.role_arn)
            .with("region", account.region.as_str())
            .with("account_id", &account.account_id);
        let tx = Tx::new().update(ACCOUNT, update).put(EVENT, self.event_put(&event)?);
        let tx = self.still_granted(tx, org, actor, grant)?;
        let result = self.commit("cloud account", tx).await;
        let Err(e) = result else { return Ok(()) };
        let live = e.failed(ACCOUNT);
        let names = if live { self.live_cluster_names(org).await? } else { Vec::new() };
        Err(e.explain(|c| {
            if c.failed(ACCOUNT) && !names.is_empty() {
                Some(DomainError::Conflict(format!(
                    "the account cannot change while clusters run in it: terminate {} first",
                    names.join(", ")
                )))
            } else if c.failed(ACCOUNT) {
                Some(contention())
            } else {
                super::grants::lost_grant(c, "configure the cloud account")
            }
        }))
    }
}
