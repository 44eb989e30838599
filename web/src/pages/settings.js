// Settings: permissions, invitation and API key lifetimes, the name.
import { el, field, dataTable, fmtTime, fmtNumber, usageChart } from "../ui.js";
import { state, say, alertBox, can, guarded, guardedFields, readOnly, attempt, orgPath, all, heading, every, render } from "../page.js";

export function settings(org) {
  const s = org.settings;
  const mayChange = can(org, "update_settings");
  const box = alertBox();
  const check = (id, label, value) => el("label", { class: "check" }, el("input", { id, type: "checkbox", checked: value }), label);
  const ttl = el("input", { id: "ttl", type: "number", min: 1, max: 30, required: true, value: s.invitation_ttl_days });
  const keyDays = el("input", { id: "api-key-max-days", type: "number", min: 1, max: 366, required: true, value: s.api_key_max_days ?? 90 });
  const save = el("button", { type: "submit" }, "Save permissions");
  const fields = guardedFields(mayChange, "Permissions",
    check("members_can_invite", "Members can invite others", s.members_can_invite),
    check("members_can_manage_clusters", "Members can create and terminate clusters", s.members_can_manage_clusters),
    check("members_can_open_ports", "Members can open cluster ports", s.members_can_open_ports),
    field("Invitation lifetime (days)", ttl),
    field("Longest API key lifetime (days)", keyDays),
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
        api_key_max_days: Number(keyDays.value),
      };
      // If-Match: another admin's change since this page was read is not silently reverted (412).
      if ((await attempt(save, box, () => state.api.put(orgPath(org.org_id, "/permissions"), body, org.settings_version))).ok) {
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
      if ((await attempt(rename, renameBox, () => state.api.patch(orgPath(org.org_id), { name: name.value }))).ok) {
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
