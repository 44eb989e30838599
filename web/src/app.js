// The dashboard: one page per view, rendered from the API's answers, routed by the URL's hash.
// Every failure is shown next to what caused it, in the API's words. Buttons follow the
// organization's `abilities` (the API's own authorization table); the API still decides.
import { client } from "./api.js";
import * as pkce from "./pkce.js";
import { el, field, dataTable, fmtTime, fmtNumber, usageChart } from "./ui.js";

const state = { config: null, api: null, me: null, timer: null };
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
];

/** A short message about what just happened; it goes away on a later page once a few seconds old. */
const say = (words) => {
  status.textContent = words;
  state.said = Date.now();
};
const alertBox = () => el("p", { class: "error", role: "alert" });

/** May the caller do `action` in `org`? `{ allowed, reason }`, from the organization view. */
function can(org, action) {
  return org.abilities.find((a) => a.action === action) || { allowed: false, reason: "unknown action" };
}

/**
 * A button that follows an ability. When not allowed it looks disabled and gives the reason on
 * hover, yet stays focusable: pressing it says the reason in the status line, so that keyboard
 * and screen-reader users learn it too.
 */
function guarded(ability, label, onclick, attrs = {}) {
  if (!ability.allowed) {
    return el("button", {
      type: "button",
      ...attrs,
      class: `${attrs.class || ""} unavailable`.trim(),
      "aria-disabled": "true",
      title: ability.reason,
      onclick: () => say(`${label}: not allowed, ${ability.reason}.`),
    }, label);
  }
  return el("button", { type: "button", ...attrs, disabled: attrs.disabled, onclick }, label);
}

/** A form's fields, disabled with the reason on hover when the ability is not granted. */
function guardedFields(ability, legend, ...children) {
  return el("fieldset", { disabled: !ability.allowed, title: ability.allowed ? false : ability.reason },
    el("legend", {}, legend), ...children);
}

/** The reason a whole form is read-only, as text beside it. */
function readOnly(ability, what) {
  return ability.allowed ? "" : el("p", { class: "note" }, `You cannot ${what}: ${ability.reason}.`);
}

/**
 * Runs one request for a control: disables it while in flight, shows the API's words in `box`
 * when it fails, and returns the answer (or undefined after a failure).
 */
async function attempt(control, box, request) {
  box.textContent = "";
  control.disabled = true;
  try {
    return await request();
  } catch (problem) {
    box.textContent = problem.words || String(problem);
    return undefined;
  } finally {
    control.disabled = false;
  }
}

function orgPath(orgId, rest = "") {
  return `/v1/organizations/${encodeURIComponent(orgId)}${rest}`;
}

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
      if (answer) {
        sessionStorage.setItem("token", answer.token);
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
  sessionStorage.setItem("token", (await response.json()).id_token);
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
  return { orgId: null, page: "home" };
}

// ---- rendering ----------------------------------------------------------------------------------

async function render() {
  delete main.dataset.rendered;
  if (Date.now() - (state.said || 0) > 4000) status.textContent = "";
  clearInterval(state.timer);
  state.timer = null;
  if (!sessionStorage.getItem("token")) return signIn();
  try {
    state.me = await state.api.get("/v1/me");
  } catch (problem) {
    if (problem.status === 401) {
      sessionStorage.removeItem("token");
      return signIn();
    }
    main.replaceChildren(el("p", { class: "error", role: "alert" }, problem.words));
    return;
  }
  const route = parseRoute();
  setChrome(route);
  let view;
  try {
    view = route.orgId ? await orgPage(route) : home(route);
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
  const pages = { members, settings, cloud, clusters, usage, audit };
  const page = route.clusterId ? cluster : pages[route.page] || members;
  return page(org, route);
}

function home(route) {
  const me = state.me;
  const linked = route.invitationId;
  const open = me.invitations.some((inv) => inv.invitation_id === linked);
  const orgs = me.organizations.map((o) => el("li", {},
    el("a", { href: `#/orgs/${o.org_id}/members` }, o.name), " ", el("span", { class: "badge" }, o.role)));
  const invitations = me.invitations.map((inv) => {
    const box = alertBox();
    const respond = (verb) => async (e) => {
      const done = await attempt(e.target, box, () => state.api.post(`/v1/invitations/${inv.invitation_id}/${verb}`));
      if (done === undefined && box.textContent) return;
      if (verb === "accept") {
        say(`You joined ${inv.org_name}.`);
        location.hash = `#/orgs/${inv.org_id}/members`;
      } else {
        say(`You declined the invitation to ${inv.org_name}.`);
      }
      render();
    };
    return el("li", { class: inv.invitation_id === linked ? "invitation linked" : "invitation", id: `invitation-${inv.invitation_id}` },
      el("p", {}, el("strong", {}, inv.org_name), ` invites you as ${inv.role} (from ${inv.invited_by_email}, until ${fmtTime(inv.expires_at)}).`),
      el("button", { type: "button", onclick: respond("accept"), "aria-label": `Accept the invitation to ${inv.org_name}` }, "Accept"),
      " ",
      el("button", { type: "button", class: "secondary", onclick: respond("decline"), "aria-label": `Decline the invitation to ${inv.org_name}` }, "Decline"),
      box);
  });
  const box = alertBox();
  const name = el("input", { id: "new-org-name", required: true, maxlength: 64 });
  const create = el("button", { type: "submit" }, "Create");
  const form = el("form", {
    onsubmit: async (e) => {
      e.preventDefault();
      const created = await attempt(create, box, () => state.api.post("/v1/organizations", { name: name.value }));
      if (created) location.hash = `#/orgs/${created.org_id}/members`;
    },
  }, field("Name", name), create);
  return el("section", {},
    el("h1", {}, "Your organizations"),
    el("p", {}, `Signed in as ${me.user.email}.`),
    el("ul", { class: "orgs" }, orgs),
    el("h2", {}, "Invitations"),
    linked && !open
      ? el("p", { class: "note", role: "alert" }, "The invitation you followed is no longer open: it was accepted, declined or revoked, it expired, or it was sent to another address.")
      : "",
    invitations.length ? el("ul", { class: "invitations" }, invitations) : el("p", {}, "No open invitations."),
    el("h2", {}, "New organization"),
    form,
    box);
}

/** Every page of a paged list (the dashboard's lists are small; at most `max` pages). */
async function all(path, key, max = 20) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < max; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await state.api.get(`${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page[key]);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

function heading(org, title) {
  return el("h1", {}, title, el("span", { class: "org-name" }, ` · ${org.name}`));
}

// ---- members ------------------------------------------------------------------------------------

async function members(org) {
  const me = state.me.user;
  const [people, pending] = await Promise.all([
    all(orgPath(org.org_id, "/members"), "members"),
    all(orgPath(org.org_id, "/invitations?status=pending"), "invitations"),
  ]);
  const rows = people.map((m) => {
    const box = alertBox();
    const self = m.user_id === me.user_id;
    const actions = [];
    if (self && m.role !== "owner") {
      actions.push(guarded(can(org, "leave"), "Leave", async (e) => {
        if (!confirm(`Leave ${org.name}? You lose access at once.`)) return;
        if (await attempt(e.target, box, () => state.api.del(orgPath(org.org_id, `/members/${m.user_id}`))) !== undefined) {
          say(`You left ${org.name}.`);
          location.hash = "#/";
        }
      }, { class: "danger" }));
    }
    if (!self && m.role !== "owner") {
      const role = el("select", { "aria-label": `Role of ${m.email}`, disabled: !can(org, "change_role").allowed },
        ["member", "admin"].map((r) => el("option", { value: r, selected: r === m.role }, r)));
      actions.push(role, guarded(can(org, "change_role"), "Change role", async (e) => {
        if (await attempt(e.target, box, () => state.api.patch(orgPath(org.org_id, `/members/${m.user_id}`), { role: role.value }))) {
          say(`${m.email} is now ${role.value}.`);
          render();
        }
      }, { "aria-label": `Change the role of ${m.email}` }));
      actions.push(guarded(can(org, "transfer_ownership"), "Make owner", async (e) => {
        if (!confirm(`Make ${m.email} the owner of ${org.name}? You become an admin.`)) return;
        if (await attempt(e.target, box, () => state.api.post(orgPath(org.org_id, "/ownership"), { user_id: m.user_id }))) {
          say(`${m.email} now owns ${org.name}.`);
          render();
        }
      }, { "aria-label": `Make ${m.email} the owner` }));
      actions.push(guarded(can(org, "remove_member"), "Remove", async (e) => {
        if (!confirm(`Remove ${m.email} from ${org.name}? Their access ends at once.`)) return;
        if (await attempt(e.target, box, () => state.api.del(orgPath(org.org_id, `/members/${m.user_id}`))) !== undefined) {
          say(`${m.email} was removed.`);
          render();
        }
      }, { class: "danger", "aria-label": `Remove ${m.email}` }));
    }
    return el("tr", {}, el("td", {}, m.email, self ? " (you)" : ""), el("td", {}, m.role), el("td", {}, fmtTime(m.joined_at)),
      el("td", { class: "actions" }, actions, box));
  });

  const inviting = can(org, "invite_member");
  const invite = inviting.allowed ? inviteForm(org) : el("p", { class: "note" }, `You cannot invite: ${inviting.reason}.`);

  const invitationRows = pending.map((inv) => {
    const box = alertBox();
    const own = inv.invited_by === me.user_id;
    const resend = own ? can(org, "invite_member") : can(org, "resend_invitation");
    const revoke = own ? { allowed: true } : can(org, "revoke_invitation");
    return el("tr", {},
      el("td", {}, inv.email), el("td", {}, inv.role), el("td", {}, inv.invited_by_email), el("td", {}, fmtTime(inv.expires_at)),
      el("td", {}, inv.mail_problem ? `${inv.mail}: ${inv.mail_problem}` : inv.mail),
      el("td", { class: "actions" },
        guarded(resend, "Resend", async (e) => {
          if (await attempt(e.target, box, () => state.api.post(orgPath(org.org_id, `/invitations/${inv.invitation_id}/resend`)))) {
            say(`The invitation to ${inv.email} was sent again.`);
            render();
          }
        }, { "aria-label": `Resend the invitation to ${inv.email}` }),
        guarded(revoke, "Revoke", async (e) => {
          if (await attempt(e.target, box, () => state.api.del(orgPath(org.org_id, `/invitations/${inv.invitation_id}`))) !== undefined) {
            say(`The invitation to ${inv.email} was revoked.`);
            render();
          }
        }, { class: "danger", "aria-label": `Revoke the invitation to ${inv.email}` }),
        box));
  });

  return el("section", {},
    heading(org, "Members"),
    dataTable(`${people.length} member${people.length === 1 ? "" : "s"}`, ["Email", "Role", "Joined", "Actions"], rows),
    el("h2", {}, "Invite someone"),
    invite,
    el("h2", {}, "Pending invitations"),
    invitationRows.length
      ? dataTable(null, ["Email", "Role", "Sent by", "Expires", "Email delivery", "Actions"], invitationRows)
      : el("p", {}, "No pending invitations."));
}

function inviteForm(org) {
  const box = alertBox();
  const email = el("input", { id: "invite-email", type: "email", required: true, autocomplete: "off" });
  const admin = can(org, "invite_admin");
  const role = el("select", { id: "invite-role" },
    el("option", { value: "member" }, "member"),
    el("option", { value: "admin", disabled: !admin.allowed, title: admin.allowed ? false : admin.reason }, "admin"));
  const submit = el("button", { type: "submit" }, "Invite");
  return el("div", {}, el("form", {
    onsubmit: async (e) => {
      e.preventDefault();
      const sent = await attempt(submit, box, () => state.api.post(orgPath(org.org_id, "/invitations"), { email: email.value, role: role.value }));
      if (sent) {
        say(`Invitation sent to ${sent.email}.`);
        render();
      }
    },
  }, field("Email", email), field("Role", role), submit), box);
}

// ---- settings -----------------------------------------------------------------------------------

function settings(org) {
  const s = org.settings;
  const mayChange = can(org, "update_settings");
  const box = alertBox();
  const check = (id, label, value) => el("label", { class: "check" }, el("input", { id, type: "checkbox", checked: value }), label);
  const ttl = el("input", { id: "ttl", type: "number", min: 1, max: 30, required: true, value: s.invitation_ttl_days });
  const save = el("button", { type: "submit" }, "Save permissions");
  const fields = guardedFields(mayChange, "Permissions",
    check("members_can_invite", "Members can invite others", s.members_can_invite),
    check("members_can_manage_clusters", "Members can create and terminate clusters", s.members_can_manage_clusters),
    check("members_can_open_ports", "Members can open cluster ports", s.members_can_open_ports),
    field("Invitation lifetime (days)", ttl),
    save);
  const form = el("form", {
    class: "stacked",
    onsubmit: async (e) => {
      e.preventDefault();
      const body = {
        members_can_invite: form.querySelector("#members_can_invite").checked,
        members_can_manage_clusters: form.querySelector("#members_can_manage_clusters").checked,
        members_can_open_ports: form.querySelector("#members_can_open_ports").checked,
        invitation_ttl_days: Number(ttl.value),
      };
      // If-Match: another admin's change since this page was read is not silently reverted (412).
      if (await attempt(save, box, () => state.api.put(orgPath(org.org_id, "/permissions"), body, org.settings_version))) {
        say("Permissions saved.");
        render();
      }
    },
  }, fields);

  const mayRename = can(org, "rename");
  const renameBox = alertBox();
  const name = el("input", { id: "org-name", required: true, maxlength: 64, value: org.name });
  const rename = el("button", { type: "submit" }, "Rename");
  const renameForm = el("form", {
    onsubmit: async (e) => {
      e.preventDefault();
      if (await attempt(rename, renameBox, () => state.api.patch(orgPath(org.org_id), { name: name.value }))) {
        say("Renamed.");
        render();
      }
    },
  }, guardedFields(mayRename, "Name",
    field("Organization name", name), rename));
  return el("section", {},
    heading(org, "Settings"),
    readOnly(mayChange, "change the permissions"),
    form, box, readOnly(mayRename, "rename the organization"), renameForm, renameBox);
}

// ---- cloud account ------------------------------------------------------------------------------

async function cloud(org) {
  const page = await state.api.get(orgPath(org.org_id, "/cloud-account"));
  const may = can(org, "configure_account");
  const account = page.account;
  const box = alertBox();
  const arn = el("input", { id: "role-arn", required: true, value: account?.role_arn || "", placeholder: "arn:aws:iam::123456789012:role/clusters", size: 50 });
  const region = el("input", { id: "region", required: true, value: account?.region || "us-east-1", size: 14 });
  const submit = el("button", { type: "submit" }, account ? "Change and verify" : "Connect and verify");
  const policy = JSON.stringify(page.trust_policy, null, 2);
  const copy = (text, what) => el("button", {
    type: "button",
    class: "secondary",
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(text);
        say(`${what} copied.`);
      } catch {
        say(`Select the ${what.toLowerCase()} and copy it.`);
      }
    },
  }, `Copy ${what.toLowerCase()}`);
  return el("section", {},
    heading(org, "Cloud account"),
    account
      ? el("dl", { class: "facts" },
        el("dt", {}, "AWS account"), el("dd", {}, account.account_id),
        el("dt", {}, "Role"), el("dd", {}, account.role_arn),
        el("dt", {}, "Region"), el("dd", {}, account.region),
        el("dt", {}, "Verified"), el("dd", {}, fmtTime(account.verified_at)))
      : el("p", {}, "No account connected yet: clusters cannot be created until one is."),
    el("h2", {}, "1. Create the role in your AWS account"),
    el("p", {}, "Give the role this trust policy; it lets the service assume it only with your organization's external id."),
    el("p", {}, "External id: ", el("code", { id: "external-id" }, page.external_id), " ", copy(page.external_id, "External id")),
    el("pre", { id: "trust-policy", tabindex: 0, "aria-label": "Trust policy" }, policy),
    copy(policy, "Trust policy"),
    el("h2", {}, "2. Connect it"),
    readOnly(may, "connect the account"),
    el("form", {
      onsubmit: async (e) => {
        e.preventDefault();
        const body = { provider: "aws", role_arn: arn.value.trim(), region: region.value.trim() };
        if (await attempt(submit, box, () => state.api.put(orgPath(org.org_id, "/cloud-account"), body))) {
          say("The account is connected and verified.");
          render();
        }
      },
    }, guardedFields(may, "Role", field("Role ARN", arn), field("Region", region), submit)),
    box);
}

// ---- clusters -----------------------------------------------------------------------------------

const SETTLED = new Set(["running", "stopped", "terminated", "error"]);

function clusterActions(org, c, box) {
  const act = (verb, done) => async (e) => {
    if (verb === "terminate" && !confirm(`Terminate ${c.name}? Its machines are deleted.`)) return;
    if (await attempt(e.target, box, () => state.api.post(orgPath(org.org_id, `/clusters/${c.cluster_id}/${verb}`)))) {
      say(`${c.name}: ${done}.`);
      render();
    }
  };
  const operate = can(org, "operate_clusters");
  const manage = can(org, "manage_clusters");
  const gone = c.state === "terminated" || c.state === "terminating";
  return [
    guarded(operate, "Start", act("start", "starting"), { disabled: c.state !== "stopped", "aria-label": `Start ${c.name}` }),
    guarded(operate, "Stop", act("stop", "stopping"), { disabled: c.state !== "running", "aria-label": `Stop ${c.name}` }),
    guarded(manage, "Terminate", act("terminate", "terminating"), { class: "danger", disabled: gone, "aria-label": `Terminate ${c.name}` }),
  ];
}

async function clusters(org) {
  const list = el("tbody", {});
  const fill = async () => {
    const items = await all(orgPath(org.org_id, "/clusters"), "clusters");
    list.replaceChildren(...items.map((c) => {
      const box = alertBox();
      return el("tr", { "data-cluster": c.name },
        el("td", {}, el("a", { href: `#/orgs/${org.org_id}/clusters/${c.cluster_id}` }, c.name)),
        el("td", { class: `state state-${c.state}` }, c.state, c.last_error ? ` (${c.last_error})` : ""),
        el("td", {}, `${c.instance_type} × ${1 + c.workers}`),
        el("td", {}, c.running ? fmtTime(c.running.since) : "—"),
        el("td", { class: "actions" }, clusterActions(org, c, box), box));
    }));
    if (!items.length) list.replaceChildren(el("tr", {}, el("td", { colspan: 5 }, "No clusters yet.")));
    return items;
  };
  await fill();
  // States change as the cloud answers: refresh while the page is shown.
  state.timer = setInterval(() => fill().catch((problem) => say(`Refreshing failed: ${problem.words || problem}`)), 3000);

  const may = can(org, "manage_clusters");
  const box = alertBox();
  const created = el("div", { role: "status" });
  const name = el("input", { id: "cluster-name", required: true, maxlength: 40 });
  const type = el("input", { id: "instance-type", required: true, value: "m5.large", size: 12 });
  const workers = el("input", { id: "workers", type: "number", min: 0, max: 100, value: 2, required: true });
  const users = el("select", { id: "user-management" },
    el("option", { value: "managed" }, "managed: an account for every member"),
    el("option", { value: "disabled" }, "disabled"));
  const submit = el("button", { type: "submit" }, "Create cluster");
  const form = el("form", {
    onsubmit: async (e) => {
      e.preventDefault();
      const spec = { name: name.value.trim(), instance_type: type.value.trim(), workers: Number(workers.value), user_management: users.value };
      const made = await attempt(submit, box, () => state.api.post(orgPath(org.org_id, "/clusters"), spec));
      if (made) {
        say(`${made.name} is being created.`);
        name.value = "";
        created.replaceChildren(el("p", {}, `The agent token of ${made.name}, shown this once: `, el("code", {}, made.agent_token)));
        await fill();
      }
    },
  }, guardedFields(may, "New cluster", field("Name", name), field("Instance type", type), field("Workers", workers), field("User management", users), submit));
  return el("section", {},
    heading(org, "Clusters"),
    dataTable("States refresh by themselves every few seconds.", ["Name", "State", "Machines", "Running since", "Actions"], list),
    readOnly(may, "create clusters"), form, box, created);
}

async function cluster(org, route) {
  const path = orgPath(org.org_id, `/clusters/${route.clusterId}`);
  const c = await state.api.get(path);
  // While the cloud carries out an intent, watch the cluster alone and redraw the page when its
  // state moves (not before: a redraw would clear what the person is typing).
  if (!SETTLED.has(c.state)) {
    state.timer = setInterval(async () => {
      const now = await state.api.get(path).catch((problem) => say(`Refreshing failed: ${problem.words || problem}`));
      if (now && now.state !== c.state) render();
    }, 3000);
  }
  const box = alertBox();
  const ports = can(org, "open_ports");
  const portBox = alertBox();
  const port = el("input", { id: "port", type: "number", min: 1, max: 65535, required: true });
  const openPort = el("button", { type: "submit" }, "Open port");
  const portRows = (c.open_ports || []).map((p) => el("li", {}, `${p} `, guarded(ports, "Close", async (e) => {
    if (await attempt(e.target, portBox, () => state.api.del(`${path}/ports/${p}`))) render();
  }, { "aria-label": `Close port ${p}` })));

  const usersAbility = can(org, "manage_cluster_users");
  let usersSection;
  if (!usersAbility.allowed) {
    usersSection = el("p", { class: "note" }, `Cluster users: ${usersAbility.reason}.`);
  } else if (c.user_management !== "managed") {
    usersSection = el("p", {}, "This cluster's users are not managed by the service.");
  } else {
    const receipt = await state.api.get(`${path}/users`);
    const tokenBox = alertBox();
    usersSection = el("div", {},
      dataTable("Every member's account on this cluster, and whether the cluster applied it.",
        ["Email", "Cluster role", "Account", "Applied", "Error"],
        receipt.users.map((u) => el("tr", {},
          el("td", {}, u.email), el("td", {}, u.role), el("td", {}, u.status),
          el("td", {}, u.delivery === "applied" ? fmtTime(u.applied_at) : u.delivery), el("td", {}, u.error || "")))),
      guarded(usersAbility, "Rotate agent token", async (e) => {
        if (!confirm("Rotate the agent token? The old one stops working at once.")) return;
        const rotated = await attempt(e.target, tokenBox, () => state.api.post(`${path}/agent-token`));
        if (rotated) tokenBox.replaceWith(el("p", { role: "status" }, "New agent token, shown this once: ", el("code", {}, rotated.agent_token)));
      }),
      tokenBox);
  }
  return el("section", {},
    heading(org, c.name),
    el("dl", { class: "facts" },
      el("dt", {}, "State"), el("dd", { class: `state state-${c.state}` }, c.state),
      el("dt", {}, "Machines"), el("dd", {}, `${c.instance_type} × ${1 + c.workers} in ${c.region} (account ${c.account_id})`),
      el("dt", {}, "Running since"), el("dd", {}, c.running ? fmtTime(c.running.since) : "—"),
      el("dt", {}, "Rate"), el("dd", {}, `${fmtNumber(c.credits_per_instance_hour, 2)} credits per machine-hour`),
      el("dt", {}, "Last error"), el("dd", {}, c.last_error || "none")),
    el("div", { class: "actions" }, clusterActions(org, c, box)), box,
    el("h2", {}, "Open ports"),
    portRows.length ? el("ul", {}, portRows) : el("p", {}, "No ports open."),
    readOnly(ports, "open or close ports"),
    portBox,
    el("form", {
      onsubmit: async (e) => {
        e.preventDefault();
        if (await attempt(openPort, portBox, () => state.api.put(`${path}/ports/${Number(port.value)}`))) render();
      },
    }, guardedFields(ports, "Open a port", field("Port", port), openPort)),
    el("h2", {}, "Cluster users"),
    usersSection,
    el("p", {}, el("a", { href: `#/orgs/${org.org_id}/clusters` }, "All clusters")));
}

// ---- usage --------------------------------------------------------------------------------------

async function usage(org) {
  const [report, people] = await Promise.all([
    state.api.get(orgPath(org.org_id, "/usage")),
    all(orgPath(org.org_id, "/members"), "members"),
  ]);
  const emails = new Map(people.map((m) => [m.user_id, m.email]));
  const names = new Map(report.clusters.map((c) => [c.id, c.name]));
  const box = alertBox();
  const download = el("button", {
    type: "button",
    onclick: async (e) => {
      const csv = await attempt(e.target, box, () => state.api.get(orgPath(org.org_id, "/usage"), "text/csv"));
      if (csv === undefined) return;
      const link = el("a", { href: URL.createObjectURL(new Blob([csv], { type: "text/csv" })), download: `usage-${org.org_id}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
    },
  }, "Download CSV");
  const amounts = (l) => [fmtNumber(l.hours, 1), fmtNumber(l.instance_hours, 1), fmtNumber(l.credits, 2)].map((n) => el("td", { class: "num" }, n));
  const table = (caption, lines, label) => dataTable(caption, [label, ["Hours", "num"], ["Machine-hours", "num"], ["Credits", "num"]],
    lines.map((l) => el("tr", { "data-line": l.kind === "cluster" ? l.name : l.id },
      el("td", {}, l.kind === "cluster" ? l.name : emails.get(l.id) || `former member ${l.id.slice(0, 8)}`), amounts(l))),
    el("tfoot", {}, el("tr", {}, el("th", { scope: "row" }, "Total"), amounts(report.total))));
  return el("section", {},
    heading(org, "Usage"),
    el("dl", { class: "facts" },
      el("dt", {}, "Balance"), el("dd", { id: "balance" }, `${fmtNumber(org.credits.balance, 2)} credits`),
      el("dt", {}, "Granted"), el("dd", {}, fmtNumber(org.credits.granted, 2)),
      el("dt", {}, "Consumed"), el("dd", {}, fmtNumber(org.credits.consumed, 2))),
    el("p", { class: "note" }, "Running clusters are charged to the balance every few minutes; the report below counts up to now."),
    el("p", {}, `From ${fmtTime(report.window.from)} to ${fmtTime(report.window.to)}.`),
    el("h2", {}, "Credits per day"),
    usageChart(report.daily, names),
    table("Per cluster", report.clusters, "Cluster"),
    table("Per member (who started the cluster)", report.members, "Member"),
    download, box);
}

// ---- audit log ----------------------------------------------------------------------------------

async function audit(org) {
  const may = can(org, "read_events");
  if (!may.allowed) return el("section", {}, heading(org, "Audit log"), el("p", { class: "note" }, `You cannot read the audit log: ${may.reason}.`));
  const body = el("tbody", {});
  const box = alertBox();
  const more = el("button", { type: "button", hidden: true }, "Older events");
  let cursor = null;
  const who = (a) => a.email || `the service (${a.service})`;
  const load = async () => {
    const page = await attempt(more, box, () => state.api.get(orgPath(org.org_id, `/events?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)));
    if (!page) return;
    body.append(...page.events.map((ev) => el("tr", {},
      el("td", {}, fmtTime(ev.at)), el("td", {}, who(ev.actor)), el("td", {}, ev.action.replaceAll("_", " ")),
      el("td", {}, ev.subject?.email || ""), el("td", { class: "details" }, Object.keys(ev.details || {}).length ? JSON.stringify(ev.details) : ""))));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  };
  more.addEventListener("click", load);
  await load();
  return el("section", {},
    heading(org, "Audit log"),
    dataTable("Newest first.", ["When", "Who", "What", "About", "Details"], body),
    more, box);
}

// ---- start --------------------------------------------------------------------------------------

async function start() {
  // Invitation emails link to /invitations/{id}; the app routes by the hash.
  const link = location.pathname.match(/^\/invitations\/([^/]+)\/?$/);
  if (link) history.replaceState(null, "", `/${location.search}#/invitations/${encodeURIComponent(link[1])}`);
  state.config = await (await fetch("/config.json")).json();
  state.api = client({ baseUrl: state.config.api_url, token: () => sessionStorage.getItem("token") });
  if (state.config.auth?.mode === "cognito") await finishHostedUi(state.config.auth);
  switcher.addEventListener("change", () => {
    const route = parseRoute();
    location.hash = switcher.value ? `#/orgs/${switcher.value}/${route.orgId ? route.page : "members"}` : "#/";
  });
  signOut.addEventListener("click", () => {
    sessionStorage.removeItem("token");
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
