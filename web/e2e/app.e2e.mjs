// The PWA end to end, in headless Chromium against a real `runway serve`
// (embedded defaults, a fresh data directory):
//
//   sign up → upload photo-12mp.jpg (direct upload) → the ThumbHash
//   placeholder, then the thumbnail (pushed over SSE, no polling) → the
//   detail page with every variant → a notification sent with an API key
//   appears in the inbox → "Enable notifications" as far as an offline
//   browser allows → delete the account.
//
// A screenshot is saved at each step (SCREENSHOTS, default ./screenshots).
//
// What it skips: Chromium's push service is not reachable offline, so
// PushManager.subscribe cannot complete here; the test checks that the
// service worker is registered, the VAPID key is fetched and the browser
// attempts the subscription. Web Push delivery itself is covered by the
// protocol tests in crates/runway-push (RFC 8291/8292 against a local push
// service).
//
// Usage: node app.e2e.mjs RUNWAY_BINARY PHOTO

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const [binary, photo] = process.argv.slice(2).map((p) => resolve(p));
if (!binary || !photo) {
  console.error("usage: node app.e2e.mjs RUNWAY_BINARY PHOTO");
  process.exit(2);
}
const shots = resolve(process.env.SCREENSHOTS || "screenshots");
mkdirSync(shots, { recursive: true });
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

function freePort() {
  return new Promise((ok) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

function step(name) {
  console.error(`e2e: ${name}`);
}

const dataDir = mkdtempSync(join(tmpdir(), "runway-e2e-"));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const env = {
  ...process.env,
  RUNWAY_LISTEN: `127.0.0.1:${port}`,
  RUNWAY_PUBLIC_URL: base,
  RUNWAY_LOG_FILTER: "warn",
};
// A VAPID key, so the app can try a real Web Push subscription.
const vapid = execFileSync(binary, ["admin", "vapid-key", "--data-dir", dataDir], { env, encoding: "utf8" });
const privateKey = vapid.split("\n").find((l) => /private/i.test(l))?.split(/[:=]\s*/).pop()?.trim();
if (!privateKey) throw new Error(`no VAPID key in: ${vapid}`);
env.RUNWAY_PUSH__VAPID_PRIVATE_KEY = privateKey;
env.RUNWAY_PUSH__VAPID_SUBJECT = "mailto:ops@example.com";

const server = spawn(binary, ["serve", "--data-dir", dataDir], { env, stdio: ["ignore", "inherit", "inherit"] });
let browser;
let failed = false;
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch { /* not up yet */ }
    if (i > 300 || server.exitCode !== null) throw new Error("runway did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  const apiKey = execFileSync(
    binary,
    ["admin", "create-key", "--scope", "notifications:send", "--name", "e2e", "--data-dir", dataDir],
    { env, encoding: "utf8" },
  ).trim().split("\n").pop().trim();

  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  await context.grantPermissions(["notifications"], { origin: base });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("dialog", (d) => d.accept());
  const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`) });

  step("sign up");
  await page.goto(`${base}/app/`);
  await page.getByLabel("Email").fill("ada@example.com");
  await page.getByLabel(/Password/).fill("correct horse battery");
  await shot("01-sign-up");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Photos" }).waitFor();
  await page.waitForFunction(() => document.getElementById("status").textContent === "Live");
  await shot("02-photos-empty");

  step("upload photo-12mp.jpg; placeholder, then thumbnail");
  // Record every state a tile's image goes through.
  await page.evaluate(() => {
    window.tileStates = [];
    new MutationObserver(() => {
      for (const img of document.querySelectorAll("#grid img")) {
        const last = window.tileStates[window.tileStates.length - 1];
        if (last !== img.dataset.kind) window.tileStates.push(img.dataset.kind);
      }
    }).observe(document.getElementById("view"), { subtree: true, childList: true, attributes: true });
  });
  await page.setInputFiles("#file", photo);
  const placeholder = page.locator('#grid img[data-kind="placeholder"]');
  const thumbnail = page.locator('#grid img[data-kind="thumbnail"]');
  await placeholder.or(thumbnail).first().waitFor({ timeout: 60_000 });
  if (await placeholder.count()) await shot("03-placeholder");
  await thumbnail.waitFor({ timeout: 60_000 });
  const states = await page.evaluate(() => window.tileStates);
  if (states[0] !== "placeholder" || !states.includes("thumbnail")) {
    throw new Error(`expected the placeholder before the thumbnail, saw ${JSON.stringify(states)}`);
  }
  const access = await page.evaluate(() => localStorage.getItem("runway.access"));
  const auth = { Authorization: `Bearer ${access}` };
  const [media] = (await (await fetch(`${base}/v1/media`, { headers: auth })).json()).items;
  const ratio = await page.locator("#grid .tile").first().evaluate((t) => t.getBoundingClientRect().width / t.getBoundingClientRect().height);
  if (Math.abs(ratio - media.width / media.height) > 0.02) {
    throw new Error(`tile aspect ratio ${ratio}, the photo is ${media.width}×${media.height}`);
  }
  await page.waitForFunction(() => {
    const img = document.querySelector('#grid img[data-kind="thumbnail"]');
    return img && img.complete && img.naturalWidth > 0;
  });
  await shot("04-thumbnail");

  step("detail page");
  await page.locator("#grid .tile").first().click();
  await page.getByRole("heading", { name: "Photo" }).waitFor();
  for (const name of ["thumb", "small", "large", "original (no location)"]) {
    await page.getByRole("rowheader", { name }).waitFor();
  }
  await page.waitForFunction(() => {
    const img = document.querySelector(".detail img");
    return img && img.complete && img.naturalWidth > 0;
  });
  await shot("05-detail");

  step("a notification reaches the inbox");
  const me = await (await fetch(`${base}/v1/me`, { headers: auth })).json();
  // The user's phone (Android, `log` provider here) as the native app would register it.
  const device = await fetch(`${base}/v1/devices`, {
    method: "POST",
    headers: { Authorization: `Bearer ${access}`, "Content-Type": "application/json" },
    body: JSON.stringify({ platform: "android", token: `e2e:APA91b${"x".repeat(140)}` }),
  });
  if (device.status !== 201) throw new Error(`device registration: ${device.status} ${await device.text()}`);
  await page.getByRole("link", { name: "Inbox" }).click();
  await page.getByRole("heading", { name: "Notifications" }).waitFor();
  const sent = await fetch(`${base}/v1/notifications`, {
    method: "POST",
    headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ user_ids: [me.id], title: "Your photo is ready", body: "Tap to see every size." }),
  });
  if (sent.status !== 202) throw new Error(`send: ${sent.status} ${await sent.text()}`);
  await page.getByText("Your photo is ready").waitFor({ timeout: 30_000 });
  await shot("06-inbox");

  step("enable notifications (as far as an offline browser allows)");
  await page.getByRole("link", { name: "Profile" }).click();
  await page.getByRole("button", { name: "Enable notifications" }).click();
  await page.waitForFunction(() => /Notifications are on|Could not enable|no Web Push|not allowed/.test(document.querySelector("#view [role=status]")?.textContent || ""), null, { timeout: 30_000 });
  const registered = await page.evaluate(async () => Boolean(await navigator.serviceWorker.getRegistration("./")));
  if (!registered) throw new Error("the service worker was not registered");
  const outcome = await page.locator("#view [role=status]").textContent();
  console.error(`e2e: Web Push subscription: ${outcome}`);
  // The VAPID key was served and permission granted: only the browser's
  // own push service (unreachable offline) may stop it now.
  if (/no Web Push|not allowed/.test(outcome)) throw new Error(`Web Push setup failed before the push service: ${outcome}`);
  await shot("07-profile");

  step("delete the account");
  await page.getByRole("button", { name: "Delete account" }).click();
  await page.getByRole("heading", { name: "Sign in or create an account" }).waitFor();
  const login = await fetch(`${base}/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: "ada@example.com", password: "correct horse battery" }),
  });
  if (login.status !== 401) throw new Error(`login after deletion: ${login.status}`);
  await shot("08-deleted");

  if (pageErrors.length) throw new Error(`errors in the page: ${pageErrors.join("; ")}`);
  console.error(`e2e: passed; screenshots in ${shots}`);
} catch (e) {
  failed = true;
  console.error(`e2e: FAILED: ${e.stack || e}`);
} finally {
  await browser?.close();
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
