//! An organization's cloud account: the customer's IAM role the service assumes (with a per-
//! organization external id), and the region its clusters run in. No access keys exist anywhere.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{DomainError, Timestamp, UserId};

/// `arn:aws:iam::<12 digits>:role/<path and name>`, checked here: the emulator maps a malformed ARN
/// to its default account without a word, and AWS's own refusal would come only after a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoleArn {
    arn: String,
    account: String,
}

impl RoleArn {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::Invalid(format!(
                "'{raw}' is not an IAM role ARN: expected arn:aws:iam::<12-digit account>:role/<name>"
            ))
        };
        let rest = raw.strip_prefix("arn:aws:iam::").ok_or_else(bad)?;
        let (account, resource) = rest.split_once(':').ok_or_else(bad)?;
        let name = resource.strip_prefix("role/").ok_or_else(bad)?;
        let name_ok = !name.is_empty()
            && name.len() <= 512
            && !name.starts_with('/')
            && !name.ends_with('/')
            && !name.contains("//")
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
            && name.rsplit('/').next().is_some_and(|last| !last.is_empty() && last.len() <= 64);
        if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) || !name_ok {
            return Err(bad());
        }
        Ok(Self { arn: raw.to_owned(), account: account.to_owned() })
    }

    /// The 12-digit account the role lives in.
    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }
}

impl TryFrom<String> for RoleArn {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RoleArn> for String {
    fn from(value: RoleArn) -> Self {
        value.arn
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

/// An AWS region name (`us-east-1`, `eu-central-2`, `us-gov-west-1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AwsRegion(String);

impl AwsRegion {
    /// Longer than any region's name (`ap-southeast-4`, `us-gov-west-1`), and well within a host
    /// name's 63-character label.
    pub const MAX_LEN: usize = 32;
}

impl AwsRegion {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let parts: Vec<&str> = raw.split('-').collect();
        // Short enough to be one label of the endpoint's host name (sts.<region>.amazonaws.com).
        let ok = raw.len() <= Self::MAX_LEN
            && parts.len() >= 3
            && parts[0].len() == 2
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
            && parts[parts.len() - 1].len() == 1
            && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::Invalid(format!("'{raw}' is not an AWS region name such as us-east-1")))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AwsRegion {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AwsRegion> for String {
    fn from(value: AwsRegion) -> Self {
        value.0
    }
}

/// The per-organization secret-ish value the customer's trust policy requires: stable once made,
/// unguessable (122 random bits), never reused across organizations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExternalId(String);

impl ExternalId {
    pub fn generate() -> Self {
        Self(format!("orgs-{}", uuid::Uuid::new_v4().simple()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The only provider there is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Aws,
}

/// A verified cloud account configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CloudAccount {
    pub provider: Provider,
    pub role_arn: RoleArn,
    pub region: AwsRegion,
    /// The account the role's credentials answered for when it was verified.
    pub account_id: String,
    pub verified_at: Timestamp,
    pub configured_by: UserId,
}

/// Who the service is to a customer's account: its own account, which is never a customer's, and
/// the roles of the functions that assume customers' roles (the ones the trust policy names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceIdentity {
    pub account_id: String,
    pub assuming_roles: Vec<RoleArn>,
}

impl ServiceIdentity {
    /// A role the service may be pointed at: one in a customer's account. A role in the service's
    /// own account would let a tenant turn the service's credentials on the service itself.
    pub fn check_customer_role(&self, role: &RoleArn) -> Result<(), DomainError> {
        if role.account() == self.account_id {
            return Err(DomainError::Invalid(
                "role_arn names a role in this service's own AWS account; create the role in your own account".into(),
            ));
        }
        Ok(())
    }
}

/// The trust policy the customer attaches to their role: only the service's roles that assume
/// customers' roles may assume it (not every principal of the service's account), and only with
/// this organization's external id.
pub fn trust_policy(service: &ServiceIdentity, external_id: &ExternalId) -> serde_json::Value {
    let roles: Vec<&str> = service.assuming_roles.iter().map(RoleArn::as_str).collect();
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": roles },
            "Action": "sts:AssumeRole",
            "Condition": { "StringEquals": { "sts:ExternalId": external_id.as_str() } }
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_are_checked_here_not_by_the_cloud() {
        for ok in [
            "arn:aws:iam::111122223333:role/orgs-clusters",
            "arn:aws:iam::111122223333:role/service/team-a/deployer",
            "arn:aws:iam::000000000001:role/a+b=c,d.e@f_g-h",
        ] {
            assert!(RoleArn::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "arn:aws:iam::11111111111a:role/x",
            "arn:aws:iam::1111222233334:role/x",
            "arn:aws:iam::111122223333:user/x",
            "arn:aws:iam::111122223333:role/",
            "arn:aws:iam::111122223333:role//x",
            "arn:aws:iam::111122223333:role/x/",
            "arn:aws:s3:::bucket",
            "arn:aws-cn:iam::111122223333:role/x",
            "arn:aws:iam::111122223333:role/x y",
            "arn:aws:iam::111122223333:role/x\u{200b}",
        ] {
            assert!(RoleArn::parse(bad).is_err(), "{bad:?}");
        }
        let arn = RoleArn::parse("arn:aws:iam::111122223333:role/orgs").map(|a| a.account().to_owned());
        assert_eq!(arn.ok().as_deref(), Some("111122223333"));
    }

    #[test]
    fn regions_look_like_regions() {
        for ok in ["us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-4"] {
            assert!(AwsRegion::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "us-east", "US-EAST-1", "useast1", "us-east-12", "u-east-1", "us--1"] {
            assert!(AwsRegion::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn external_ids_are_unguessable_and_distinct() {
        let (a, b) = (ExternalId::generate(), ExternalId::generate());
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 5 + 32);
        let service = ServiceIdentity {
            account_id: "999988887777".into(),
            assuming_roles: vec![
                RoleArn::parse("arn:aws:iam::999988887777:role/orgs-configure-account").expect("arn"),
                RoleArn::parse("arn:aws:iam::999988887777:role/orgs-dispatch-table-stream").expect("arn"),
            ],
        };
        let policy = trust_policy(&service, &a);
        assert_eq!(policy["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"], a.as_str());
        assert_eq!(
            policy["Statement"][0]["Principal"]["AWS"],
            serde_json::json!([
                "arn:aws:iam::999988887777:role/orgs-configure-account",
                "arn:aws:iam::999988887777:role/orgs-dispatch-table-stream"
            ]),
            "the roles that assume it, never the account's root"
        );
    }

    #[test]
    fn a_role_in_the_services_own_account_is_refused() {
        let service = ServiceIdentity { account_id: "999988887777".into(), assuming_roles: Vec::new() };
        let own = RoleArn::parse("arn:aws:iam::999988887777:role/anything").expect("arn");
        assert!(matches!(service.check_customer_role(&own), Err(DomainError::Invalid(_))));
        let customer = RoleArn::parse("arn:aws:iam::111122223333:role/orgs").expect("arn");
        assert!(service.check_customer_role(&customer).is_ok());
    }
}
