// The dashboard: a hash-routed page per view, rendered from the API's answers. Every failure is
// shown next to what caused it, in the API's words.
import { client } from "./api.js";

const state = { config: null, api: null, me: null };
const main = document.getElementById("main");
const status = document.getElementById("status");

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v === true) node.setAttribute(k, "");
    else if (v !== false && v != null) node.setAttribute(k, v);
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function showError(target, problem) {
  target.textContent = problem.words || String(problem);
}

async function load() {
  state.config = await (await fetch("./config.json")).json();
  state.api = client({ baseUrl: state.config.api_url, token: () => sessionStorage.getItem("token") });
  addEventListener("hashchange", render);
  await render();
}

async function render() {
  const token = sessionStorage.getItem("token");
  if (!token) return signIn();
  try {
    state.me = await state.api.get("/v1/me");
  } catch (problem) {
    if (problem.status === 401) { sessionStorage.removeItem("token"); return signIn(); }
    main.replaceChildren(el("p", { class: "error", role: "alert" }, problem.words));
    return;
  }
  const [, page, orgId] = location.hash.match(/^#\/(?:(orgs)\/([^/]+))?/) || [];
  main.replaceChildren(page === "orgs" ? await members(orgId) : dashboard());
  main.focus();
}

function signIn() {
  const error = el("p", { class: "error", role: "alert" });
  const email = el("input", { id: "email", type: "email", required: true, autocomplete: "email" });
  const form = el("form", {
    onsubmit: async (e) => {
      e.preventDefault();
      const answer = await fetch(state.config.dev_sign_in, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: email.value }),
      });
      if (!answer.ok) { error.textContent = await answer.text(); return; }
      sessionStorage.setItem("token", (await answer.json()).token);
      render();
    },
  }, el("label", { for: "email" }, "Email", email), el("button", { type: "submit" }, "Sign in"));
  main.replaceChildren(el("h1", {}, "Sign in"), form, error);
}

function dashboard() {
  const { organizations, invitations } = state.me;
  const rows = organizations.map((o) =>
    el("tr", {}, el("td", {}, el("a", { href: `#/orgs/${o.org_id}` }, o.name)), el("td", {}, o.role)));
  const invites = invitations.map((i) => {
    const error = el("span", { class: "error", role: "alert" });
    const answer = (verb) => async () => {
      try { await state.api.post(`/v1/invitations/${i.invitation_id}/${verb}`); status.textContent = `Invitation ${verb}ed.`; render(); }
      catch (problem) { showError(error, problem); }
    };
    return el("li", {}, `${i.org_name} (as ${i.role}, from ${i.invited_by_email}) `,
      el("button", { type: "button", onclick: answer("accept") }, "Accept"), " ",
      el("button", { type: "button", onclick: answer("decline") }, "Decline"), " ", error);
  });
  return el("section", {},
    el("h1", {}, "Your organizations"),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Name"), el("th", { scope: "col" }, "Your role"))), el("tbody", {}, rows)),
    el("h2", {}, "Invitations"),
    invites.length ? el("ul", {}, invites) : el("p", {}, "No open invitations."));
}

async function members(orgId) {
  const [org, page] = await Promise.all([
    state.api.get(`/v1/organizations/${orgId}`),
    state.api.get(`/v1/organizations/${orgId}/members`),
  ]);
  const mayInvite = org.role !== "member" || org.settings.members_can_invite;
  const error = el("p", { class: "error", role: "alert" });
  const email = el("input", { id: "invite-email", type: "email", required: true });
  const invite = el("form", {
    onsubmit: async (e) => {
      e.preventDefault();
      error.textContent = "";
      try { await state.api.post(`/v1/organizations/${orgId}/invitations`, { email: email.value }); status.textContent = `Invited ${email.value}.`; email.value = ""; }
      catch (problem) { showError(error, problem); }
    },
  }, el("label", { for: "invite-email" }, "Email to invite", email), el("button", { type: "submit" }, "Invite"));
  return el("section", {},
    el("h1", {}, org.name),
    mayInvite ? invite : el("p", {}, "Only the owner and admins invite here."),
    error,
    el("table", {},
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Email"), el("th", { scope: "col" }, "Role"))),
      el("tbody", {}, page.members.map((m) => el("tr", {}, el("td", {}, m.email), el("td", {}, m.role))))));
}

load().catch((e) => { main.replaceChildren(el("p", { class: "error", role: "alert" }, String(e))); });
