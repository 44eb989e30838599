// Authorization code + PKCE (RFC 7636) for Cognito's hosted UI: the verifier stays in the
// browser's session storage; only its S256 challenge goes to the authorization endpoint.

function base64url(bytes) {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A fresh verifier: 32 random bytes, 43 characters of base64url. */
export function verifier(random = (n) => crypto.getRandomValues(new Uint8Array(n))) {
  return base64url(random(32));
}

/** The S256 challenge of a verifier. */
export async function challenge(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** The hosted UI's authorization URL. */
export function authorizeUrl({ domain, clientId, redirectUri, challenge, state }) {
  const query = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: "openid email",
    code_challenge_method: "S256",
    code_challenge: challenge,
    state,
  });
  return `${domain}/oauth2/authorize?${query}`;
}

/** The token request's form body for a returned code. */
export function tokenRequest({ clientId, redirectUri, code, verifier }) {
  return new URLSearchParams({
    grant_type: "authorization_code",
    client_id: clientId,
    redirect_uri: redirectUri,
    code,
    code_verifier: verifier,
  });
}
