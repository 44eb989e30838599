// The audit log, newest first, a page at a time.
import { el, field, dataTable, fmtTime, fmtNumber, usageChart } from "../ui.js";
import { state, say, alertBox, can, guarded, guardedFields, readOnly, attempt, orgPath, all, heading, every, render } from "../page.js";

export async function audit(org) {
  const may = can(org, "read_events");
  if (!may.allowed) return el("section", {}, heading(org, "Audit log"), el("p", { class: "note" }, `You cannot read the audit log: ${may.reason}.`));
  const body = el("tbody", {});
  const box = alertBox();
  const more = el("button", { type: "button", hidden: true }, "Older events");
  let cursor = null;
  const who = (a) => a.email || (a.service_account ? `${a.service_account} (key ${a.key_id})` : `the service (${a.service})`);
  const load = async () => {
    const { ok: loaded, value: page } = await attempt(more, box, () => state.api.get(orgPath(org.org_id, `/events?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)));
    if (!loaded) return;
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
