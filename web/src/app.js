// The dashboard's shell: sign-in, the header, routing by the URL's hash, and rendering the page
// the route names (each page is a module of pages/).
// Every failure is shown next to what caused it, in the API's words. Buttons follow the
// organization's `abilities` (the API's own authorization table); the API still decides.
import { client } from "./api.js";
import * as pkce from "./pkce.js";
import { el, field } from "./ui.js";
import { state, alertBox, attempt, orgPath, leave, onRender } from "./page.js";
import * as session from "./session.js";
import { home } from "./pages/home.js";
import { members } from "./pages/members.js";
import { settings } from "./pages/settings.js";
import { cloud } from "./pages/cloud.js";
import { clusters } from "./pages/clusters.js";
import { cluster } from "./pages/cluster.js";
import { usage } from "./pages/usage.js";
import { audit } from "./pages/audit.js";
import { keys } from "./pages/keys.js";
import { automation } from "./pages/automation.js";

const main = document.getElementById("main");
const status = document.getElementById("status");
const switcher = document.getElementById("org-switcher");
const signOut = document.getElementById("sign-out");
const orgNav = document.getElementById("org-nav");

const PAGES = [
  ["members", "Members"],
  ["settings", "Settings"],
  ["cloud", "Cloud account"],
  ["clusters", "Clusters"],
  ["usage", "Usage"],
  ["audit", "Audit log"],
  ["automation", "Automation"],
];

// ---- sign-in ----------------------------------------------------------------------------------

async function signIn() {
  setChrome(null);
  const auth = state.config.auth || {};
  if (auth.mode === "cognito") {
    const start = el("button", { type: "button", onclick: () => startHostedUi(auth) }, "Sign in");
    main.replaceChildren(el("h1", {}, "Sign in"), el("p", {}, "You sign in on the service's sign-in page."), start);
    return;
  }
  const box = alertBox();
  const email = el("input", { id: "email", type: "email", required: true, autocomplete: "email" });
  const submit = el("button", { type: "submit" }, "Sign in");
  const form = el("form", {
    onsubmit: async (e) => {
      e.preventDefault();
      const answer = await attempt(submit, box, async () => {
        const response = await fetch(auth.sign_in, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: email.value }),
        });
        const body = await response.json().catch(() => ({}));
        if (!response.ok) throw { words: body.detail || `Sign-in failed (${response.status}).` };
        return body;
      });
      if (answer.ok) {
        session.store({ id_token: answer.value.token });
        render();
      }
    },
  }, field("Email", email), submit);
  main.replaceChildren(
    el("h1", {}, "Sign in"),
    el("p", {}, "Local stack: any address signs you in (and signs you up the first time)."),
    form,
    box,
  );
}

async function startHostedUi(auth) {
  const verifier = pkce.verifier();
  const stateToken = pkce.verifier();
  sessionStorage.setItem("pkce", JSON.stringify({ verifier, state: stateToken }));
  location.assign(pkce.authorizeUrl({
    domain: auth.domain,
    clientId: auth.client_id,
    redirectUri: auth.redirect_uri,
    challenge: await pkce.challenge(verifier),
    state: stateToken,
  }));
}

/** Back from the hosted UI with `?code=`: trades it (and the verifier) for tokens. */
async function finishHostedUi(auth) {
  const query = new URLSearchParams(location.search);
  const code = query.get("code");
  if (!code) return;
  const saved = JSON.parse(sessionStorage.getItem("pkce") || "{}");
  sessionStorage.removeItem("pkce");
  history.replaceState(null, "", location.pathname + location.hash);
  if (query.get("state") !== saved.state) throw new Error("The sign-in answer did not match this browser's request. Sign in again.");
  const response = await fetch(`${auth.domain}/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: pkce.tokenRequest({ clientId: auth.client_id, redirectUri: auth.redirect_uri, code, verifier: saved.verifier }),
  });
  if (!response.ok) throw new Error(`Sign-in failed (${response.status}). Sign in again.`);
  session.store(await response.json());
}
// ---- chrome: switcher and navigation ------------------------------------------------------------

function setChrome(route) {
  const signedIn = Boolean(state.me) && route !== null;
  signOut.hidden = !signedIn;
  switcher.disabled = !signedIn;
  switcher.replaceChildren(
    el("option", { value: "" }, "Your organizations"),
    ...(signedIn ? state.me.organizations.map((o) => el("option", { value: o.org_id, selected: route?.orgId === o.org_id }, o.name)) : []),
  );
  orgNav.replaceChildren();
  if (signedIn && route.orgId) {
    orgNav.append(el("ul", {}, PAGES.map(([page, label]) => el("li", {},
      el("a", { href: `#/orgs/${route.orgId}/${page}`, "aria-current": route.page === page ? "page" : false }, label)))));
  }
}

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "orgs" && parts[1]) return { orgId: parts[1], page: parts[2] || "members", clusterId: parts[3] };
  // The link in an invitation email: the dashboard, with that invitation first.
  if (parts[0] === "invitations" && parts[1]) return { orgId: null, page: "home", invitationId: parts[1] };
  if (parts[0] === "keys") return { orgId: null, page: "keys" };
  return { orgId: null, page: "home" };
}
// ---- rendering ----------------------------------------------------------------------------------

async function render() {
  delete main.dataset.rendered;
  if (Date.now() - (state.said || 0) > 4000) status.textContent = "";
  leave();
  if (!session.token()) return signIn();
  try {
    state.me = await state.api.get("/v1/me");
  } catch (problem) {
    if (problem.status === 401) {
      session.clear();
      return signIn();
    }
    main.replaceChildren(el("p", { class: "error", role: "alert" }, problem.words));
    return;
  }
  const route = parseRoute();
  setChrome(route);
  let view;
  try {
    view = route.orgId ? await orgPage(route) : route.page === "keys" ? await keys() : home(route);
  } catch (problem) {
    view = el("section", {}, el("h1", {}, "Something went wrong"), el("p", { class: "error", role: "alert" }, problem.words || String(problem)));
  }
  main.replaceChildren(view);
  main.dataset.rendered = location.hash || "#/";
  document.title = `${main.querySelector("h1")?.textContent || "Dashboard"} · Organizations`;
}

async function orgPage(route) {
  let org;
  try {
    org = await state.api.get(orgPath(route.orgId));
  } catch (problem) {
    if (problem.status !== 404) throw problem;
    return el("section", {},
      el("h1", {}, "No access"),
      el("p", { class: "error", role: "alert" }, "You have no access to this organization: it does not exist, or you are no longer a member."),
      el("p", {}, el("a", { href: "#/" }, "Back to your organizations")));
  }
  const pages = { members, settings, cloud, clusters, usage, audit, automation };
  const page = route.clusterId ? cluster : pages[route.page] || members;
  return page(org, route);
}

// ---- start --------------------------------------------------------------------------------------

async function start() {
  onRender(render);
  // Invitation emails link to /invitations/{id}; the app routes by the hash.
  const link = location.pathname.match(/^\/invitations\/([^/]+)\/?$/);
  if (link) history.replaceState(null, "", `/${location.search}#/invitations/${encodeURIComponent(link[1])}`);
  state.config = await (await fetch("/config.json")).json();
  state.api = client({
    baseUrl: state.config.api_url,
    token: session.token,
    renew: () => session.renew(state.config.auth),
  });
  if (state.config.auth?.mode === "cognito") await finishHostedUi(state.config.auth);
  switcher.addEventListener("change", () => {
    const route = parseRoute();
    location.hash = switcher.value ? `#/orgs/${switcher.value}/${route.orgId ? route.page : "members"}` : "#/";
  });
  signOut.addEventListener("click", () => {
    session.clear();
    state.me = null;
    location.hash = "#/";
    render();
  });
  addEventListener("hashchange", () => render());
  await render();
}

start().catch((e) => {
  main.replaceChildren(el("p", { class: "error", role: "alert" }, e.message || String(e)));
});
