// The signed-in session: the ID token the API takes and, after the hosted UI's sign-in, the
// refresh token that renews it when it expires (after an hour) without asking the person to sign
// in again. Both live in sessionStorage: gone with the tab.
const ID = "token";
const REFRESH = "refresh_token";

export const token = () => sessionStorage.getItem(ID);

/** Keeps a token endpoint's (or the local sign-in's) answer. */
export function store({ id_token, refresh_token }) {
  sessionStorage.setItem(ID, id_token);
  if (refresh_token) sessionStorage.setItem(REFRESH, refresh_token);
}

export function clear() {
  sessionStorage.removeItem(ID);
  sessionStorage.removeItem(REFRESH);
}

let renewing = null;

/**
 * Trades the refresh token for a new ID token at the hosted UI's token endpoint. Resolves true
 * when the session goes on; requests that fail together wait for one renewal.
 */
export function renew(auth) {
  const refresh = sessionStorage.getItem(REFRESH);
  if (!refresh || auth?.mode !== "cognito") return Promise.resolve(false);
  renewing ||= (async () => {
    try {
      const response = await fetch(`${auth.domain}/oauth2/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "refresh_token", client_id: auth.client_id, refresh_token: refresh }),
      });
      const body = response.ok ? await response.json() : {};
      if (!body.id_token) return false;
      sessionStorage.setItem(ID, body.id_token);
      return true;
    } catch {
      return false;
    } finally {
      renewing = null;
    }
  })();
  return renewing;
}
