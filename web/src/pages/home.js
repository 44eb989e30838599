// The home page: your organizations, open invitations, a new organization.
import { el, field, dataTable, fmtTime, fmtNumber, usageChart } from "../ui.js";
import { state, say, alertBox, can, guarded, guardedFields, readOnly, attempt, orgPath, all, heading, every, render } from "../page.js";

export function home(route) {
  const me = state.me;
  const linked = route.invitationId;
  const open = me.invitations.some((inv) => inv.invitation_id === linked);
  const orgs = me.organizations.map((o) => el("li", {},
    el("a", { href: `#/orgs/${o.org_id}/members` }, o.name), " ", el("span", { class: "badge" }, o.role)));
  const invitations = me.invitations.map((inv) => {
    const box = alertBox();
    const respond = (verb) => async (e) => {
      const done = await attempt(e.target, box, () => state.api.post(`/v1/invitations/${inv.invitation_id}/${verb}`));
      if (!done.ok) return;
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
      if (created.ok) location.hash = `#/orgs/${created.value.org_id}/members`;
    },
  }, field("Name", name), create);
  return el("section", {},
    el("h1", {}, "Your organizations"),
    el("p", {}, `Signed in as ${me.user.email}. `, el("a", { href: "#/keys" }, "Your SSH keys"), " reach your account on every managed cluster."),
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
