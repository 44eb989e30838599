// Automation: the organization's service accounts and their API keys. A key is shown once, when
// it is made, with a button that copies it; after that only its id, scopes, expiry and last use.
import { el, field, dataTable, fmtTime } from "../ui.js";
import { state, say, alertBox, can, attempt, orgPath, heading, render } from "../page.js";

// The key made by the last request, shown by the render that follows it and then forgotten.
let justMade = null;

export async function automation(org) {
  const once = justMade;
  justMade = null;
  const may = can(org, "manage_service_accounts");
  if (!may.allowed) {
    return el("section", {}, heading(org, "Automation"),
      el("p", { class: "note" }, `You cannot manage service accounts: ${may.reason}.`));
  }
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
    box);
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
