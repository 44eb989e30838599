// The dashboard in Debian's Chromium, driven by playwright-core, against a fresh local stack:
// `cargo xtask test` runs it through `local-stack browser`, which starts the stack and sets
// DASHBOARD_URL and CHROMIUM. Every page is checked with axe-core, and the main pages are
// photographed into target/screenshots/ (web/screenshots/, which the README shows, with
// `cargo xtask browser --screenshots`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile, mkdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const DASHBOARD = process.env.DASHBOARD_URL;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
if (!DASHBOARD) {
  throw new Error("DASHBOARD_URL is not set: run the browser tests with `cargo xtask test` or `cargo run -p local-stack --bin local-stack -- browser`, which start the stack they need");
}
if (!existsSync(CHROMIUM)) {
  throw new Error(`Chromium is missing at ${CHROMIUM}: install Debian's chromium and chromium-driver (.ci/run does)`);
}

// Where the pages are photographed: target/screenshots/ on a test run (the tree stays as it was),
// web/screenshots/ (the README's) with `cargo xtask browser --screenshots`.
const SHOTS = pathToFileURL(`${process.env.SCREENSHOTS || new URL("../../target/screenshots", import.meta.url).pathname}/`);
const axeSource = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
let browser;
const checked = new Set();

before(async () => {
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
});

/** A person in their own browser context (own session), signed in through the dev issuer. */
async function signIn(email, url = DASHBOARD) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  page.on("dialog", (dialog) => dialog.accept());
  page.on("pageerror", (error) => { throw new Error(`${email}'s page threw: ${error.message}`); });
  await page.goto(url);
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Your organizations" }).waitFor();
  return page;
}

/** No axe-core violation of impact serious or critical on the page as it is now. */
async function accessible(page, name) {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const result = await globalThis.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) }));
  });
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(serious, [], `axe-core on the ${name} page: ${JSON.stringify(serious, null, 2)}`);
  checked.add(name);
}

/** The customer's side of connecting an account: `role` trusts `policy` (the local stack's IAM). */
async function trust(role, policy) {
  const emulator = process.env.EMULATOR_URL;
  assert.ok(emulator, "EMULATOR_URL is not set (local-stack browser sets it)");
  const response = await fetch(`${emulator}/_local/trust`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ role_arn: role, policy }),
  });
  assert.equal(response.status, 204, await response.text());
}

/** The dashboard link in the invitation email to `to`, from the emulator's SES outbox. */
async function invitationLink(to) {
  const outbox = process.env.EMULATOR_URL;
  assert.ok(outbox, "EMULATOR_URL is not set (local-stack browser sets it)");
  for (let i = 0; i < 100; i++) {
    const data = await (await fetch(`${outbox}/moto-api/data.json`)).json();
    const mail = (data.ses?.Message || []).find((m) => (m.destinations?.ToAddresses || []).includes(to));
    const link = mail?.body.match(/https?:\/\/\S+\/invitations\/[0-9a-f-]+/);
    if (link) return link[0];
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no invitation email to ${to} within 20 s`);
}

async function shoot(page, name) {
  await page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true });
}

/** Opens an organization's page afresh (a reload when already there) and waits for it. */
async function visit(page, orgId, section) {
  const hash = `#/orgs/${orgId}/${section}`;
  if (page.url() === `${DASHBOARD}/${hash}`) await page.reload();
  else await page.goto(`${DASHBOARD}/${hash}`);
  await page.locator(`main[data-rendered="${hash}"]`).waitFor();
}

function orgIdOf(page) {
  return new URL(page.url()).hash.split("/")[2];
}

async function invite(page, orgId, email) {
  await visit(page, orgId, "members");
  await page.locator("#invite-email").fill(email);
  await page.getByRole("button", { name: "Invite", exact: true }).click();
  await page.getByRole("cell", { name: email, exact: true }).waitFor();
}

async function accept(page, orgName) {
  await page.goto(DASHBOARD);
  await page.getByRole("button", { name: `Accept the invitation to ${orgName}` }).click();
  await page.getByRole("heading", { name: /Members/ }).waitFor();
}

test("the seed story: sign up, invite, accept, share a cloud account and a cluster, usage, removal", async () => {
  // Alice signs up and sees her organization.
  const alice = await signIn("alice@example.com");
  const orgName = "alice's organization";
  await alice.getByRole("link", { name: orgName }).waitFor();
  await accessible(alice, "organizations");
  await alice.getByRole("link", { name: orgName }).click();
  await alice.getByRole("heading", { name: /Members/ }).waitFor();
  const org = orgIdOf(alice);

  // She invites Bob; the invitation waits in her list.
  await invite(alice, org, "bob@example.com");
  await accessible(alice, "members");

  // Bob gets the email, follows its link, signs in, sees the invitation, accepts it.
  const link = await invitationLink("bob@example.com");
  assert.ok(link.startsWith(`${DASHBOARD}/invitations/`), link);
  const bob = await signIn("bob@example.com", link);
  await bob.locator("li.invitation.linked").filter({ hasText: `${orgName} invites you as member` }).waitFor();
  await accessible(bob, "invitation");
  await shoot(bob, "invitation");
  await accept(bob, orgName);

  // Both see two members.
  for (const page of [alice, bob]) {
    await visit(page, org, "members");
    await page.getByText("2 members").waitFor();
  }
  await shoot(alice, "members");

  // Alice connects the cloud account: she gives her role the trust policy the page shows (in the
  // emulator, which plays her account 111122223333 and enforces trust policies as AWS does).
  await visit(alice, org, "cloud");
  const role = "arn:aws:iam::111122223333:role/orgs-clusters";
  await trust(role, JSON.parse(await alice.locator("#trust-policy").textContent()));
  await alice.getByLabel("Role ARN").fill(role);
  await alice.getByLabel("Region").fill("eu-west-1");
  await alice.getByRole("button", { name: "Connect and verify" }).click();
  await alice.getByText("111122223333", { exact: true }).waitFor();
  await accessible(alice, "cloud account");
  await shoot(alice, "cloud-account");

  // Bob creates a cluster, which starts; both see it running (the page refreshes by itself).
  await visit(bob, org, "clusters");
  await bob.getByLabel("Name").fill("analytics");
  await bob.getByLabel("Workers").fill("1");
  await bob.getByRole("button", { name: "Create cluster" }).click();
  await bob.getByText("analytics is starting; its nodes enroll themselves", { exact: false }).waitFor();
  const running = (page) => page.locator('tr[data-cluster="analytics"] td.state', { hasText: "running" }).waitFor({ timeout: 60_000 });
  await running(bob);
  await visit(alice, org, "clusters");
  await running(alice);
  await accessible(alice, "clusters");
  await shoot(alice, "clusters");

  // The cluster's page: its users, an account for each member.
  await alice.getByRole("link", { name: "analytics" }).click();
  await alice.getByRole("heading", { name: /analytics/ }).waitFor();
  await alice.getByRole("cell", { name: "bob@example.com" }).waitFor();
  // How to connect, with Alice's own login; no credential anywhere on the page.
  await alice.getByRole("heading", { name: "How to connect" }).waitFor();
  await alice.getByText("Your login here is", { exact: false }).waitFor();
  assert.ok(!(await alice.content()).includes("ocn_"), "no node credential on the page");
  await accessible(alice, "cluster");
  await shoot(alice, "cluster");

  // Two hours pass.
  const moved = await fetch(`${DASHBOARD}/dev/clock`, { method: "POST", body: JSON.stringify({ advance_seconds: 7200 }) });
  assert.equal(moved.status, 200);

  // The usage page shows the cluster's hours, the chart, and the CSV.
  await visit(alice, org, "usage");
  const hours = await alice.locator('tr[data-line="analytics"] td').nth(1).textContent();
  assert.ok(Number(hours) >= 2 && Number(hours) < 2.5, `the cluster ran about 2 hours, the page says ${hours}`);
  await alice.locator("svg.chart rect").first().waitFor();
  await accessible(alice, "usage");
  await shoot(alice, "usage");
  const [download] = await Promise.all([alice.waitForEvent("download"), alice.getByRole("button", { name: "Download CSV" }).click()]);
  const csv = await readFile(await download.path(), "utf8");
  assert.match(csv, /^kind,id,name,hours,instance_hours,credits\r\n/);
  assert.match(csv, /\r\ncluster,[0-9a-f-]+,analytics,2\./);

  // Settings and the audit log, as the owner sees them.
  await visit(alice, org, "settings");
  await accessible(alice, "settings");
  await shoot(alice, "settings");
  await visit(alice, org, "audit");
  await alice.getByRole("cell", { name: "accepted" }).waitFor();
  await accessible(alice, "audit log");
  await shoot(alice, "audit-log");

  // Alice removes Bob; his next page load shows he has no access.
  await visit(alice, org, "members");
  await alice.getByRole("button", { name: "Remove bob@example.com" }).click();
  await alice.getByText("1 member", { exact: true }).waitFor();
  await bob.reload();
  await bob.getByRole("heading", { name: "No access" }).waitFor();
  await bob.getByRole("alert").filter({ hasText: "no longer a member" }).waitFor();
  await accessible(bob, "no access");

  // Every page of the dashboard was checked.
  for (const page of ["organizations", "members", "invitation", "cloud account", "clusters", "cluster", "usage", "settings", "audit log"]) {
    assert.ok(checked.has(page), `axe-core did not check the ${page} page`);
  }
});

test("a plain member sees the invite button only once an admin lets members invite", async () => {
  const dana = await signIn("dana@example.com");
  await dana.getByRole("link", { name: "dana's organization" }).click();
  await dana.getByRole("heading", { name: /Members/ }).waitFor();
  const org = orgIdOf(dana);
  await invite(dana, org, "erin@example.com");
  const erin = await signIn("erin@example.com");
  await accept(erin, "dana's organization");

  const inviteButton = erin.getByRole("button", { name: "Invite", exact: true });
  assert.equal(await inviteButton.count(), 0, "no invite button for a plain member");
  await erin.getByText("You cannot invite: only the owner and admins may invite a member (unless members_can_invite is on)").waitFor();
  // What a member may not change is shown, disabled, with the reason on hover.
  await visit(erin, org, "settings");
  assert.equal(await erin.getByRole("button", { name: "Save permissions" }).isDisabled(), true);
  await accessible(erin, "settings as a member");
  // A control the member may not use says why, to the keyboard too: focus it, press it, hear it.
  await visit(erin, org, "members");
  const remove = erin.getByRole("button", { name: "Remove dana@example.com" });
  assert.equal(await remove.count(), 0, "nobody removes the owner");
  await visit(dana, org, "members");
  await invite(dana, org, "oscar@example.com");
  await visit(erin, org, "members");
  const revoke = erin.getByRole("button", { name: "Revoke the invitation to oscar@example.com" });
  assert.equal(await revoke.getAttribute("aria-disabled"), "true");
  assert.match(await revoke.getAttribute("title"), /only the owner and admins may revoke an invitation/);
  await revoke.focus();
  await erin.keyboard.press("Enter");
  await erin.getByRole("status").filter({ hasText: "Revoke: not allowed, only the owner and admins may revoke an invitation" }).waitFor();
  await erin.getByRole("cell", { name: "oscar@example.com", exact: true }).waitFor();

  await visit(dana, org, "settings");
  await dana.getByLabel("Members can invite others").check();
  await dana.getByRole("button", { name: "Save permissions" }).click();
  await dana.getByText("Permissions saved.").waitFor();

  await visit(erin, org, "members");
  await inviteButton.waitFor();
  await invite(erin, org, "frank@example.com");
});

test("sign-in and an invitation work from the keyboard alone", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(DASHBOARD);
  // Presses Tab until the element with this id (or text) has the focus, at most `max` times.
  const tabTo = async (target, max) => {
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent);
    for (let i = 0; i < max && (await focused()) !== target; i++) await page.keyboard.press("Tab");
    assert.equal(await focused(), target, `Tab reaches ${target}`);
  };
  await tabTo("email", 10);
  await page.keyboard.type("ivan@example.com");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Your organizations" }).waitFor();
  // Tab to the organization's link and follow it with Enter, then invite with Tab and Enter.
  await tabTo("ivan's organization", 15);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: /Members/ }).waitFor();
  await tabTo("invite-email", 30);
  await page.keyboard.type("judy@example.com");
  await page.keyboard.press("Enter");
  await page.getByRole("cell", { name: "judy@example.com", exact: true }).waitFor();
  await context.close();
});

test("production sign-in: the hosted UI's code flow with PKCE, the verifier never leaving the browser but once", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const local = await (await fetch(`${DASHBOARD}/config.json`)).json();
  const auth = { mode: "cognito", domain: `${DASHBOARD}/local-cognito`, client_id: "local-client", redirect_uri: `${DASHBOARD}/` };
  await page.route("**/config.json", (route) => route.fulfill({ json: { ...local, auth } }));
  const seen = { authorize: null, token: null };
  page.on("request", (r) => {
    if (r.url().includes("/oauth2/authorize")) seen.authorize = new URL(r.url());
    if (r.url().endsWith("/oauth2/token")) seen.token = new URLSearchParams(r.postData());
  });
  await page.goto(DASHBOARD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Email address").fill("kate@example.com");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Your organizations" }).waitFor();
  await page.getByText("Signed in as kate@example.com.").waitFor();

  const { createHash } = await import("node:crypto");
  const challenge = seen.authorize.searchParams.get("code_challenge");
  assert.equal(seen.authorize.searchParams.get("code_challenge_method"), "S256");
  assert.equal(seen.authorize.searchParams.get("code_verifier"), null, "the verifier is not in the authorization request");
  const verifier = seen.token.get("code_verifier");
  assert.equal(createHash("sha256").update(verifier).digest("base64url"), challenge);
  assert.equal(new URL(page.url()).search, "", "the code is taken off the address bar");
  // The code was for one use.
  const replay = await fetch(`${auth.domain}/oauth2/token`, { method: "POST", body: seen.token });
  assert.equal(replay.status, 400);
  // And a fresh code with another verifier is refused.
  const login = await fetch(`${auth.domain}/login`, {
    method: "POST",
    redirect: "manual",
    body: new URLSearchParams({ username: "kate@example.com", redirect_uri: auth.redirect_uri, code_challenge: challenge, state: "s" }),
  });
  const code = new URL(login.headers.get("location")).searchParams.get("code");
  const wrong = new URLSearchParams({ grant_type: "authorization_code", client_id: auth.client_id, redirect_uri: auth.redirect_uri, code, code_verifier: `${verifier}x` });
  const refused = await fetch(`${auth.domain}/oauth2/token`, { method: "POST", body: wrong });
  assert.equal(refused.status, 400);
  assert.equal((await refused.json()).error, "invalid_grant");
  await context.close();
});

test("an expired ID token is renewed with the refresh token, without signing in again", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const local = await (await fetch(`${DASHBOARD}/config.json`)).json();
  const auth = { mode: "cognito", domain: `${DASHBOARD}/local-cognito`, client_id: "local-client", redirect_uri: `${DASHBOARD}/` };
  await page.route("**/config.json", (route) => route.fulfill({ json: { ...local, auth } }));
  const grants = [];
  page.on("request", (r) => {
    if (r.url().endsWith("/oauth2/token")) grants.push(new URLSearchParams(r.postData()).get("grant_type"));
  });
  await page.goto(DASHBOARD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Email address").fill("lena@example.com");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("Signed in as lena@example.com.").waitFor();
  assert.ok(await page.evaluate(() => sessionStorage.getItem("refresh_token")), "the code grant kept a refresh token");

  // The ID token is past its hour: the API answers 401, and the dashboard renews it and carries on.
  await page.evaluate(() => sessionStorage.setItem("token", "an.expired.token"));
  await page.getByRole("link", { name: "lena's organization" }).click();
  await page.getByRole("heading", { name: /Members/ }).waitFor();
  assert.deepEqual(grants, ["authorization_code", "refresh_token"]);
  assert.notEqual(await page.evaluate(() => sessionStorage.getItem("token")), "an.expired.token");
  assert.equal(await page.getByRole("button", { name: "Sign in" }).count(), 0, "not asked to sign in again");

  // A refresh token the hosted UI does not know ends the session: sign in again.
  await page.evaluate(() => {
    sessionStorage.setItem("token", "an.expired.token");
    sessionStorage.setItem("refresh_token", "revoked");
  });
  await page.reload();
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  await context.close();
});

test("an error from the API is shown to the person, beside what caused it", async () => {
  const gina = await signIn("gina@example.com");
  await gina.getByRole("link", { name: "gina's organization" }).click();
  await gina.getByRole("heading", { name: /Members/ }).waitFor();
  const org = orgIdOf(gina);
  await invite(gina, org, "hugo@example.com");
  const hugo = await signIn("hugo@example.com");
  await accept(hugo, "gina's organization");
  // The email's link, followed again after accepting, says the invitation is no longer open.
  await hugo.goto(await invitationLink("hugo@example.com"));
  await hugo.getByRole("alert").filter({ hasText: "The invitation you followed is no longer open" }).waitFor();

  // Inviting someone who is already a member: the API's 409, in its words, under the form.
  await visit(gina, org, "members");
  await gina.locator("#invite-email").fill("hugo@example.com");
  await gina.getByRole("button", { name: "Invite", exact: true }).click();
  const shown = gina.getByRole("alert").filter({ hasText: "hugo@example.com is already a member of this organization" });
  await shown.waitFor();
  await shoot(gina, "error");
  // And a cluster without a cloud account: the API's refusal, under the cluster form.
  await visit(gina, org, "clusters");
  await gina.getByLabel("Name").fill("nowhere");
  await gina.getByRole("button", { name: "Create cluster" }).click();
  const refusal = gina.locator("form + p[role=alert]");
  await refusal.filter({ hasText: /cloud account/i }).waitFor();
});

test("a person adds an SSH key, sees its fingerprint, is told why a short RSA key is refused, and removes it", async () => {
  const ivy = await signIn("ivy@example.com");
  await ivy.getByRole("link", { name: "Your SSH keys" }).click();
  await ivy.locator('main[data-rendered="#/keys"]').waitFor();
  await ivy.getByText("No keys yet.").waitFor();
  // An Ed25519 public key (any 32 bytes are one to the parser).
  const blob = Buffer.concat([
    Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7),
  ]).toString("base64");
  await ivy.getByLabel("Public key (the contents of a .pub file)").fill(`ssh-ed25519 ${blob} ivy@laptop`);
  await ivy.getByRole("button", { name: "Add key" }).click();
  const row = ivy.getByRole("row").filter({ hasText: "ivy@laptop" });
  await row.waitFor();
  assert.match(await row.innerText(), /SHA256:\S{43}/);
  await accessible(ivy, "ssh keys");
  // Something that is not a key: the API's words, under the form.
  await ivy.getByLabel("Public key (the contents of a .pub file)").fill("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 short");
  await ivy.getByRole("button", { name: "Add key" }).click();
  await ivy.getByRole("alert").filter({ hasText: "not an OpenSSH public key" }).waitFor();
  await ivy.getByRole("button", { name: /^Remove the key SHA256:/ }).click();
  await ivy.getByText("No keys yet.").waitFor();
});

test("an owner makes a service account and a key, sees the key once, the key works, and revoking it stops it", async () => {
  const kim = await signIn("kim@example.com");
  await kim.getByRole("link", { name: "kim's organization" }).click();
  await kim.getByRole("heading", { name: /Members/ }).waitFor();
  const org = orgIdOf(kim);
  await visit(kim, org, "automation");
  await kim.getByText("No service accounts yet.").waitFor();
  await kim.getByLabel("Name").fill("nightly-ci");
  await kim.getByLabel("What it is for (optional)").fill("Starts the ETL cluster at night");
  await kim.getByRole("button", { name: "Create service account" }).click();
  await kim.getByRole("heading", { name: "nightly-ci" }).waitFor();

  // A key with two scopes: shown once, in full, beside a copy button.
  await kim.getByLabel("operate clusters").check();
  await kim.getByRole("button", { name: "Create key" }).click();
  const key = (await kim.locator("#api-key").innerText()).trim();
  assert.match(key, /^ocak_[0-9A-Za-z]{50}$/);
  await kim.getByRole("button", { name: "Copy" }).waitFor();
  const row = kim.getByRole("row").filter({ hasText: "read, operate_clusters" });
  await row.waitFor();
  await accessible(kim, "automation");
  await shoot(kim, "automation");

  // It works from outside the browser, as a script would use it.
  const base = (await (await fetch(`${DASHBOARD}/config.json`)).json()).api_url;
  const listed = await fetch(`${base}/v1/organizations/${org}/clusters`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(listed.status, 200, await listed.text());

  // Shown once: after a reload only its id is on the page.
  await visit(kim, org, "automation");
  assert.equal(await kim.locator("#api-key").count(), 0, "the key is not shown again");
  assert.equal((await kim.locator("main").innerText()).includes(key), false);

  // Revoked: the next request with it is refused.
  await kim.getByRole("button", { name: /^Revoke the key / }).click();
  await kim.getByText("No keys.").waitFor();
  const refused = await fetch(`${base}/v1/organizations/${org}/clusters`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(refused.status, 401);
});

test("an owner adds a webhook endpoint, sees its secret once, and a private address is refused", async () => {
  const kim = await signIn("kim@example.com");
  await kim.getByRole("link", { name: "kim's organization" }).click();
  await kim.getByRole("heading", { name: /Members/ }).waitFor();
  const org = orgIdOf(kim);
  await visit(kim, org, "automation");
  await kim.getByText("No webhook endpoints yet.").waitFor();

  // The metadata service's address: the API refuses it, and says why under the form.
  await kim.getByLabel("URL (https)").fill("https://169.254.169.254/latest/meta-data/");
  await kim.getByRole("button", { name: "Add endpoint" }).click();
  await kim.getByRole("alert").filter({ hasText: "public address" }).waitFor();

  await kim.getByLabel("URL (https)").fill("https://hooks.example.com/orgs");
  await kim.getByLabel("cluster.state_changed").check();
  await kim.getByRole("button", { name: "Add endpoint" }).click();
  const secret = (await kim.locator("#webhook-secret").innerText()).trim();
  assert.match(secret, /^whsec_[0-9A-Za-z]{32}$/);
  await kim.getByRole("heading", { name: "https://hooks.example.com/orgs" }).waitFor();
  await kim.getByText(/Events: member\.invited, .*cluster\.state_changed/).waitFor();
  await accessible(kim, "automation with a webhook");

  // Shown once: after a reload the secret is nowhere on the page.
  await visit(kim, org, "automation");
  await kim.getByRole("heading", { name: "https://hooks.example.com/orgs" }).waitFor();
  assert.equal(await kim.locator("#webhook-secret").count(), 0, "the secret is not shown again");
  assert.equal((await kim.locator("main").innerText()).includes(secret), false);

  await kim.getByRole("button", { name: "Delete the endpoint https://hooks.example.com/orgs" }).click();
  await kim.getByText("No webhook endpoints yet.").waitFor();
});
