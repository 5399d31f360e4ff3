// Drives web/dist/verify.html in headless Chromium from file://, as a customer would: choose
// the files, type the user id and key, press Verify, read the verdict. Writes a screenshot of
// each case to $OUT. Prints "browser: N passed, M failed" and exits non-zero on a failure.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const env = (k) => { const v = process.env[k]; if (!v) throw new Error(`${k} is not set`); return v; };
const PAGE = "file://" + env("PAGE");
const OUT = env("OUT");
mkdirSync(OUT, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
let passed = 0, failed = 0;
const requests = [];

async function run(name, { proof, user, key, history, att }, expect) {
  const page = await browser.newPage();
  page.on("request", (r) => requests.push(r.url()));
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(PAGE);
  await page.setInputFiles("#attestation", att || env("ATT"));
  await page.setInputFiles("#proof", proof);
  if (history) await page.setInputFiles("#history", history);
  await page.fill("#user", user);
  await page.fill("#key", key);
  // The files are read asynchronously; give the reader a moment, then verify.
  await page.waitForTimeout(200);
  await page.click("#verify");
  await page.waitForSelector("#timing");
  const verdict = (await page.textContent("#verdict")) || "";
  const details = (await page.textContent("#details")) || "";
  const cls = await page.getAttribute("#verdict", "class");
  const timing = (await page.textContent("#timing")) || "";
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
  const ok = errors.length === 0 && verdict.startsWith(expect.words) && cls === expect.cls
    && (!expect.contains || verdict.includes(expect.contains))
    && (!expect.details || details.includes(expect.details));
  if (ok) passed++; else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}: ${verdict} [${cls}] ${timing}${errors.length ? " errors: " + errors.join("; ") : ""}`);
  await page.close();
}

const key = env("KEY");
await run("valid", { proof: env("PROOF"), user: "alice", key }, { words: "VERIFIED", cls: "pass" });
await run("tampered-proof", { proof: env("TAMPERED"), user: "alice", key }, { words: "NOT VERIFIED", cls: "fail", contains: "root computed",
  details: "What this means [proof.root_mismatch]" });
// A typo in the customer's own id is a mix-up, not evidence: exit 2 in por-verify, its own code.
await run("wrong-user-id", { proof: env("PROOF"), user: "Alice", key }, { words: "CANNOT CHECK", cls: "error", contains: "upper and lower case",
  details: "What this means [proof.other_user]" });
await run("wrong-key", { proof: env("PROOF"), user: "alice", key: env("OTHER_KEY") }, { words: "NOT VERIFIED", cls: "fail", contains: "not by the exchange key you gave" });
await run("with-history", { proof: env("PROOF"), user: "alice", key, history: env("HISTORY") }, { words: "VERIFIED", cls: "pass", details: "history: lists this attestation" });
await run("history-without-it", { proof: env("PROOF"), user: "alice", key, history: env("OTHER_HISTORY") }, { words: "NOT VERIFIED", cls: "fail", contains: "not in the published history" });
// The hidden-sums mode: commitments, range proofs, the root's opening, all in WebAssembly.
await run("hidden-sums", { proof: env("HIDDEN_PROOF"), user: "alice", key, att: env("HIDDEN_ATT") },
  { words: "VERIFIED", cls: "pass", details: "hidden sums" });
await run("hidden-sums-tampered", { proof: env("HIDDEN_TAMPERED"), user: "alice", key, att: env("HIDDEN_ATT") },
  { words: "NOT VERIFIED", cls: "fail", contains: "root computed" });
await run("not-a-proof", { proof: env("ATT"), user: "alice", key }, { words: "CANNOT CHECK", cls: "error", contains: "this is an attestation, not an inclusion proof" });

const foreign = requests.filter((u) => !u.startsWith("file://") && !u.startsWith("data:"));
if (foreign.length === 0) { passed++; console.log("ok   no network: every request was file:// or data:"); }
else { failed++; console.log("FAIL the page made network requests: " + foreign.join(", ")); }
await browser.close();
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
