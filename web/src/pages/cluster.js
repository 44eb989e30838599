// One cluster: its state, ports, users and agent token.
import { el, field, dataTable, fmtTime, fmtNumber, usageChart } from "../ui.js";
import { state, say, alertBox, can, guarded, guardedFields, readOnly, attempt, orgPath, all, heading, every, render } from "../page.js";
import { SETTLED, clusterActions } from "./clusters.js";

export async function cluster(org, route) {
  const path = orgPath(org.org_id, `/clusters/${route.clusterId}`);
  const c = await state.api.get(path);
  // While the cloud carries out an intent, watch the cluster alone and redraw the page when its
  // state moves (not before: a redraw would clear what the person is typing).
  if (!SETTLED.has(c.state)) {
    every(3000, async () => {
      const now = await state.api.get(path).catch((problem) => say(`Refreshing failed: ${problem.words || problem}`));
      if (now && now.state !== c.state) render();
    });
  }
  const box = alertBox();
  const ports = can(org, "open_ports");
  const portBox = alertBox();
  const port = el("input", { id: "port", type: "number", min: 1, max: 65535, required: true });
  const openPort = el("button", { type: "submit" }, "Open port");
  const portRows = (c.open_ports || []).map((p) => el("li", {}, `${p} `, guarded(ports, "Close", async (e) => {
    if ((await attempt(e.target, portBox, () => state.api.del(`${path}/ports/${p}`))).ok) render();
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
        ["Email", "Login (uid)", "Cluster role", "Account", "Applied", "Error"],
        receipt.users.map((u) => el("tr", {},
          el("td", {}, u.email), el("td", {}, u.linux ? `${u.linux.login} (${u.linux.uid})` : "—"), el("td", {}, u.role), el("td", {}, u.status),
          el("td", {}, u.delivery === "applied" ? fmtTime(u.applied_at) : u.delivery), el("td", {}, u.error || "")))),
      guarded(usersAbility, "Rotate agent token", async (e) => {
        if (!confirm("Rotate the agent token? The old one stops working at once.")) return;
        const rotated = await attempt(e.target, tokenBox, () => state.api.post(`${path}/agent-token`));
        if (rotated.ok) tokenBox.replaceWith(el("p", { role: "status" }, "New agent token, shown this once: ", el("code", {}, rotated.value.agent_token)));
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
        if ((await attempt(openPort, portBox, () => state.api.put(`${path}/ports/${Number(port.value)}`))).ok) render();
      },
    }, guardedFields(ports, "Open a port", field("Port", port), openPort)),
    el("h2", {}, "Cluster users"),
    usersSection,
    el("p", {}, el("a", { href: `#/orgs/${org.org_id}/clusters` }, "All clusters")));
}
