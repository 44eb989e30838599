// Members: roles, removal, ownership, leaving, invitations and their delivery.
import { el, field, dataTable, fmtTime, fmtNumber, usageChart } from "../ui.js";
import { state, say, alertBox, can, guarded, guardedFields, readOnly, attempt, orgPath, all, heading, every, render } from "../page.js";

export async function members(org) {
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
        if ((await attempt(e.target, box, () => state.api.del(orgPath(org.org_id, `/members/${m.user_id}`)))).ok) {
          say(`You left ${org.name}.`);
          location.hash = "#/";
        }
      }, { class: "danger" }));
    }
    if (!self && m.role !== "owner") {
      const role = el("select", { "aria-label": `Role of ${m.email}`, disabled: !can(org, "change_role").allowed },
        ["member", "admin"].map((r) => el("option", { value: r, selected: r === m.role }, r)));
      actions.push(role, guarded(can(org, "change_role"), "Change role", async (e) => {
        if ((await attempt(e.target, box, () => state.api.patch(orgPath(org.org_id, `/members/${m.user_id}`), { role: role.value }))).ok) {
          say(`${m.email} is now ${role.value}.`);
          render();
        }
      }, { "aria-label": `Change the role of ${m.email}` }));
      actions.push(guarded(can(org, "transfer_ownership"), "Make owner", async (e) => {
        if (!confirm(`Make ${m.email} the owner of ${org.name}? You become an admin.`)) return;
        if ((await attempt(e.target, box, () => state.api.post(orgPath(org.org_id, "/ownership"), { user_id: m.user_id }))).ok) {
          say(`${m.email} now owns ${org.name}.`);
          render();
        }
      }, { "aria-label": `Make ${m.email} the owner` }));
      actions.push(guarded(can(org, "remove_member"), "Remove", async (e) => {
        if (!confirm(`Remove ${m.email} from ${org.name}? Their access ends at once.`)) return;
        if ((await attempt(e.target, box, () => state.api.del(orgPath(org.org_id, `/members/${m.user_id}`)))).ok) {
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
          if ((await attempt(e.target, box, () => state.api.post(orgPath(org.org_id, `/invitations/${inv.invitation_id}/resend`)))).ok) {
            say(`The invitation to ${inv.email} was sent again.`);
            render();
          }
        }, { "aria-label": `Resend the invitation to ${inv.email}` }),
        guarded(revoke, "Revoke", async (e) => {
          if ((await attempt(e.target, box, () => state.api.del(orgPath(org.org_id, `/invitations/${inv.invitation_id}`)))).ok) {
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
      if (sent.ok) {
        say(`Invitation sent to ${sent.value.email}.`);
        render();
      }
    },
  }, field("Email", email), field("Role", role), submit), box);
}
