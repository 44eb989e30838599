//! `POST /v1/invitations/{invitation_id}/accept`: the invited user joins the organization.
//! Anyone but the invitee gets 404; answered: 409; expired: 410. Of many concurrent accepts,
//! exactly one succeeds (the store's conditions decide, not the read before them).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::Joined;
use orgs::http::{ApiError, json, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, accept(api, &req).await))
}

async fn accept(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let (invitation, user) = orgs::answer::load(api, req).await?;
    let membership = api.store.accept_invitation(&invitation, &user, api.now()).await?;
    json(
        StatusCode::OK,
        &Joined {
            org_id: membership.org_id,
            org_name: membership.org_name,
            role: membership.role,
            joined_at: membership.joined_at,
        },
    )
}
