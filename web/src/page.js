// What every page shares: the session's state, the status line, controls that follow the
// organization's abilities, `attempt`, paths, the timers a page owns, and the way back to the
// shell's `render`.
import { el } from "./ui.js";

export const state = { config: null, api: null, me: null, said: 0 };
const status = document.getElementById("status");

/** A short message about what just happened; it goes away on a later page once a few seconds old. */
export const say = (words) => {
  status.textContent = words;
  state.said = Date.now();
};
export const alertBox = () => el("p", { class: "error", role: "alert" });

/** May the caller do `action` in `org`? `{ allowed, reason }`, from the organization view. */
export function can(org, action) {
  return org.abilities.find((a) => a.action === action) || { allowed: false, reason: "unknown action" };
}

/**
 * A button that follows an ability. When not allowed it looks disabled and gives the reason on
 * hover, yet stays focusable: pressing it says the reason in the status line, so that keyboard
 * and screen-reader users learn it too.
 */
export function guarded(ability, label, onclick, attrs = {}) {
  if (!ability.allowed) {
    return el("button", {
      type: "button",
      ...attrs,
      class: `${attrs.class || ""} unavailable`.trim(),
      "aria-disabled": "true",
      title: ability.reason,
      onclick: () => say(`${label}: not allowed, ${ability.reason}.`),
    }, label);
  }
  return el("button", { type: "button", ...attrs, disabled: attrs.disabled, onclick }, label);
}

/** A form's fields, disabled with the reason on hover when the ability is not granted. */
export function guardedFields(ability, legend, ...children) {
  return el("fieldset", { disabled: !ability.allowed, title: ability.allowed ? false : ability.reason },
    el("legend", {}, legend), ...children);
}

/** The reason a whole form is read-only, as text beside it. */
export function readOnly(ability, what) {
  return ability.allowed ? "" : el("p", { class: "note" }, `You cannot ${what}: ${ability.reason}.`);
}

/**
 * Runs one request for a control: disables it while in flight, shows the API's words in `box`
 * when it fails. Returns `{ ok: true, value }` (the answer, `null` for a 204) or `{ ok: false }`.
 */
export async function attempt(control, box, request) {
  box.textContent = "";
  control.disabled = true;
  try {
    return { ok: true, value: await request() };
  } catch (problem) {
    box.textContent = problem.words || String(problem);
    return { ok: false };
  } finally {
    control.disabled = false;
  }
}

export function orgPath(orgId, rest = "") {
  return `/v1/organizations/${encodeURIComponent(orgId)}${rest}`;
}

/** Every page of a paged list (the dashboard's lists are small; at most `max` pages). */
export async function all(path, key, max = 20) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < max; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await state.api.get(`${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page[key]);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

export function heading(org, title) {
  return el("h1", {}, title, el("span", { class: "org-name" }, ` · ${org.name}`));
}

// ---- the page's own timers ----------------------------------------------------------------------

const timers = new Set();

/** Runs `work` every `ms` while the page that asked is shown; leaving the page stops it. */
export function every(ms, work) {
  timers.add(setInterval(work, ms));
}

/** Stops the timers of the page being left. */
export function leave() {
  for (const id of timers) clearInterval(id);
  timers.clear();
}

// ---- drawing the page again ---------------------------------------------------------------------

let redraw = async () => {};

/** The shell tells the pages how to draw the current page again. */
export function onRender(draw) {
  redraw = draw;
}

export function render() {
  return redraw();
}
