//! The HTTP API's routes, in API Gateway's template syntax. `infra/template.yaml` declares the
//! same routes (a test checks), the local router dispatches by them, and the `route-not-found`
//! function uses them to tell "no such path" (404) from "wrong method" (405).

/// One route and the function behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
}

pub const ROUTES: &[Route] = &[
    Route { method: "GET", path: "/v1/openapi.json", function: "get-openapi" },
    Route { method: "GET", path: "/v1/me", function: "get-me" },
    Route { method: "GET", path: "/v1/organizations/{org_id}", function: "get-organization" },
    Route { method: "GET", path: "/v1/organizations/{org_id}/members", function: "list-members" },
    Route { method: "POST", path: "/v1/organizations/{org_id}/invitations", function: "create-invitation" },
    Route { method: "POST", path: "/v1/invitations/{invitation_id}/accept", function: "accept-invitation" },
    Route { method: "POST", path: "/v1/invitations/{invitation_id}/decline", function: "decline-invitation" },
    Route {
        method: "DELETE",
        path: "/v1/organizations/{org_id}/members/{user_id}",
        function: "remove-member",
    },
    Route {
        method: "PATCH",
        path: "/v1/organizations/{org_id}/members/{user_id}",
        function: "change-member-role",
    },
    Route { method: "POST", path: "/v1/organizations/{org_id}/ownership", function: "transfer-ownership" },
    Route {
        method: "DELETE",
        path: "/v1/organizations/{org_id}/invitations/{invitation_id}",
        function: "revoke-invitation",
    },
    Route {
        method: "POST",
        path: "/v1/organizations/{org_id}/invitations/{invitation_id}/resend",
        function: "resend-invitation",
    },
    Route { method: "GET", path: "/v1/organizations/{org_id}/invitations", function: "list-invitations" },
    Route { method: "PUT", path: "/v1/organizations/{org_id}/permissions", function: "update-permissions" },
    Route { method: "POST", path: "/v1/organizations", function: "create-organization" },
    Route { method: "PATCH", path: "/v1/organizations/{org_id}", function: "rename-organization" },
    Route { method: "GET", path: "/v1/organizations/{org_id}/events", function: "list-events" },
    Route { method: "GET", path: "/v1/organizations/{org_id}/usage", function: "get-usage" },
    Route { method: "PUT", path: "/v1/organizations/{org_id}/cloud-account", function: "configure-account" },
    Route { method: "GET", path: "/v1/organizations/{org_id}/cloud-account", function: "get-cloud-account" },
    Route { method: "POST", path: "/v1/organizations/{org_id}/clusters", function: "create-cluster" },
    Route { method: "GET", path: "/v1/organizations/{org_id}/clusters", function: "list-clusters" },
    Route {
        method: "GET",
        path: "/v1/organizations/{org_id}/clusters/{cluster_id}",
        function: "get-cluster",
    },
    Route {
        method: "POST",
        path: "/v1/organizations/{org_id}/clusters/{cluster_id}/start",
        function: "cluster-action",
    },
    Route {
        method: "POST",
        path: "/v1/organizations/{org_id}/clusters/{cluster_id}/stop",
        function: "cluster-action",
    },
    Route {
        method: "POST",
        path: "/v1/organizations/{org_id}/clusters/{cluster_id}/terminate",
        function: "cluster-action",
    },
    Route {
        method: "PUT",
        path: "/v1/organizations/{org_id}/clusters/{cluster_id}/ports/{port}",
        function: "cluster-port",
    },
    Route {
        method: "DELETE",
        path: "/v1/organizations/{org_id}/clusters/{cluster_id}/ports/{port}",
        function: "cluster-port",
    },
    Route {
        method: "GET",
        path: "/v1/organizations/{org_id}/clusters/{cluster_id}/users",
        function: "list-cluster-users",
    },
    Route {
        method: "POST",
        path: "/v1/organizations/{org_id}/clusters/{cluster_id}/agent-token",
        function: "rotate-agent-token",
    },
    // The cluster agent's routes: its own token, no JWT.
    Route { method: "GET", path: "/v1/agent/clusters/{cluster_id}/users", function: "cluster-agent" },
    Route { method: "POST", path: "/v1/agent/clusters/{cluster_id}/users/ack", function: "cluster-agent" },
    Route { method: "POST", path: "/v1/agent/clusters/{cluster_id}/heartbeat", function: "cluster-agent" },
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
