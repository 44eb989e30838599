//! What accepting and declining an invitation share: who may answer it, read in one round trip.

use lambda_http::Request;

use crate::Api;
use crate::domain::{DomainError, Invitation, InvitationId, User};
use crate::http::{ApiError, path_param};

/// The invitation named in the path and the calling user, once the caller is shown to be its
/// invitee and it can still be answered. Anyone else learns nothing (404); an answered invitation
/// is 409 and an expired one 410.
pub async fn load(api: &Api, req: &Request) -> Result<(Invitation, User), ApiError> {
    let caller = api.authenticate(req).await?;
    let id = InvitationId::parse(&path_param(req, "invitation_id")?)
        .map_err(|_| DomainError::NotFound("invitation"))?;
    let (invitation, user) = api.store.invitation_and_user(&id, &caller.user_id).await?;
    let (Some(invitation), Some(user)) = (invitation, user) else {
        return Err(DomainError::NotFound("invitation").into());
    };
    // Their address is the one their identity provider verified last.
    let user = api.following_email(&caller, user).await?;
    invitation.check_answerable_by(&user.email, api.now())?;
    Ok((invitation, user))
}
