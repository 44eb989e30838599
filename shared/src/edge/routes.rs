//! The HTTP API's one list of operations, routes in API Gateway's template syntax.
//! `infra/template.yaml` declares the same routes (a test checks), the OpenAPI document describes
//! them, the local router dispatches by them, and the `route-not-found` function uses them to tell
//! "no such path" (404) from "wrong method" (405).

use crate::contract::openapi::{Answer, Caller, Operation, PAGE, Query, of, op};
use crate::contract::*;
use crate::domain::api_keys::ServiceAccount;
use crate::domain::webhooks::Delivery;
use crate::domain::{
    Acknowledged, Cluster, ClusterSpec, Invitation, Member, Organization, Settings, SshKey, UsageReport,
    UserChanges,
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
        .describe("The OpenAPI 3.1 document of every route (no token needed).")
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
    .describe(
        "The user, their organizations with their role, open invitations to their email.",
    )
    .answers(200, Answer::Json(of::<Dashboard>))
    .problems(&[403]),
    op(
        "GET",
        "/v1/me/ssh-keys",
        "list-ssh-keys",
        "listSshKeys",
        "ssh keys",
        "The caller's SSH public keys.",
        Caller::User,
    )
    .describe("The caller's keys, oldest first, with their fingerprints, and how many they may have.")
    .answers(200, Answer::Json(of::<SshKeys>)),
    op(
        "POST",
        "/v1/me/ssh-keys",
        "add-ssh-key",
        "addSshKey",
        "ssh keys",
        "Add an SSH public key to the caller's cluster accounts.",
        Caller::User,
    )
    .describe(
        "201 with the key; it reaches the caller's account on every managed cluster of every \
         organization they belong to. 400 for anything but one OpenSSH public key line (Ed25519, \
         ECDSA, or RSA of at least 3072 bits); 409 for a key already added or past 10 keys.",
    )
    .example(r#"{"public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"}"#)
    .body(of::<NewSshKey>)
    .answers(201, Answer::Json(of::<SshKey>)),
    op(
        "DELETE",
        "/v1/me/ssh-keys/{key_id}",
        "remove-ssh-key",
        "removeSshKey",
        "ssh keys",
        "Remove one of the caller's SSH keys.",
        Caller::User,
    )
    .describe(
        "204; the key leaves every cluster account of theirs; 404 for a key they do not have; 400 for \
         an id that is not one (43 characters of base64url).",
    )
    .answers(204, Answer::Empty)
    .problems(&[400]),
    op(
        "POST",
        "/v1/organizations",
        "create-organization",
        "createOrganization",
        "organizations",
        "Create an organization owned by the caller.",
        Caller::User,
    )
    .describe(
        "201, owned by the caller; 409 past 20 owned organizations; 400 for a name that is empty, \
         over 64 characters after trimming, or has control or invisible characters.",
    )
    .example(r#"{"name": "Data team"}"#)
    .body(of::<NewOrganization>)
    .answers(201, Answer::Json(of::<CreatedOrganization>)),
    op(
        "GET",
        "/v1/organizations/{org_id}",
        "get-organization",
        "getOrganization",
        "organizations",
        "The organization, the caller's role and its credits.",
        Caller::UserOrKey,
    )
    .describe(
        "The organization, its `settings`, the caller's role, its `credits` (`granted`, `consumed`, \
         `balance`) and `abilities`: every action of the authorization table with whether the caller \
         may do it now and, if not, why (what the dashboard shows; the API still decides each \
         request); 404 to non-members.",
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
    .describe(
        "200; owners and admins; every member's dashboard and every invitee's follow (through the \
         stream).",
    )
    .example(r#"{"name": "Analytics"}"#)
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
    .describe(
        "200; owners and admins replace the whole document: `members_can_invite` (off), \
         `members_can_manage_clusters` (on), `members_can_open_ports` (off), `invitation_ttl_days` \
         (7, from 1 to 30), and `api_key_max_days` (90, from 1 to 366: the longest a service \
         account's API key may last; a document without it leaves it as it is). `If-Match` with the `settings_version` (the `ETag` of `GET \
         /v1/organizations/{org_id}`) makes it conditional: 412 when someone changed them meanwhile. \
         Without it the write still never reverts a change it did not read (it reads again). The \
         answer's `ETag` is the new version.",
    )
    .example(r#"{"members_can_invite": true, "members_can_manage_clusters": true, "members_can_open_ports": false, "invitation_ttl_days": 14}"#)
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
        Caller::UserOrKey,
    )
    .describe(
        "A page of members (user_id, email, role, joined_at) by user id, and `next_cursor`.",
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
    .describe(
        "200 with the member; owners and admins change roles; 409 for the owner's role (ownership \
         moves by transfer); 400 for `owner`; a demotion to member withdraws the member's open \
         invitations.",
    )
    .example(r#"{"role": "admin"}"#)
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
    .describe(
        "204; owners and admins remove, anyone may leave; 409 for the owner; the removed member's \
         open invitations are withdrawn.",
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
    .describe(
        "200; only the owner; the new owner must be a member (404 otherwise); the old owner becomes \
         an admin, in one transaction with the organization's `owner_id`.",
    )
    .example(r#"{"user_id": "3c5e7a91-2b4d-4f6a-8c0e-1d2f3a4b5c6d"}"#)
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
        Caller::UserOrKey,
    )
    .describe(
        "A page of invitations, newest first, each with `status` (`pending`, `accepted`, `declined`, \
         `revoked`, `expired`), `sends`, its `mail` status (`sending`, `sent`, `undeliverable`, \
         `bounced`, `complained`) and `mail_problem`.",
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
        Caller::UserOrKey,
    )
    .describe(
        "201; 409 already a member or invited; 400 bad email or role; 403 plain members (unless \
         `members_can_invite`, and then only as `member`); 429 past a rate limit. A service \
         account's key with `invite_member` invites as `member` (the email names the \
         organization's service account; the invitation stands while the account exists). An invitation a \
         plain member sent stands only while `members_can_invite` is on: accepting it while it is off \
         answers 404, as for an inviter who lost their role (the accept's write checks the setting; \
         turned on again, a still-pending one stands again).",
    )
    .example(r#"{"email": "bob@example.com", "role": "member"}"#)
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
    .describe(
        "204; owners, admins, or its sender; it leaves the invitee's dashboard (404 to them) and \
         frees the address; 409 when answered, 404 when already revoked.",
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
    .describe(
        "200; the email again and a new expiry from now (an expired invitation too); owners and \
         admins, or its sender while they may still invite; 409 answered, or replaced by a newer \
         invitation; 429 past a rate limit.",
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
    .describe(
        "200 with the membership; 404 not addressed to you, revoked, or its inviter may no longer \
         invite; 409 answered; 410 expired.",
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
    .describe(
        "204; same rules as accept.",
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
        Caller::UserOrKey,
    )
    .describe(
        "The audit log, newest first: `action`, `actor`, `subject`, `details`, `at`; owners and \
         admins (403 for members).",
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
        Caller::UserOrKey,
    )
    .describe(
        "Every member: `hours`, `instance_hours` and `credits` per cluster, per member (who started \
         it) and in `total`, each interval clipped to the window (RFC 3339 times, default the last 30 \
         days, at most 366); a running cluster counts up to now; `Accept: text/csv` gives the same \
         lines as CSV (`kind,id,name,hours,instance_hours,credits`).",
    )
    .example_query("from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z")
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
        Caller::UserOrKey,
    )
    .describe(
        "Every member: the organization's `external_id` and the `trust_policy` to attach to the role \
         (made on first read, never changed), and the `account` once connected.",
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
    .describe(
        "200; owners and admins; the ARN is checked by the service (400), then the role is proven: \
         AssumeRole with the external id and a GetCallerIdentity as the role that must answer for the \
         ARN's account, else 422 naming the cloud's error code; nothing is saved unless proven; no \
         access keys are accepted.",
    )
    .example(r#"{"provider": "aws", "role_arn": "arn:aws:iam::111122223333:role/orgs-clusters", "region": "eu-west-1"}"#)
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
        Caller::UserOrKey,
    )
    .describe(
        "Every member sees every cluster of the organization: state, instances, `created_by`, \
         `last_actor`, times, `last_error`.",
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
        Caller::UserOrKey,
    )
    .describe(
        "202 with the cluster in state `pending`, in the organization's account and region (its nodes \
         enroll themselves: no response carries a cluster credential); owners and admins, and \
         members while `members_can_manage_clusters` is on (the default); 409 without a connected \
         account; 402 with the `balance` when the organization has no credits left; 400 for a name \
         (lowercase, digits, hyphens), an instance type or more than 50 workers.",
    )
    .example(r#"{"name": "analytics", "instance_type": "m5.xlarge", "workers": 2, "user_management": "managed"}"#)
    .body(of::<ClusterSpec>)
    .answers(202, Answer::Json(of::<Cluster>))
    .problems(&[402, 403]),
    op(
        "GET",
        "/v1/organizations/{org_id}/clusters/{cluster_id}",
        "get-cluster",
        "getCluster",
        "clusters",
        "One cluster.",
        Caller::UserOrKey,
    )
    .describe(
        "Every member sees every cluster of the organization: state, instances, `created_by`, \
         `last_actor`, times, `last_error`.",
    )
    .answers(200, Answer::Json(of::<Cluster>)),
    op(
        "POST",
        "/v1/organizations/{org_id}/clusters/{cluster_id}/start",
        "cluster-action",
        "startCluster",
        "clusters",
        "Start a stopped cluster.",
        Caller::UserOrKey,
    )
    .describe(
        "202 with the cluster in `starting`, `stopping` or `terminating`; every member starts and \
         stops, terminating needs the role or `members_can_manage_clusters`; a start needs credits \
         left (402); 409 naming the state when the state machine refuses (two parallel actions: one \
         wins); a terminated cluster never comes back.",
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
        Caller::UserOrKey,
    )
    .describe(
        "202 with the cluster in `starting`, `stopping` or `terminating`; every member starts and \
         stops, terminating needs the role or `members_can_manage_clusters`; a start needs credits \
         left (402); 409 naming the state when the state machine refuses (two parallel actions: one \
         wins); a terminated cluster never comes back.",
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
        Caller::UserOrKey,
    )
    .describe(
        "202 with the cluster in `starting`, `stopping` or `terminating`; every member starts and \
         stops, terminating needs the role or `members_can_manage_clusters`; a start needs credits \
         left (402); 409 naming the state when the state machine refuses (two parallel actions: one \
         wins); a terminated cluster never comes back.",
    )
    .sampled()
    .answers(202, Answer::Json(of::<Cluster>))
    .problems(&[402, 403]),
    op(
        "PUT",
        "/v1/organizations/{org_id}/clusters/{cluster_id}/ports/{port}",
        "cluster-port",
        "openPort",
        "clusters",
        "Open a TCP port of the cluster to the world.",
        Caller::UserOrKey,
    )
    .describe(
        "200 with the cluster's `open_ports`; owners and admins, and members while \
         `members_can_open_ports` is on; 400 outside 1 to 65535; 409 on a terminating or terminated \
         cluster; the provisioner makes the cluster's own security group allow exactly those TCP \
         ports.",
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
        Caller::UserOrKey,
    )
    .describe(
        "200 with the cluster's `open_ports`; owners and admins, and members while \
         `members_can_open_ports` is on; 400 outside 1 to 65535; 409 on a terminating or terminated \
         cluster; the provisioner makes the cluster's own security group allow exactly those TCP \
         ports.",
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
        Caller::UserOrKey,
    )
    .describe(
        "Owners and admins: every account on the cluster (managed user management): `role` (`admin` \
         for the owner and admins, `user`), `status` (`active`, `blocked`), `revision`, `delivery` \
         (`pending`, `applied`, `failed` with the cluster's `error`) and `applied_at`.",
    )
    .answers(200, Answer::Json(of::<ClusterUsers>))
    .problems(&[403]),
    op(
        "DELETE",
        "/v1/organizations/{org_id}/clusters/{cluster_id}/nodes",
        "revoke-node-credentials",
        "revokeNodeCredentials",
        "cluster users",
        "Revoke every node credential of the cluster (owner, admins).",
        Caller::UserOrKey,
    )
    .describe(
        "Owners and admins: every enrolled node's credential stops working at once, and each node \
         enrolls again with its instance identity document and a new nonce; `revoked` counts the \
         nodes. In the audit log.",
    )
    .answers(200, Answer::Json(of::<RevokedNodes>))
    .problems(&[403]),
    op(
        "GET",
        "/v1/organizations/{org_id}/service-accounts",
        "list-service-accounts",
        "listServiceAccounts",
        "service accounts",
        "The organization's service accounts and their keys (owner, admins).",
        Caller::User,
    )
    .describe(
        "Owners and admins: every service account, oldest first, with its keys (their ids, scopes, \
         expiry and last use; never the keys), and the limits and scopes there are.",
    )
    .answers(200, Answer::Json(of::<ServiceAccounts>))
    .problems(&[403]),
    op(
        "POST",
        "/v1/organizations/{org_id}/service-accounts",
        "create-service-account",
        "createServiceAccount",
        "service accounts",
        "Make a service account: an identity the organization owns, for automation (owner, admins).",
        Caller::User,
    )
    .describe(
        "201 with the account, which belongs to the organization and keeps working when its \
         creator leaves; 409 past 20; 400 for a name that is empty or over 64 characters, or a \
         description over 280. In the audit log.",
    )
    .example(r#"{"name": "nightly-ci", "description": "Starts the ETL cluster every night"}"#)
    .body(of::<NewServiceAccount>)
    .answers(201, Answer::Json(of::<ServiceAccount>))
    .problems(&[403]),
    op(
        "DELETE",
        "/v1/organizations/{org_id}/service-accounts/{service_account_id}",
        "delete-service-account",
        "deleteServiceAccount",
        "service accounts",
        "Delete a service account and every key it holds (owner, admins).",
        Caller::User,
    )
    .describe("204; its keys stop working at once (401). 404 for no such account. In the audit log.")
    .answers(204, Answer::Empty)
    .problems(&[403]),
    op(
        "POST",
        "/v1/organizations/{org_id}/service-accounts/{service_account_id}/keys",
        "create-api-key",
        "createApiKey",
        "service accounts",
        "Make an API key for a service account, with scopes and an expiry (owner, admins).",
        Caller::User,
    )
    .describe(
        "201 with the key, shown this once (only its SHA-256 is kept). Scopes are actions of the \
         authorization table a key may hold (`read`, `invite_member`, `read_events`, \
         `operate_clusters`, `manage_clusters`, `open_ports`, `manage_cluster_users`); never \
         roles, inviting admins, ownership, settings, the cloud account, webhooks, or service \
         accounts. 400 for an unknown scope or \
         a lifetime past the organization's `api_key_max_days`; 404 for no such account; 409 past \
         5 keys (expired ones count until revoked). In the audit log.",
    )
    .example(r#"{"scopes": ["read", "operate_clusters"], "expires_in_days": 30}"#)
    .body(of::<NewApiKey>)
    .answers(201, Answer::Json(of::<CreatedApiKey>))
    .problems(&[403]),
    op(
        "DELETE",
        "/v1/organizations/{org_id}/service-accounts/{service_account_id}/keys/{api_key_id}",
        "revoke-api-key",
        "revokeApiKey",
        "service accounts",
        "Revoke an API key (owner, admins).",
        Caller::User,
    )
    .describe("204; the key stops working at once (401). 404 for no such key of that account. In the audit log.")
    .answers(204, Answer::Empty)
    .problems(&[403]),
    op(
        "GET",
        "/v1/organizations/{org_id}/webhooks",
        "list-webhooks",
        "listWebhooks",
        "webhooks",
        "The organization's webhook endpoints (owner, admins).",
        Caller::User,
    )
    .describe(
        "Owners and admins: every endpoint, oldest first, with its URL and event types (never its \
         secret), the most there may be and every event type.",
    )
    .answers(200, Answer::Json(of::<Webhooks>))
    .problems(&[403]),
    op(
        "POST",
        "/v1/organizations/{org_id}/webhooks",
        "create-webhook",
        "createWebhook",
        "webhooks",
        "Register a webhook endpoint for some event types (owner, admins).",
        Caller::User,
    )
    .describe(
        "201 with the endpoint and its secret, shown this once. Every delivery is a POST of a \
         `WebhookPayload` with `Orgs-Event-Id`, `Orgs-Timestamp` (Unix seconds) and \
         `Orgs-Signature: v1=` + the hex HMAC-SHA256, under the secret, of \
         `\"{Orgs-Timestamp}.{body}\"`: refuse a timestamp more than 5 minutes old. Delivered at \
         least once (deduplicate on the event id), in order per endpoint, retried with backoff \
         for 24 hours; 2xx is success, and redirects are not followed. The URL must be https and \
         reach public addresses only: the host is resolved at every delivery, and loopback, \
         private, link-local and metadata addresses are refused. 400 for another URL or an \
         address literal that is not public; 409 past 10. In the audit log.",
    )
    .example(r#"{"url": "https://hooks.example.com/orgs", "events": ["member.joined", "cluster.state_changed"], "description": "Chat notifications"}"#)
    .body(of::<NewWebhook>)
    .answers(201, Answer::Json(of::<WebhookWithSecret>))
    .problems(&[403]),
    op(
        "DELETE",
        "/v1/organizations/{org_id}/webhooks/{webhook_id}",
        "delete-webhook",
        "deleteWebhook",
        "webhooks",
        "Delete a webhook endpoint (owner, admins).",
        Caller::User,
    )
    .describe("204; nothing more is delivered to it, retries included. 404 for no such endpoint. In the audit log.")
    .answers(204, Answer::Empty)
    .problems(&[403]),
    op(
        "POST",
        "/v1/organizations/{org_id}/webhooks/{webhook_id}/secret",
        "rotate-webhook-secret",
        "rotateWebhookSecret",
        "webhooks",
        "Give a webhook endpoint a new secret (owner, admins).",
        Caller::User,
    )
    .describe(
        "200 with the endpoint and its new secret, shown this once; every delivery from now on, \
         retries included, is signed with it. 404 for no such endpoint. In the audit log.",
    )
    .answers(200, Answer::Json(of::<WebhookWithSecret>))
    .problems(&[403]),
    op(
        "GET",
        "/v1/organizations/{org_id}/webhooks/{webhook_id}/deliveries",
        "list-webhook-deliveries",
        "listWebhookDeliveries",
        "webhooks",
        "A webhook endpoint's newest deliveries (owner, admins).",
        Caller::User,
    )
    .describe(
        "The newest 50, newest first: status (`pending`, `delivered`, `failed`), attempts, the last \
         answer's status code and its first kilobyte, or why the last attempt got no answer, and \
         when the next attempt is due. 404 for no such endpoint.",
    )
    .answers(200, Answer::Json(of::<WebhookDeliveries>))
    .problems(&[403]),
    op(
        "POST",
        "/v1/organizations/{org_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
        "redeliver-webhook",
        "redeliverWebhook",
        "webhooks",
        "Send a delivery again (owner, admins).",
        Caller::User,
    )
    .describe(
        "202: the delivery is due now, with the same event id and body, and tried for another 24 \
         hours. 404 for no such endpoint or delivery. In the audit log.",
    )
    .answers(202, Answer::Json(of::<Delivery>))
    .problems(&[403]),
    op(
        "POST",
        "/v1/agent/clusters/{cluster_id}/enroll",
        "cluster-agent",
        "enrollNode",
        "agent",
        "A node proves its instance and gets a one-hour credential.",
        Caller::Anyone,
    )
    .describe(
        "No token: the node sends its cluster's organization, its instance identity document and \
         signature from the instance metadata service, and its nonce. 200 with a credential for one hour when AWS's signature \
         holds, the instance is one of the cluster's, in its account and region, the cluster is not \
         terminated, and the instance never enrolled or enrolled with this nonce and a document no \
         newer; 401 otherwise, naming nothing. Nodes enroll again before the hour ends.",
    )
    .example(r#"{"org_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "document": "{\"accountId\": \"123456789012\", \"instanceId\": \"i-0123456789abcdef0\", \"region\": \"us-east-1\", \"pendingTime\": \"2026-12-03T10:00:00Z\"}", "signature": "dGhlIGluc3RhbmNlIG1ldGFkYXRhIHNlcnZpY2UncyBzaWduYXR1cmU=", "nonce": "yqQ1vB0o9hWj3n0m5f2c8r7s6t4u1w0xZ-_aBcDeFgH"}"#)
    .body(of::<Enroll>)
    .answers(200, Answer::Json(of::<Enrolled<'static>>))
    .problems(&[401]),
    op(
        "GET",
        "/v1/agent/clusters/{cluster_id}/users",
        "cluster-agent",
        "pullClusterUsers",
        "agent",
        "The accounts changed after a revision, in revision order.",
        Caller::Agent,
    )
    .describe(
        "A node of the cluster, with its credential from `enroll` (not a user's JWT; anything else, an \
         expired or revoked credential, another cluster's, a terminated cluster's, is a 401): the accounts \
         changed after that revision, in revision order, with `revision` (ask after it next) and \
         `latest_revision`.",
    )
    .example_query("after=0")
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
    .describe(
        "What the cluster applied up to that revision: `recorded`, and `stale` for records that \
         changed since (they stay pending).",
    )
    .example(r#"{"revision": 7, "results": [{"user_id": "3c5e7a91-2b4d-4f6a-8c0e-1d2f3a4b5c6d", "status": "applied"}]}"#)
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
    .describe(
        "204; what idle stop reads.",
    )
    .example(r#"{"active_sessions": 1, "last_activity_at": "2026-11-28T13:00:00Z"}"#)
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

    /// Every row says what it does, a body comes with an example the document can show and the
    /// generated events send, and a function with several routes names at most one for its
    /// sample. Prints the API as a table (`-- --nocapture`).
    #[test]
    fn the_api() {
        println!("| Route | Function | Answers |\n|---|---|---|");
        for op in OPERATIONS {
            let route = format!("{} {}", op.method, op.path);
            assert!(!op.description.is_empty(), "{route}: describe it");
            assert_eq!(
                op.body.is_some(),
                op.example.is_some(),
                "{route}: a body and its example go together"
            );
            if let Some(example) = op.example {
                let value: serde_json::Value =
                    serde_json::from_str(example).unwrap_or_else(|e| panic!("{route}: example: {e}"));
                assert!(value.is_object(), "{route}: a body is an object");
            }
            let sampled = OPERATIONS.iter().filter(|o| o.function == op.function && o.sampled).count();
            assert!(sampled <= 1, "{}: one sampled route at most", op.function);
            println!("| `{route}` | {} | {} |", op.function, op.description.replace('|', "\\|"));
        }
    }

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
