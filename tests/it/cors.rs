//! The dashboard calls the API from another origin: the router answers preflights and marks
//! answers for the dashboard's origin only, as API Gateway does with the template's CORS.

use http::StatusCode;

use crate::support::{register, stack};

async fn preflight(api: &str, origin: &str, method: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{api}/v1/me"))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .expect("preflight")
}

#[tokio::test]
async fn only_the_dashboards_origin_may_call_the_api_from_a_browser() {
    let stack = stack().await;
    let dashboard = stack.options.dashboard_url.clone();
    let alice = register(&stack, &crate::support::email("alice")).await;

    let ok = preflight(&stack.api_url, &dashboard, "PUT").await;
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    let header = |r: &reqwest::Response, name: &str| {
        r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    };
    assert_eq!(header(&ok, "access-control-allow-origin"), dashboard);
    assert!(header(&ok, "access-control-allow-methods").contains("PUT"));
    assert!(header(&ok, "access-control-allow-headers").contains("authorization"));

    let other = preflight(&stack.api_url, "https://elsewhere.example", "GET").await;
    assert_eq!(header(&other, "access-control-allow-origin"), "", "another origin gets no grant");
    let unknown_method = preflight(&stack.api_url, &dashboard, "TRACE").await;
    assert_eq!(header(&unknown_method, "access-control-allow-origin"), "");

    let me = reqwest::Client::new()
        .get(format!("{}/v1/me", stack.api_url))
        .header("origin", &dashboard)
        .bearer_auth(&alice.token)
        .send()
        .await
        .expect("GET /v1/me");
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(header(&me, "access-control-allow-origin"), dashboard);
    let plain = reqwest::Client::new()
        .get(format!("{}/v1/me", stack.api_url))
        .bearer_auth(&alice.token)
        .send()
        .await
        .expect("GET /v1/me");
    assert_eq!(header(&plain, "access-control-allow-origin"), "", "no origin, no grant");
}
