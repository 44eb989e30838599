// Usage: balance, credits per day, hours and credits per cluster and member, CSV.
import { el, field, dataTable, fmtTime, fmtNumber, usageChart } from "../ui.js";
import { state, say, alertBox, can, guarded, guardedFields, readOnly, attempt, orgPath, all, heading, every, render } from "../page.js";

export async function usage(org) {
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
      const { ok: csvOk, value: csv } = await attempt(e.target, box, () => state.api.get(orgPath(org.org_id, "/usage"), "text/csv"));
      if (!csvOk) return;
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
