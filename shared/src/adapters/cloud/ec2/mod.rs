//! The EC2 adapter of [`Fleet`]: every call acts as the customer's role, in the cluster's region.
//! Behind the `ec2` feature: only the functions that act on clusters (the table's ordered reader
//! and the reconciler) link it; the API functions never call EC2.

pub mod query;

use aws_config::SdkConfig;

use self::query::{Ec2, Params, items, text};
use super::{CloudError, Fleet, Instance, Launch, Target, assume_credentials};

/// The tag every instance carries: how the provisioner finds a cluster's instances again, so
/// that a redelivered record never launches a second set (the emulator ignores ClientToken).
pub const CLUSTER_TAG: &str = "orgs:cluster-id";
pub const ORG_TAG: &str = "orgs:org-id";

pub struct Ec2Fleet {
    sdk: SdkConfig,
    /// The machine image clusters boot (`CLUSTER_IMAGE_ID`).
    image_id: String,
    /// What instances boot with to start the node agent; a fleet without it (the reconciler's)
    /// never launches.
    bootstrap: Option<super::user_data::NodeBootstrap>,
}

impl Ec2Fleet {
    pub fn new(sdk: SdkConfig, image_id: impl Into<String>) -> Self {
        Self { sdk, image_id: image_id.into(), bootstrap: None }
    }

    /// Launches instances with the node agent's user data.
    pub fn with_bootstrap(mut self, bootstrap: super::user_data::NodeBootstrap) -> Self {
        self.bootstrap = Some(bootstrap);
        self
    }

    async fn client(&self, target: &Target) -> Result<Ec2, CloudError> {
        let credentials = assume_credentials(&self.sdk, target).await?;
        Ec2::new(self.sdk.endpoint_url(), target.region.as_str(), credentials)
    }
}

/// A tag specification for `resource`: `TagSpecification.1.ResourceType` and its tags.
fn tagged(mut params: Params, resource: &str, tags: &[(&str, String)]) -> Params {
    params = params.set("TagSpecification.1.ResourceType", resource);
    for (i, (key, value)) in tags.iter().enumerate() {
        params = params
            .set(format!("TagSpecification.1.Tag.{}.Key", i + 1), *key)
            .set(format!("TagSpecification.1.Tag.{}.Value", i + 1), value.clone());
    }
    params
}

/// One TCP rule from anywhere per port, as `IpPermissions.N`.
fn rules(mut params: Params, ports: &[u16]) -> Params {
    for (i, port) in ports.iter().enumerate() {
        let n = i + 1;
        params = params
            .set(format!("IpPermissions.{n}.IpProtocol"), "tcp")
            .set(format!("IpPermissions.{n}.FromPort"), port.to_string())
            .set(format!("IpPermissions.{n}.ToPort"), port.to_string())
            .set(format!("IpPermissions.{n}.IpRanges.1.CidrIp"), "0.0.0.0/0");
    }
    params
}

type Fut<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, CloudError>> + Send + 'a>>;

impl Fleet for Ec2Fleet {
    fn find<'a>(
        &'a self,
        target: &'a Target,
        cluster: &'a crate::domain::ClusterId,
    ) -> Fut<'a, Vec<Instance>> {
        Box::pin(async move {
            let ec2 = self.client(target).await?;
            let mut found = Vec::new();
            let mut next: Option<String> = None;
            loop {
                let mut params = Params::new()
                    .set("Filter.1.Name", format!("tag:{CLUSTER_TAG}"))
                    .set("Filter.1.Value.1", cluster.to_string());
                if let Some(token) = next.take() {
                    params = params.set("NextToken", token);
                }
                let answer = ec2.call("EC2 DescribeInstances", "DescribeInstances", &params).await?;
                let doc = answer.doc()?;
                let page = doc.root_element();
                for instance in items(page, "reservationSet").flat_map(|r| items(r, "instancesSet")) {
                    let state = query::child(instance, "instanceState").and_then(|s| text(s, "name"));
                    if let (Some(id), Some(state)) = (text(instance, "instanceId"), state)
                        && state != "terminated"
                    {
                        let launched = text(instance, "launchTime").and_then(|t| {
                            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                                .ok()
                        });
                        let index = text(instance, "amiLaunchIndex").and_then(|i| i.parse::<i64>().ok());
                        found.push((
                            launched,
                            index,
                            Instance { id: id.to_owned(), state: state.to_owned() },
                        ));
                    }
                }
                match text(page, "nextToken").filter(|t| !t.is_empty()) {
                    Some(token) => next = Some(token.to_owned()),
                    None => break,
                }
            }
            found.sort_by_key(|(time, index, _)| (*time, *index));
            Ok(found.into_iter().map(|(_, _, i)| i).collect())
        })
    }

    fn launch<'a>(&'a self, target: &'a Target, launch: &'a Launch) -> Fut<'a, Vec<String>> {
        Box::pin(async move {
            use base64::Engine;
            // An instance without the agent would never apply anyone's account: refuse to launch.
            let bootstrap = self.bootstrap.as_ref().ok_or_else(|| CloudError::Refused {
                code: "NoNodeBootstrap".into(),
                message:
                    "this fleet has no node agent bootstrap (AGENT_API_URL, AGENT_ARTIFACT_URL, AGENT_SHA256)"
                        .into(),
            })?;
            let user_data = bootstrap.user_data(&launch.org_id, &launch.cluster_id);
            let ec2 = self.client(target).await?;
            let count = launch.count.to_string();
            let params = Params::new()
                .set("ImageId", &self.image_id)
                .set("InstanceType", &launch.instance_type)
                .set("MinCount", &count)
                .set("MaxCount", &count)
                .set("UserData", base64::engine::general_purpose::STANDARD.encode(user_data))
                // AWS answers a retried launch with the first one's instances; the emulator
                // ignores it, which is why instances are found again by tag before any launch.
                .set("ClientToken", uuid::Uuid::new_v4().to_string());
            let params = tagged(
                params,
                "instance",
                &[
                    (CLUSTER_TAG, launch.cluster_id.to_string()),
                    (ORG_TAG, launch.org_id.to_string()),
                    ("Name", format!("orgs-{}", launch.name)),
                ],
            );
            let answer = ec2.call("EC2 RunInstances", "RunInstances", &params).await?;
            let doc = answer.doc()?;
            Ok(items(doc.root_element(), "instancesSet")
                .filter_map(|i| text(i, "instanceId").map(str::to_owned))
                .collect())
        })
    }

    fn start<'a>(&'a self, target: &'a Target, ids: &'a [String]) -> Fut<'a, ()> {
        Box::pin(async move {
            let ec2 = self.client(target).await?;
            ec2.call("EC2 StartInstances", "StartInstances", &Params::new().list("InstanceId", ids)).await?;
            Ok(())
        })
    }

    fn stop<'a>(&'a self, target: &'a Target, ids: &'a [String]) -> Fut<'a, ()> {
        Box::pin(async move {
            let ec2 = self.client(target).await?;
            ec2.call("EC2 StopInstances", "StopInstances", &Params::new().list("InstanceId", ids)).await?;
            Ok(())
        })
    }

    fn sync_ports<'a>(
        &'a self,
        target: &'a Target,
        cluster: &'a crate::domain::ClusterId,
        ids: &'a [String],
        ports: &'a [u16],
    ) -> Fut<'a, ()> {
        Box::pin(async move {
            let ec2 = self.client(target).await?;
            let name = format!("orgs-cluster-{cluster}");
            let found = ec2
                .call(
                    "EC2 DescribeSecurityGroups",
                    "DescribeSecurityGroups",
                    &Params::new().set("Filter.1.Name", "group-name").set("Filter.1.Value.1", &name),
                )
                .await?;
            let existing = {
                let doc = found.doc()?;
                items(doc.root_element(), "securityGroupInfo").next().map(|group| {
                    let open: Vec<u16> = items(group, "ipPermissions")
                        .filter(|p| {
                            text(*p, "ipProtocol") == Some("tcp")
                                && text(*p, "fromPort") == text(*p, "toPort")
                        })
                        .filter_map(|p| text(p, "fromPort").and_then(|port| port.parse().ok()))
                        .collect();
                    (text(group, "groupId").unwrap_or_default().to_owned(), open)
                })
            };
            let (group, open) = match existing {
                Some(found) => found,
                None => {
                    let params = Params::new()
                        .set("GroupName", &name)
                        .set("GroupDescription", format!("Service ports of cluster {cluster}"));
                    let params = tagged(params, "security-group", &[(CLUSTER_TAG, cluster.to_string())]);
                    let created = ec2.call("EC2 CreateSecurityGroup", "CreateSecurityGroup", &params).await?;
                    let doc = created.doc()?;
                    (text(doc.root_element(), "groupId").unwrap_or_default().to_owned(), Vec::new())
                }
            };
            let to_open: Vec<u16> = ports.iter().copied().filter(|p| !open.contains(p)).collect();
            let to_close: Vec<u16> = open.iter().copied().filter(|p| !ports.contains(p)).collect();
            if !to_open.is_empty() {
                let params = rules(Params::new().set("GroupId", &group), &to_open);
                ec2.call("EC2 AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupIngress", &params)
                    .await?;
            }
            if !to_close.is_empty() {
                let params = rules(Params::new().set("GroupId", &group), &to_close);
                ec2.call("EC2 RevokeSecurityGroupIngress", "RevokeSecurityGroupIngress", &params).await?;
            }
            // ModifyInstanceAttribute replaces an instance's whole list of groups: the cluster's
            // group is added to the groups each instance has now (the customer's own stay), and
            // an instance that has it already is left alone.
            if ids.is_empty() {
                return Ok(());
            }
            let described = ec2
                .call("EC2 DescribeInstances", "DescribeInstances", &Params::new().list("InstanceId", ids))
                .await?;
            let changes: Vec<(String, Vec<String>)> = {
                let doc = described.doc()?;
                items(doc.root_element(), "reservationSet")
                    .flat_map(|r| items(r, "instancesSet"))
                    .filter_map(|instance| {
                        let id = text(instance, "instanceId")?;
                        let mut groups: Vec<String> = items(instance, "groupSet")
                            .filter_map(|g| text(g, "groupId").map(str::to_owned))
                            .collect();
                        if groups.contains(&group) {
                            return None;
                        }
                        groups.push(group.clone());
                        Some((id.to_owned(), groups))
                    })
                    .collect()
            };
            for (id, groups) in changes {
                let params = Params::new().set("InstanceId", id).list("GroupId", &groups);
                ec2.call("EC2 ModifyInstanceAttribute", "ModifyInstanceAttribute", &params).await?;
            }
            Ok(())
        })
    }

    fn terminate<'a>(&'a self, target: &'a Target, ids: &'a [String]) -> Fut<'a, ()> {
        Box::pin(async move {
            let ec2 = self.client(target).await?;
            ec2.call("EC2 TerminateInstances", "TerminateInstances", &Params::new().list("InstanceId", ids))
                .await?;
            Ok(())
        })
    }
}
