// Clusters: the organization's clusters, their actions, a new cluster.
import { el, field, dataTable, fmtTime, fmtNumber, usageChart } from "../ui.js";
import { state, say, alertBox, can, guarded, guardedFields, readOnly, attempt, orgPath, all, heading, every, render } from "../page.js";

export const SETTLED = new Set(["running", "stopped", "terminated", "error"]);

export function clusterActions(org, c, box) {
  const act = (verb, done) => async (e) => {
    if (verb === "terminate" && !confirm(`Terminate ${c.name}? Its machines are deleted.`)) return;
    if ((await attempt(e.target, box, () => state.api.post(orgPath(org.org_id, `/clusters/${c.cluster_id}/${verb}`)))).ok) {
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

export async function clusters(org) {
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
  every(3000, () => fill().catch((problem) => say(`Refreshing failed: ${problem.words || problem}`)));

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
      const { ok: madeOk, value: made } = await attempt(submit, box, () => state.api.post(orgPath(org.org_id, "/clusters"), spec));
      if (madeOk) {
        say(`${made.name} is being created.`);
        name.value = "";
        created.replaceChildren(el("p", {}, `${made.name} is starting; its nodes enroll themselves.`));
        await fill();
      }
    },
  }, guardedFields(may, "New cluster", field("Name", name), field("Instance type", type), field("Workers", workers), field("User management", users), submit));
  return el("section", {},
    heading(org, "Clusters"),
    dataTable("States refresh by themselves every few seconds.", ["Name", "State", "Machines", "Running since", "Actions"], list),
    readOnly(may, "create clusters"), form, box, created);
}
