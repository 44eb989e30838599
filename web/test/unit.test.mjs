// node --test web/test: the pieces of the dashboard that need no browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { client, Problem } from "../src/api.js";
import { challenge, verifier, authorizeUrl, tokenRequest } from "../src/pkce.js";

const respond = (status, body, type = "application/problem+json") =>
  new Response(body === null ? null : JSON.stringify(body), { status, headers: { "content-type": type } });

test("a problem+json answer becomes words for the person", async () => {
  const api = client({
    baseUrl: "http://api",
    token: "t",
    fetchImpl: async () => respond(409, { type: "/problems/conflict", title: "Conflict", status: 409, detail: "bob@example.com is already a member" }),
  });
  await assert.rejects(api.post("/v1/organizations/o/invitations", { email: "bob@example.com" }), (e) => {
    assert.ok(e instanceof Problem);
    assert.equal(e.status, 409);
    assert.equal(e.words, "bob@example.com is already a member");
    return true;
  });
});

test("API Gateway's own message and a dead network are shown too", async () => {
  const gateway = client({ baseUrl: "", token: "t", fetchImpl: async () => respond(401, { message: "Unauthorized" }, "application/json") });
  await assert.rejects(gateway.get("/v1/me"), (e) => e.status === 401 && e.words === "Unauthorized");
  const offline = client({ baseUrl: "", token: "t", fetchImpl: async () => { throw new TypeError("failed to fetch"); } });
  await assert.rejects(offline.get("/v1/me"), (e) => e.status === 0 && /cannot be reached/.test(e.words));
});

test("the token and the JSON body go out; 204 is null", async () => {
  let seen;
  const api = client({ baseUrl: "http://api", token: () => "abc", fetchImpl: async (url, init) => { seen = { url, init }; return new Response(null, { status: 204 }); } });
  assert.equal(await api.put("/v1/x", { a: 1 }), null);
  assert.equal(seen.url, "http://api/v1/x");
  assert.equal(seen.init.headers.authorization, "Bearer abc");
  assert.equal(seen.init.headers["content-type"], "application/json");
  assert.equal(seen.init.body, '{"a":1}');
});

test("a 401 asks for a new token once and sends the request again with it", async () => {
  let current = "old";
  let renewals = 0;
  const sent = [];
  const api = client({
    baseUrl: "",
    token: () => current,
    renew: async () => { renewals += 1; current = "new"; return true; },
    fetchImpl: async (url, init) => {
      sent.push(init.headers.authorization);
      return init.headers.authorization === "Bearer new" ? respond(200, { ok: 1 }, "application/json") : respond(401, { message: "Unauthorized" }, "application/json");
    },
  });
  assert.deepEqual(await api.get("/v1/me"), { ok: 1 });
  assert.deepEqual(sent, ["Bearer old", "Bearer new"]);
  assert.equal(renewals, 1);
  // A renewal that fails, or a second 401, is the caller's 401: no loop.
  const refused = client({ baseUrl: "", token: "t", renew: async () => { renewals += 1; return true; }, fetchImpl: async () => respond(401, { message: "Unauthorized" }, "application/json") });
  await assert.rejects(refused.get("/v1/me"), (e) => e.status === 401);
  assert.equal(renewals, 2);
});

test("PKCE: RFC 7636's own example verifier gives its challenge", async () => {
  assert.equal(await challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  assert.equal(verifier(() => new Uint8Array(32)).length, 43);
  const url = new URL(authorizeUrl({ domain: "https://auth.example", clientId: "c", redirectUri: "https://app/cb", challenge: "x", state: "s" }));
  assert.equal(url.searchParams.get("code_challenge_method"), "S256");
  assert.equal(url.searchParams.get("response_type"), "code");
  assert.equal(tokenRequest({ clientId: "c", redirectUri: "r", code: "k", verifier: "v" }).get("code_verifier"), "v");
});
