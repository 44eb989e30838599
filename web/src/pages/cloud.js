// Cloud account: the trust policy to set up, the role and region to connect.
import { el, field, dataTable, fmtTime, fmtNumber, usageChart } from "../ui.js";
import { state, say, alertBox, can, guarded, guardedFields, readOnly, attempt, orgPath, all, heading, every, render } from "../page.js";

export async function cloud(org) {
  const page = await state.api.get(orgPath(org.org_id, "/cloud-account"));
  const may = can(org, "configure_account");
  const account = page.account;
  const box = alertBox();
  const arn = el("input", { id: "role-arn", required: true, value: account?.role_arn || "", placeholder: "arn:aws:iam::123456789012:role/clusters", size: 50 });
  const region = el("input", { id: "region", required: true, value: account?.region || "us-east-1", size: 14 });
  const submit = el("button", { type: "submit" }, account ? "Change and verify" : "Connect and verify");
  const policy = JSON.stringify(page.trust_policy, null, 2);
  const copy = (text, what) => el("button", {
    type: "button",
    class: "secondary",
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(text);
        say(`${what} copied.`);
      } catch {
        say(`Select the ${what.toLowerCase()} and copy it.`);
      }
    },
  }, `Copy ${what.toLowerCase()}`);
  return el("section", {},
    heading(org, "Cloud account"),
    account
      ? el("dl", { class: "facts" },
        el("dt", {}, "AWS account"), el("dd", {}, account.account_id),
        el("dt", {}, "Role"), el("dd", {}, account.role_arn),
        el("dt", {}, "Region"), el("dd", {}, account.region),
        el("dt", {}, "Verified"), el("dd", {}, fmtTime(account.verified_at)))
      : el("p", {}, "No account connected yet: clusters cannot be created until one is."),
    el("h2", {}, "1. Create the role in your AWS account"),
    el("p", {}, "Give the role this trust policy; it lets the service assume it only with your organization's external id."),
    el("p", {}, "External id: ", el("code", { id: "external-id" }, page.external_id), " ", copy(page.external_id, "External id")),
    el("pre", { id: "trust-policy", tabindex: 0, "aria-label": "Trust policy" }, policy),
    copy(policy, "Trust policy"),
    el("h2", {}, "2. Connect it"),
    readOnly(may, "connect the account"),
    el("form", {
      onsubmit: async (e) => {
        e.preventDefault();
        const body = { provider: "aws", role_arn: arn.value.trim(), region: region.value.trim() };
        if ((await attempt(submit, box, () => state.api.put(orgPath(org.org_id, "/cloud-account"), body))).ok) {
          say("The account is connected and verified.");
          render();
        }
      },
    }, guardedFields(may, "Role", field("Role ARN", arn), field("Region", region), submit)),
    box);
}
