//! The EC2 adapter of [`Fleet`]: every call acts as the customer's role, in the cluster's region.
//! Behind the `ec2` feature: only the functions that act on clusters (the table's ordered reader
//! and the reconciler) link it; the API functions never call EC2.

use aws_config::SdkConfig;
use aws_sdk_ec2::types::{Filter, InstanceType, IpPermission, IpRange, ResourceType, Tag, TagSpecification};

use super::{CloudError, Fleet, Instance, Launch, Target, assume, classify};

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

    async fn client(&self, target: &Target) -> Result<aws_sdk_ec2::Client, CloudError> {
        Ok(aws_sdk_ec2::Client::new(&assume(&self.sdk, target).await?))
    }
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
            let mut pages = ec2
                .describe_instances()
                .filters(
                    Filter::builder().name(format!("tag:{CLUSTER_TAG}")).values(cluster.to_string()).build(),
                )
                .into_paginator()
                .send();
            let mut found = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| classify("EC2 DescribeInstances", e))?;
                for reservation in page.reservations() {
                    for instance in reservation.instances() {
                        let state = instance.state().and_then(|s| s.name()).map(|n| n.as_str().to_owned());
                        if let (Some(id), Some(state)) = (instance.instance_id(), state)
                            && state != "terminated"
                        {
                            found.push((
                                instance.launch_time().map(|t| t.secs()),
                                instance.ami_launch_index(),
                                Instance { id: id.to_owned(), state },
                            ));
                        }
                    }
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
            let count = i32::try_from(launch.count).unwrap_or(1);
            let tags = TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(Tag::builder().key(CLUSTER_TAG).value(launch.cluster_id.to_string()).build())
                .tags(Tag::builder().key(ORG_TAG).value(launch.org_id.to_string()).build())
                .tags(Tag::builder().key("Name").value(format!("orgs-{}", launch.name)).build())
                .build();
            let out = ec2
                .run_instances()
                .image_id(&self.image_id)
                .instance_type(InstanceType::from(launch.instance_type.as_str()))
                .min_count(count)
                .max_count(count)
                .user_data(base64::engine::general_purpose::STANDARD.encode(user_data))
                .tag_specifications(tags)
                .send()
                .await
                .map_err(|e| classify("EC2 RunInstances", e))?;
            Ok(out.instances().iter().filter_map(|i| i.instance_id().map(str::to_owned)).collect())
        })
    }

    fn start<'a>(&'a self, target: &'a Target, ids: &'a [String]) -> Fut<'a, ()> {
        Box::pin(async move {
            let ec2 = self.client(target).await?;
            ec2.start_instances()
                .set_instance_ids(Some(ids.to_vec()))
                .send()
                .await
                .map_err(|e| classify("EC2 StartInstances", e))?;
            Ok(())
        })
    }

    fn stop<'a>(&'a self, target: &'a Target, ids: &'a [String]) -> Fut<'a, ()> {
        Box::pin(async move {
            let ec2 = self.client(target).await?;
            ec2.stop_instances()
                .set_instance_ids(Some(ids.to_vec()))
                .send()
                .await
                .map_err(|e| classify("EC2 StopInstances", e))?;
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
                .describe_security_groups()
                .filters(Filter::builder().name("group-name").values(&name).build())
                .send()
                .await
                .map_err(|e| classify("EC2 DescribeSecurityGroups", e))?;
            let (group, open): (String, Vec<u16>) = match found.security_groups().first() {
                Some(group) => {
                    let open = group
                        .ip_permissions()
                        .iter()
                        .filter(|p| p.ip_protocol() == Some("tcp") && p.from_port() == p.to_port())
                        .filter_map(|p| p.from_port().and_then(|port| u16::try_from(port).ok()))
                        .collect();
                    (group.group_id().unwrap_or_default().to_owned(), open)
                }
                None => {
                    let created = ec2
                        .create_security_group()
                        .group_name(&name)
                        .description(format!("Service ports of cluster {cluster}"))
                        .tag_specifications(
                            TagSpecification::builder()
                                .resource_type(ResourceType::SecurityGroup)
                                .tags(Tag::builder().key(CLUSTER_TAG).value(cluster.to_string()).build())
                                .build(),
                        )
                        .send()
                        .await
                        .map_err(|e| classify("EC2 CreateSecurityGroup", e))?;
                    (created.group_id().unwrap_or_default().to_owned(), Vec::new())
                }
            };
            let rule = |port: u16| {
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(i32::from(port))
                    .to_port(i32::from(port))
                    .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                    .build()
            };
            let to_open: Vec<IpPermission> =
                ports.iter().filter(|p| !open.contains(p)).map(|p| rule(*p)).collect();
            let to_close: Vec<IpPermission> =
                open.iter().filter(|p| !ports.contains(p)).map(|p| rule(*p)).collect();
            if !to_open.is_empty() {
                ec2.authorize_security_group_ingress()
                    .group_id(&group)
                    .set_ip_permissions(Some(to_open))
                    .send()
                    .await
                    .map_err(|e| classify("EC2 AuthorizeSecurityGroupIngress", e))?;
            }
            if !to_close.is_empty() {
                ec2.revoke_security_group_ingress()
                    .group_id(&group)
                    .set_ip_permissions(Some(to_close))
                    .send()
                    .await
                    .map_err(|e| classify("EC2 RevokeSecurityGroupIngress", e))?;
            }
            // ModifyInstanceAttribute replaces an instance's whole list of groups: the cluster's
            // group is added to the groups each instance has now (the customer's own stay), and
            // an instance that has it already is left alone.
            if ids.is_empty() {
                return Ok(());
            }
            let described = ec2
                .describe_instances()
                .set_instance_ids(Some(ids.to_vec()))
                .send()
                .await
                .map_err(|e| classify("EC2 DescribeInstances", e))?;
            for instance in described.reservations().iter().flat_map(|r| r.instances()) {
                let Some(id) = instance.instance_id() else { continue };
                let mut groups: Vec<String> = instance
                    .security_groups()
                    .iter()
                    .filter_map(|g| g.group_id().map(str::to_owned))
                    .collect();
                if groups.contains(&group) {
                    continue;
                }
                groups.push(group.clone());
                ec2.modify_instance_attribute()
                    .instance_id(id)
                    .set_groups(Some(groups))
                    .send()
                    .await
                    .map_err(|e| classify("EC2 ModifyInstanceAttribute", e))?;
            }
            Ok(())
        })
    }

    fn terminate<'a>(&'a self, target: &'a Target, ids: &'a [String]) -> Fut<'a, ()> {
        Box::pin(async move {
            let ec2 = self.client(target).await?;
            ec2.terminate_instances()
                .set_instance_ids(Some(ids.to_vec()))
                .send()
                .await
                .map_err(|e| classify("EC2 TerminateInstances", e))?;
            Ok(())
        })
    }
}
