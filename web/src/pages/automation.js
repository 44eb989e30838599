// Automation: the organization's service accounts and their API keys, and its webhook endpoints.
// A key or an endpoint's secret is shown once, when it is made, with a button that copies it;
// after that only its id, scopes, expiry and last use (an endpoint: its URL, events, deliveries).
import { el, field, dataTable, fmtTime } from "../ui.js";
import { state, say, alertBox, can, attempt, orgPath, heading, render } from "../page.js";

// The key made by the last request, shown by the render that follows it and then forgotten.
let justMade = null;
// The endpoint secret made (or rotated) by the last request, likewise.
let justSigned = null;

export async function automation(org) {
  const once = justMade;
  justMade = null;
  const may = can(org, "manage_service_accounts");
  if (!may.allowed) {
    return el("section", {}, heading(org, "Automation"),
      el("p", { class: "note" }, `You cannot manage service accounts: ${may.reason}.`));
  }
  const hooks = await webhooks(org);
  const list = await state.api.get(orgPath(org.org_id, "/service-accounts"));
  const box = alertBox();
  const shown = el("div", { id: "new-key", "aria-live": "polite" });
  if (once) showOnce(shown, once.name, once.made);
  const accounts = list.service_accounts.map((account) => accountView(org, list, account, box));

  const name = el("input", { id: "account-name", required: true, maxlength: 64, placeholder: "nightly-ci" });
  const description = el("input", { id: "account-description", maxlength: 280 });
  const create = el("button", { type: "submit" }, "Create service account");
  const full = list.service_accounts.length >= list.max_service_accounts;
  const form = el("form", {
    onsubmit: async (e) => {
      e.preventDefault();
      const made = await attempt(create, box, () => state.api.post(orgPath(org.org_id, "/service-accounts"),
        { name: name.value, description: description.value }));
      if (!made.ok) return;
      say(`Service account ${made.value.name} created: make it a key.`);
      render();
    },
  }, field("Name", name), field("What it is for (optional)", description), create);

  return el("section", {},
    heading(org, "Automation"),
    el("p", {}, "Service accounts belong to the organization, not to whoever made them: their keys keep working when that person leaves. A key does only what its scopes allow, and never manages members, roles, settings or keys."),
    shown,
    ...(accounts.length ? accounts : [el("p", {}, "No service accounts yet.")]),
    el("h2", {}, "New service account"),
    full ? el("p", { class: "note" }, `This organization has ${list.max_service_accounts} service accounts: delete one to make another.`) : form,
    box,
    hooks);
}

/** The webhook endpoints: each with its events and newest deliveries; a form to add one. */
async function webhooks(org) {
  const signed = justSigned;
  justSigned = null;
  if (!can(org, "manage_webhooks").allowed) return "";
  const list = await state.api.get(orgPath(org.org_id, "/webhooks"));
  const box = alertBox();
  const shown = el("div", { id: "new-secret", "aria-live": "polite" });
  if (signed) showSecret(shown, signed);
  const endpoints = await Promise.all(list.webhooks.map((hook) => endpointView(org, hook, box)));

  const url = el("input", { id: "webhook-url", type: "url", required: true, maxlength: 2048, placeholder: "https://hooks.example.com/orgs" });
  const events = list.event_types.map((type) => {
    const check = el("input", { type: "checkbox", id: `event-${type}`, value: type, checked: type.startsWith("member.") });
    return el("label", { for: check.id, class: "check" }, check, ` ${type}`);
  });
  const add = el("button", { type: "submit" }, "Add endpoint");
  const form = el("form", {
    onsubmit: async (e) => {
      e.preventDefault();
      const chosen = events.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
      const made = await attempt(add, box, () => state.api.post(orgPath(org.org_id, "/webhooks"), { url: url.value, events: chosen }));
      if (!made.ok) return;
      justSigned = made.value;
      render();
    },
  }, field("URL (https)", url), el("fieldset", {}, el("legend", {}, "Events"), ...events), add);

  return el("section", { "aria-labelledby": "webhooks-heading" },
    el("h2", { id: "webhooks-heading" }, "Webhooks"),
    el("p", {}, "Endpoints hear about members and clusters as they change: signed with the endpoint's secret, in order, retried for 24 hours. Only public https addresses are delivered to."),
    shown,
    ...(endpoints.length ? endpoints : [el("p", {}, "No webhook endpoints yet.")]),
    list.webhooks.length >= list.max_webhooks
      ? el("p", { class: "note" }, `${list.max_webhooks} endpoints: delete one to add another.`)
      : form,
    box);
}

async function endpointView(org, hook, box) {
  const base = orgPath(org.org_id, `/webhooks/${encodeURIComponent(hook.webhook_id)}`);
  const log = await state.api.get(`${base}/deliveries`);
  const rows = log.deliveries.slice(0, 10).map((d) => {
    const again = el("button", {
      type: "button",
      class: "secondary",
      "aria-label": `Redeliver the ${d.event_type} event of ${fmtTime(d.created_at)}`,
      onclick: async () => {
        const asked = await attempt(again, box, () => state.api.post(`${base}/deliveries/${encodeURIComponent(d.delivery_id)}/redeliver`, {}));
        if (!asked.ok) return;
        say(`The ${d.event_type} event goes out again within a minute.`);
        render();
      },
    }, "Redeliver");
    const outcome = d.last_status_code ? `HTTP ${d.last_status_code}` : (d.last_error || "");
    return el("tr", {},
      el("td", {}, d.event_type), el("td", {}, fmtTime(d.created_at)), el("td", {}, d.status),
      el("td", {}, String(d.attempts)), el("td", {}, outcome), el("td", {}, again));
  });
  const rotate = el("button", {
    type: "button",
    class: "secondary",
    "aria-label": `Rotate secret of ${hook.url}`,
    onclick: async () => {
      if (!confirm(`Give ${hook.url} a new secret? Deliveries are signed with it from now on.`)) return;
      const rotated = await attempt(rotate, box, () => state.api.post(`${base}/secret`, {}));
      if (!rotated.ok) return;
      justSigned = rotated.value;
      render();
    },
  }, "Rotate secret");
  const remove = el("button", {
    type: "button",
    class: "secondary",
    "aria-label": `Delete the endpoint ${hook.url}`,
    onclick: async () => {
      if (!confirm(`Delete the endpoint ${hook.url}? Nothing more is delivered to it.`)) return;
      const deleted = await attempt(remove, box, () => state.api.del(base));
      if (!deleted.ok) return;
      say(`Endpoint ${hook.url} deleted.`);
      render();
    },
  }, "Delete");
  return el("article", { class: "account" },
    el("h3", {}, hook.url),
    el("p", {}, `Events: ${hook.events.join(", ")}`),
    rows.length
      ? dataTable(`Deliveries to ${hook.url}`, ["Event", "At", "Status", "Attempts", "Last answer", ""], el("tbody", {}, rows))
      : el("p", {}, "No deliveries yet."),
    rotate, " ", remove);
}

/** An endpoint's secret, just made or rotated, shown this once, with a button that copies it. */
function showSecret(shown, hook) {
  const copy = el("button", {
    type: "button",
    onclick: async () => {
      await navigator.clipboard?.writeText(hook.secret).catch(() => {});
      copy.textContent = "Copied";
    },
  }, "Copy secret");
  shown.replaceChildren(el("div", { class: "once", role: "status" },
    el("p", {}, `The signing secret of ${hook.url}. Copy it now: it is shown this once and cannot be shown again.`),
    el("code", { id: "webhook-secret" }, hook.secret), " ", copy));
}

function accountView(org, list, account, box) {
  const base = orgPath(org.org_id, `/service-accounts/${encodeURIComponent(account.service_account_id)}`);
  const rows = account.keys.map((k) => {
    const revoke = el("button", {
      type: "button",
      class: "secondary",
      "aria-label": `Revoke the key ${k.key_id}`,
      onclick: async () => {
        const revoked = await attempt(revoke, box, () => state.api.del(`${base}/keys/${encodeURIComponent(k.key_id)}`));
        if (!revoked.ok) return;
        say(`Key ${k.key_id} revoked: it stopped working at once.`);
        render();
      },
    }, "Revoke");
    return el("tr", {},
      el("td", {}, el("code", {}, k.key_id)), el("td", {}, k.scopes.join(", ")),
      el("td", {}, `${fmtTime(k.expires_at)}${k.expired ? " (expired)" : ""}`),
      el("td", {}, k.last_used_at ? fmtTime(k.last_used_at) : "never"), el("td", {}, revoke));
  });
  const id = account.service_account_id;
  const scopes = list.scopes.map((scope) => {
    const box = el("input", { type: "checkbox", id: `scope-${id}-${scope}`, value: scope, checked: scope === "read" });
    return el("label", { for: box.id, class: "check" }, box, ` ${scope.replaceAll("_", " ")}`);
  });
  const days = el("input", { id: `days-${id}`, type: "number", min: 1, max: org.settings?.api_key_max_days || 90, value: 30, required: true });
  const make = el("button", { type: "submit" }, "Create key");
  const keyForm = el("form", {
    onsubmit: async (e) => {
      e.preventDefault();
      const chosen = scopes.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
      const made = await attempt(make, box, () => state.api.post(`${base}/keys`, { scopes: chosen, expires_in_days: Number(days.value) }));
      if (!made.ok) return;
      justMade = { name: account.name, made: made.value };
      render();
    },
  },
  el("fieldset", {}, el("legend", {}, "Scopes"), ...scopes),
  field("Lasts (days)", days), make);
  const remove = el("button", {
    type: "button",
    class: "secondary",
    "aria-label": `Delete the service account ${account.name}`,
    onclick: async () => {
      if (!confirm(`Delete ${account.name} and every key it holds?`)) return;
      const deleted = await attempt(remove, box, () => state.api.del(base));
      if (!deleted.ok) return;
      say(`Service account ${account.name} deleted: its keys stopped working.`);
      render();
    },
  }, "Delete");
  return el("article", { class: "account" },
    el("h2", {}, account.name),
    account.description ? el("p", {}, account.description) : "",
    rows.length
      ? dataTable(`Keys of ${account.name}`, ["Key id", "Scopes", "Expires", "Last used", ""], el("tbody", {}, rows))
      : el("p", {}, "No keys."),
    account.keys.length >= list.max_keys
      ? el("p", { class: "note" }, `${list.max_keys} keys: revoke one to make another.`)
      : keyForm,
    remove);
}

/** The key just made, shown this once, with a button that copies it. */
function showOnce(shown, name, made) {
  const copy = el("button", {
    type: "button",
    onclick: async () => {
      await navigator.clipboard?.writeText(made.key).catch(() => {});
      copy.textContent = "Copied";
    },
  }, "Copy");
  shown.replaceChildren(el("div", { class: "once", role: "status" },
    el("p", {}, `The new key of ${name}. Copy it now: it is shown this once and cannot be shown again.`),
    el("code", { id: "api-key" }, made.key), " ", copy));
}
