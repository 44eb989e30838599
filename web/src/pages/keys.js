// Your SSH keys: what your account on every managed cluster of your organizations accepts.
import { el, field, dataTable, fmtTime } from "../ui.js";
import { state, say, alertBox, attempt, render } from "../page.js";

export async function keys() {
  const list = await state.api.get("/v1/me/ssh-keys");
  const box = alertBox();
  const rows = list.keys.map((k) => {
    const remove = el("button", {
      type: "button",
      class: "secondary",
      "aria-label": `Remove the key ${k.fingerprint}`,
      onclick: async () => {
        const removed = await attempt(remove, box, () => state.api.del(`/v1/me/ssh-keys/${encodeURIComponent(k.key_id)}`));
        if (!removed.ok) return;
        say(`Key ${k.fingerprint} removed: it leaves your cluster accounts within a minute.`);
        render();
      },
    }, "Remove");
    return el("tr", {},
      el("td", {}, el("code", {}, k.fingerprint)), el("td", {}, `${k.algorithm} (${k.bits} bits)`),
      el("td", {}, k.comment), el("td", {}, fmtTime(k.added_at)), el("td", {}, remove));
  });
  const key = el("textarea", { id: "new-ssh-key", required: true, rows: 3, placeholder: "ssh-ed25519 AAAA... you@laptop" });
  const add = el("button", { type: "submit" }, "Add key");
  const full = list.keys.length >= list.max_keys;
  const form = el("form", {
    onsubmit: async (e) => {
      e.preventDefault();
      const added = await attempt(add, box, () => state.api.post("/v1/me/ssh-keys", { public_key: key.value }));
      if (!added.ok) return;
      say(`Key ${added.value.fingerprint} added: it reaches your cluster accounts within a minute.`);
      render();
    },
  }, field("Public key (the contents of a .pub file)", key), add);
  return el("section", {},
    el("h1", {}, "Your SSH keys"),
    el("p", {}, "Your account on every managed cluster of your organizations accepts these keys. Ed25519, ECDSA, or RSA of at least 3072 bits; at most ", String(list.max_keys), "."),
    rows.length
      ? dataTable("Newest last.", ["Fingerprint", "Type", "Comment", "Added", ""], el("tbody", {}, rows))
      : el("p", {}, "No keys yet."),
    el("h2", {}, "Add a key"),
    full ? el("p", { class: "note" }, `You have ${list.max_keys} keys: remove one to add another.`) : form,
    box,
    el("p", {}, el("a", { href: "#/" }, "Back to your organizations")));
}
