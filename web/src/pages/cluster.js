// One cluster: its state, ports, users, how to connect, and its nodes' credentials.
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
  // Owners and admins see every account; anyone else learns their login from the node itself.
  let mine = null;
  let usersSection;
  if (!usersAbility.allowed) {
    usersSection = el("p", { class: "note" }, `Cluster users: ${usersAbility.reason}.`);
  } else if (c.user_management !== "managed") {
    usersSection = el("p", {}, "This cluster's users are not managed by the service.");
  } else {
    const receipt = await state.api.get(`${path}/users`);
    mine = receipt.users.find((u) => u.user_id === state.me.user.user_id && u.linux) || null;
    const tokenBox = alertBox();
    usersSection = el("div", {},
      dataTable("Every member's account on this cluster, and whether the cluster applied it.",
        ["Email", "Login (uid)", "Cluster role", "Account", "Applied", "Error"],
        receipt.users.map((u) => el("tr", {},
          el("td", {}, u.email), el("td", {}, u.linux ? `${u.linux.login} (${u.linux.uid})` : "—"), el("td", {}, u.role), el("td", {}, u.status),
          el("td", {}, u.delivery === "applied" ? fmtTime(u.applied_at) : u.delivery), el("td", {}, u.error || "")))),
      el("p", { class: "note" }, "Each node enrolls itself with the identity AWS signs for its instance; no one holds a credential for this cluster."),
      guarded(usersAbility, "Revoke node credentials", async (e) => {
        if (!confirm("Revoke every node's credential? They stop working at once, and each node enrolls again.")) return;
        const revoked = await attempt(e.target, tokenBox, () => state.api.del(`${path}/nodes`));
        if (revoked.ok) tokenBox.replaceWith(el("p", { role: "status" }, `Revoked the credentials of ${revoked.value.revoked} node(s); they enroll again.`));
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
    ...(c.user_management === "managed" ? howToConnect(c, mine) : []),
    el("p", {}, el("a", { href: `#/orgs/${org.org_id}/clusters` }, "All clusters")));
}

// How a member reaches the cluster: their own account, with the keys on their Keys page.
function howToConnect(c, mine) {
  const login = mine ? mine.linux.login : "your-login";
  const head = c.instances && c.instances.length ? c.instances[0] : "its head node";
  return [
    el("h2", {}, "How to connect"),
    el("p", {}, "Every member has an account on this cluster's nodes, reached with the SSH keys on ", el("a", { href: "#/keys" }, "your Keys page"), ":"),
    el("pre", {}, el("code", {}, `ssh ${login}@<public address of ${head}>`)),
    el("p", { class: "note" }, mine
      ? `Your login here is ${mine.linux.login} (uid ${mine.linux.uid}), the same on every node.`
      : "Your login is derived from your email address and is the same on every node."),
  ];
}
