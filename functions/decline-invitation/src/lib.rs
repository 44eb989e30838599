//! `POST /v1/invitations/{invitation_id}/decline`: the invitee says no. The email may be invited
//! again afterwards. Same visibility rules as accepting.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::http::{ApiError, no_content, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, decline(api, &req).await))
}

async fn decline(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let (invitation, user) = orgs::answer::load(api, req).await?;
    api.store.decline_invitation(&invitation, &user, api.now()).await?;
    no_content()
}
