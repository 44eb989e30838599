// The API client: every call sends the bearer token and turns a failure into a Problem the page
// can show in words (problem+json from the functions, `{"message"}` from API Gateway, or the
// network). Nothing fails silently.

export class Problem extends Error {
  constructor({ status, title, detail, type, extra }) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.type = type;
    this.extra = extra || {};
  }

  /** What to show the person: the detail the API wrote for them, or a plain fallback. */
  get words() {
    if (this.detail) return this.detail;
    if (this.status === 401) return "Your session has ended. Sign in again.";
    if (this.status === 429) return "Too many requests right now. Wait a moment and try again.";
    if (this.status >= 500) return "The service could not do this just now. Try again in a moment.";
    return this.title || `The request failed (${this.status}).`;
  }
}

/** Reads a failed response into a Problem, whatever shape its body has. */
export async function problemOf(response) {
  const type = response.headers.get("content-type") || "";
  let body = {};
  try {
    body = type.includes("json") ? await response.json() : { detail: (await response.text()).slice(0, 300) };
  } catch {
    body = {};
  }
  const { type: problemType, title, detail, status, ...extra } = body;
  return new Problem({
    status: status || response.status,
    title: title || response.statusText,
    detail: detail || body.message,
    type: problemType,
    extra,
  });
}

/**
 * `token` is the bearer (or a function returning it); `renew`, if given, is asked once after a 401
 * whether a new token could be had, and the request is then sent again with it.
 */
export function client({ baseUrl, token, renew, fetchImpl = globalThis.fetch }) {
  async function call(method, path, body, accept = "application/json", extra = {}, renewed = false) {
    const headers = { accept, ...extra };
    const bearer = typeof token === "function" ? token() : token;
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response;
    try {
      response = await fetchImpl(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new Problem({ status: 0, title: "Network error", detail: "The service cannot be reached. Check your connection." });
    }
    if (response.status === 401 && renew && !renewed && (await renew())) {
      return call(method, path, body, accept, extra, true);
    }
    if (!response.ok) throw await problemOf(response);
    if (response.status === 204) return null;
    return accept === "application/json" ? response.json() : response.text();
  }
  return {
    get: (path, accept) => call("GET", path, undefined, accept),
    post: (path, body) => call("POST", path, body),
    put: (path, body, ifMatch) => call("PUT", path, body, "application/json", ifMatch ? { "if-match": `"${ifMatch}"` } : {}),
    patch: (path, body) => call("PATCH", path, body),
    del: (path) => call("DELETE", path),
  };
}
