//! The HTTP API's one list of operations, routes in API Gateway's template syntax.
//! `infra/template.yaml` declares the same routes (a test checks), the OpenAPI document describes
//! them, the local router dispatches by them, and the `route-not-found` function uses them to tell
//! "no such path" (404) from "wrong method" (405).

use crate::contract::openapi::{Answer, Caller, Operation, PAGE, Query, of, op};
use crate::contract::*;
use crate::domain::{
    Acknowledged, Cluster, ClusterSpec, Invitation, Member, Organization, Settings, UsageReport, UserChanges,
};

/// One route and the function behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
}

/// Every route, as API Gateway and the local router see it: [`OPERATIONS`] without the document.
pub const ROUTES: &[Route] = &routes::<{ OPERATIONS.len() }>();

const fn routes<const N: usize>() -> [Route; N] {
    let mut out = [Route { method: "", path: "", function: "" }; N];
    let mut i = 0;
    while i < N {
        let op = &OPERATIONS[i];
        out[i] = Route { method: op.method, path: op.path, function: op.function };
        i += 1;
    }
    out
}

/// Every operation of the API: its route, the function behind it, and what the OpenAPI document
/// says of it. The route table, the document, the local router, the generated events and the
/// authorization test all read this list; adding an endpoint is a row here (see the README's
/// "Adding an operation").
pub const OPERATIONS: &[Operation] = &[
    op("GET", "/v1/openapi.json", "get-openapi", "getOpenApi", "contract", "This document.", Caller::Anyone)
        .answers(200, Answer::Object),
    op(
        "GET",
        "/v1/me",
        "get-me",
        "getMe",
        "dashboard",
        "The caller, their organizations and open invitations.",
        Caller::User,
    )
    .answers(200, Answer::Json(of::<Dashboard>))
    .problems(&[403]),
    op(
        "POST",
        "/v1/organizations",
        "create-organization",
        "createOrganization",
        "organizations",
        "Create an organization owned by the caller.",
        Caller::User,
    )
    .body(of::<NewOrganization>)
    .answers(201, Answer::Json(of::<CreatedOrganization>)),
    op(
        "GET",
        "/v1/organizations/{org_id}",
        "get-organization",
        "getOrganization",
        "organizations",
        "The organization, the caller's role and its credits.",
        Caller::User,
    )
    .answers(200, Answer::Json(of::<OrganizationView>)),
    op(
        "PATCH",
        "/v1/organizations/{org_id}",
        "rename-organization",
        "renameOrganization",
        "organizations",
        "Rename the organization (owner, admins).",
        Caller::User,
    )
    .body(of::<Rename>)
    .answers(200, Answer::Json(of::<Organization>))
    .problems(&[403]),
    op(
        "PUT",
        "/v1/organizations/{org_id}/permissions",
        "update-permissions",
        "updatePermissions",
        "organizations",
        "Replace the permissions and settings (owner, admins).",
        Caller::User,
    )
    .body(of::<Settings>)
    .answers(200, Answer::Json(of::<Settings>))
    .problems(&[403])
    .conditional(),
    op(
        "GET",
        "/v1/organizations/{org_id}/members",
        "list-members",
        "listMembers",
        "members",
        "A page of members, by user id.",
        Caller::User,
    )
    .query(PAGE)
    .answers(200, Answer::Json(of::<MembersPage>)),
    op(
        "PATCH",
        "/v1/organizations/{org_id}/members/{user_id}",
        "change-member-role",
        "changeMemberRole",
        "members",
        "Make a member an admin or a plain member (owner, admins).",
        Caller::User,
    )
    .body(of::<RoleChange>)
    .answers(200, Answer::Json(of::<Member>))
    .problems(&[403]),
    op(
        "DELETE",
        "/v1/organizations/{org_id}/members/{user_id}",
        "remove-member",
        "removeMember",
        "members",
        "Remove a member (owner, admins), or leave.",
        Caller::User,
    )
    .answers(204, Answer::Empty)
    .problems(&[403]),
    op(
        "POST",
        "/v1/organizations/{org_id}/ownership",
        "transfer-ownership",
        "transferOwnership",
        "members",
        "Hand the organization to another member (owner).",
        Caller::User,
    )
    .body(of::<Transfer>)
    .answers(200, Answer::Json(of::<Transferred>))
    .problems(&[403]),
    op(
        "GET",
        "/v1/organizations/{org_id}/invitations",
        "list-invitations",
        "listInvitations",
        "invitations",
        "A page of the organization's invitations, newest first.",
        Caller::User,
    )
    .query(&[Query::Status, Query::Limit { max: 100, default: 50 }, Query::Cursor])
    .answers(200, Answer::Json(of::<InvitationsPage>))
    .problems(&[403]),
    op(
        "POST",
        "/v1/organizations/{org_id}/invitations",
        "create-invitation",
        "createInvitation",
        "invitations",
        "Invite someone by email.",
        Caller::User,
    )
    .body(of::<InviteRequest>)
    .answers(201, Answer::Json(of::<Invitation>))
    .problems(&[403]),
    op(
        "DELETE",
        "/v1/organizations/{org_id}/invitations/{invitation_id}",
        "revoke-invitation",
        "revokeInvitation",
        "invitations",
        "Revoke an invitation (owner, admins, its sender).",
        Caller::User,
    )
    .answers(204, Answer::Empty)
    .problems(&[403]),
    op(
        "POST",
        "/v1/organizations/{org_id}/invitations/{invitation_id}/resend",
        "resend-invitation",
        "resendInvitation",
        "invitations",
        "Send the email again and restart the expiry.",
        Caller::User,
    )
    .answers(200, Answer::Json(of::<Invitation>))
    .problems(&[403]),
    op(
        "POST",
        "/v1/invitations/{invitation_id}/accept",
        "accept-invitation",
        "acceptInvitation",
        "invitations",
        "Accept an invitation to the caller's address.",
        Caller::User,
    )
    .answers(200, Answer::Json(of::<Joined>))
    .problems(&[410]),
    op(
        "POST",
        "/v1/invitations/{invitation_id}/decline",
        "decline-invitation",
        "declineInvitation",
        "invitations",
        "Decline an invitation to the caller's address.",
        Caller::User,
    )
    .answers(204, Answer::Empty)
    .problems(&[410]),
    op(
        "GET",
        "/v1/organizations/{org_id}/events",
        "list-events",
        "listEvents",
        "audit",
        "A page of the audit log, newest first (owner, admins).",
        Caller::User,
    )
    .query(PAGE)
    .answers(200, Answer::Json(of::<EventsPage>))
    .problems(&[403]),
    op(
        "GET",
        "/v1/organizations/{org_id}/usage",
        "get-usage",
        "getUsage",
        "usage",
        "Hours, instance-hours and credits per cluster, per member and in total.",
        Caller::User,
    )
    .query(&[
        Query::Time {
            name: "from",
            description: "Start of the window (included); 30 days before `to` by default.",
        },
        Query::Time {
            name: "to",
            description: "End of the window (excluded); now by default. At most 366 days after `from`.",
        },
    ])
    .answers(200, Answer::JsonOrCsv(of::<UsageReport>)),
    op(
        "GET",
        "/v1/organizations/{org_id}/cloud-account",
        "get-cloud-account",
        "getCloudAccount",
        "cloud",
        "The external id and trust policy to set up, and the account once connected.",
        Caller::User,
    )
    .answers(200, Answer::Json(of::<CloudAccountPage>)),
    op(
        "PUT",
        "/v1/organizations/{org_id}/cloud-account",
        "configure-account",
        "configureCloudAccount",
        "cloud",
        "Connect the organization's AWS account through a role (owner, admins).",
        Caller::User,
    )
    .body(of::<ConfigureAccount>)
    .answers(200, Answer::Json(of::<crate::domain::CloudAccount>))
    .problems(&[403, 422]),
    op(
        "GET",
        "/v1/organizations/{org_id}/clusters",
        "list-clusters",
        "listClusters",
        "clusters",
        "A page of the organization's clusters.",
        Caller::User,
    )
    .query(PAGE)
    .answers(200, Answer::Json(of::<ClustersPage>)),
    op(
        "POST",
        "/v1/organizations/{org_id}/clusters",
        "create-cluster",
        "createCluster",
        "clusters",
        "Create a cluster in the organization's account.",
        Caller::User,
    )
    .body(of::<ClusterSpec>)
    .answers(202, Answer::Json(of::<CreatedCluster<'static>>))
    .problems(&[402, 403]),
    op(
        "GET",
        "/v1/organizations/{org_id}/clusters/{cluster_id}",
        "get-cluster",
        "getCluster",
        "clusters",
        "One cluster.",
        Caller::User,
    )
    .answers(200, Answer::Json(of::<Cluster>)),
    op(
        "POST",
        "/v1/organizations/{org_id}/clusters/{cluster_id}/start",
        "cluster-action",
        "startCluster",
        "clusters",
        "Start a stopped cluster.",
        Caller::User,
    )
    .answers(202, Answer::Json(of::<Cluster>))
    .problems(&[402, 403]),
    op(
        "POST",
        "/v1/organizations/{org_id}/clusters/{cluster_id}/stop",
        "cluster-action",
        "stopCluster",
        "clusters",
        "Stop a running cluster.",
        Caller::User,
    )
    .answers(202, Answer::Json(of::<Cluster>))
    .problems(&[402, 403]),
    op(
        "POST",
        "/v1/organizations/{org_id}/clusters/{cluster_id}/terminate",
        "cluster-action",
        "terminateCluster",
        "clusters",
        "Terminate a cluster for good.",
        Caller::User,
    )
    .answers(202, Answer::Json(of::<Cluster>))
    .problems(&[402, 403]),
    op(
        "PUT",
        "/v1/organizations/{org_id}/clusters/{cluster_id}/ports/{port}",
        "cluster-port",
        "openPort",
        "clusters",
        "Open a TCP port of the cluster to the world.",
        Caller::User,
    )
    .answers(200, Answer::Json(of::<Cluster>))
    .problems(&[400, 403]),
    op(
        "DELETE",
        "/v1/organizations/{org_id}/clusters/{cluster_id}/ports/{port}",
        "cluster-port",
        "closePort",
        "clusters",
        "Close a TCP port of the cluster.",
        Caller::User,
    )
    .answers(200, Answer::Json(of::<Cluster>))
    .problems(&[400, 403]),
    op(
        "GET",
        "/v1/organizations/{org_id}/clusters/{cluster_id}/users",
        "list-cluster-users",
        "listClusterUsers",
        "cluster users",
        "The cluster's accounts and whether the cluster applied them (owner, admins).",
        Caller::User,
    )
    .answers(200, Answer::Json(of::<ClusterUsers>))
    .problems(&[403]),
    op(
        "POST",
        "/v1/organizations/{org_id}/clusters/{cluster_id}/agent-token",
        "rotate-agent-token",
        "rotateAgentToken",
        "cluster users",
        "A new token for the cluster's agent; the old one stops working (owner, admins).",
        Caller::User,
    )
    .answers(200, Answer::Json(of::<RotatedToken<'static>>))
    .problems(&[403]),
    op(
        "GET",
        "/v1/agent/clusters/{cluster_id}/users",
        "cluster-agent",
        "pullClusterUsers",
        "agent",
        "The accounts changed after a revision, in revision order.",
        Caller::Agent,
    )
    .query(&[Query::After, Query::Limit { max: 500, default: 100 }])
    .answers(200, Answer::Json(of::<UserChanges>)),
    op(
        "POST",
        "/v1/agent/clusters/{cluster_id}/users/ack",
        "cluster-agent",
        "ackClusterUsers",
        "agent",
        "What the cluster applied up to a revision.",
        Caller::Agent,
    )
    .body(of::<Ack>)
    .answers(200, Answer::Json(of::<Acknowledged>)),
    op(
        "POST",
        "/v1/agent/clusters/{cluster_id}/heartbeat",
        "cluster-agent",
        "heartbeat",
        "agent",
        "The cluster's activity, for idle stop.",
        Caller::Agent,
    )
    .body(of::<Heartbeat>)
    .answers(204, Answer::Empty),
];

/// The function API Gateway's `$default` route invokes when nothing else matches.
pub const FALLBACK_FUNCTION: &str = "route-not-found";

/// What a request's method and path lead to.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolution {
    Found {
        route: Route,
        params: Vec<(&'static str, String)>,
    },
    /// The path exists with other methods.
    MethodNotAllowed {
        allowed: Vec<&'static str>,
    },
    NotFound,
}

/// Matches `path` against a template; `{name}` matches one non-empty segment.
pub fn match_template(template: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let mut want = template.trim_matches('/').split('/');
    let mut got = path.trim_end_matches('/').trim_start_matches('/').split('/');
    let mut params = Vec::new();
    loop {
        match (want.next(), got.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') && !g.is_empty() => {
                params.push((&w[1..w.len() - 1], g.to_owned()));
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

pub fn resolve(method: &str, path: &str) -> Resolution {
    let mut allowed = Vec::new();
    for route in ROUTES {
        if let Some(params) = match_template(route.path, path) {
            if route.method.eq_ignore_ascii_case(method) {
                return Resolution::Found { route: *route, params };
            }
            allowed.push(route.method);
        }
    }
    if allowed.is_empty() { Resolution::NotFound } else { Resolution::MethodNotAllowed { allowed } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_are_extracted() {
        let Resolution::Found { route, params } = resolve("DELETE", "/v1/organizations/o-1/members/u-2")
        else {
            panic!("should match");
        };
        assert_eq!(route.function, "remove-member");
        assert_eq!(params, vec![("org_id", "o-1".to_owned()), ("user_id", "u-2".to_owned())]);
    }

    #[test]
    fn a_known_path_with_another_method_is_not_allowed() {
        assert_eq!(resolve("PUT", "/v1/me"), Resolution::MethodNotAllowed { allowed: vec!["GET"] });
    }

    #[test]
    fn unknown_paths_and_empty_segments_are_not_found() {
        assert_eq!(resolve("GET", "/v1/nothing"), Resolution::NotFound);
        assert_eq!(resolve("GET", "/v1/organizations//members"), Resolution::NotFound);
        assert_eq!(resolve("GET", "/v1/me/extra"), Resolution::NotFound);
    }
}
