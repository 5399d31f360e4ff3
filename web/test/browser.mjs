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
// Customer words, not the command line's: the page names its own field.
await run("not-a-proof", { proof: env("ATT"), user: "alice", key }, { words: "CANNOT CHECK", cls: "error",
  contains: "this is an attestation, not an inclusion proof: choose it in the attestation field" });

// The page's memory: one browser profile, several visits, as a customer returning each month.
const ctx = await browser.newContext({ acceptDownloads: true });
async function visit(name, fill, expect, after) {
  const page = await ctx.newPage();
  page.on("request", (r) => requests.push(r.url()));
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(PAGE);
  await fill(page);
  await page.waitForTimeout(200);
  await page.click(expect.button || "#verify");
  await page.waitForSelector(expect.wait || "#timing");
  const verdict = (await page.textContent(expect.verdict || "#verdict")) || "";
  const details = (await page.textContent(expect.details_el || "#details")) || "";
  const cls = await page.getAttribute(expect.verdict || "#verdict", "class");
  const memory = (await page.textContent("#memory")) || "";
  const warning = (await page.textContent("#memory-warning")) || "";
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
  let extra = true, why = "";
  if (after) { try { extra = await after(page, { verdict, details, memory }); } catch (e) { extra = false; why = String(e); } }
  const ok = errors.length === 0 && verdict.startsWith(expect.words) && cls === expect.cls
    && (!expect.contains || verdict.includes(expect.contains))
    && (!expect.details || details.includes(expect.details))
    && (!expect.memory || memory.includes(expect.memory))
    && warning.includes("may delete this memory") && extra;
  if (ok) passed++; else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}: ${verdict} [${cls}] memory: ${memory}${why ? " " + why : ""}${errors.length ? " errors: " + errors.join("; ") : ""}`);
  await page.close();
}
const files = (att, proof, user, k) => async (page) => {
  await page.setInputFiles("#attestation", att); await page.setInputFiles("#proof", proof);
  await page.fill("#user", user); if (k) await page.fill("#key", k);
};
// First visit: the key given is pinned on first use and the month remembered.
await visit("memory-first-use", files(env("ATT"), env("PROOF"), "alice", key),
  { words: "VERIFIED", cls: "pass", details: "pinned on first use", memory: "months verified: 2026-11" });
// Next visit, no key typed: the pinned one is used.
await visit("memory-no-key-needed", files(env("ATT"), env("PROOF"), "alice", ""),
  { words: "VERIFIED", cls: "pass", details: "the key pinned for", memory: "Browser Exchange" });
// The exchange shows alice another attestation for the same month: EQUIVOCATION, both files offered.
await visit("equivocation", files(env("ATT2"), env("PROOF2"), "alice", ""),
  { words: "NOT VERIFIED", cls: "fail", contains: "EQUIVOCATION", details: "What this means [history.equivocation]" },
  async (page) => {
    const before = await page.getAttribute("#evidence-before", "href"), now = await page.getAttribute("#evidence-now", "href");
    const first = decodeURIComponent(before.split(",").slice(1).join(","));
    const second = decodeURIComponent(now.split(",").slice(1).join(","));
    const { readFileSync } = await import("node:fs");
    // The copies are the signed attestations themselves: anyone can check both with the key.
    return JSON.parse(first).signature === JSON.parse(readFileSync(env("ATT"), "utf8")).signature
      && JSON.parse(second).signature === JSON.parse(readFileSync(env("ATT2"), "utf8")).signature;
  });
// Signed by another key with no handover from the pinned one: KEY CHANGED.
await visit("key-changed", files(env("ATT3"), env("PROOF3"), "alice", ""),
  { words: "NOT VERIFIED", cls: "fail", contains: "KEY CHANGED", details: "What this means [key.changed]" });
// Export: the file saved is the command line's store.json format, and por-verify reads it.
await visit("memory-export", async () => {}, { words: "", cls: "small", button: "#export", wait: "#export-link", verdict: "#memory-status", details_el: "#memory-status" },
  async (page) => {
    const href = await page.getAttribute("#export-link", "href");
    const text = decodeURIComponent(href.split(",").slice(1).join(","));
    const { writeFileSync, mkdirSync } = await import("node:fs");
    const dir = env("EXPORT_TO") + ".d"; mkdirSync(dir, { recursive: true });
    writeFileSync(dir + "/store.json", text);
    const { execFileSync } = await import("node:child_process");
    // The CLI, given the page's memory and the second view, catches the equivocation too (exit 1).
    try {
      execFileSync(env("VERIFY"), ["proof", "--attestation", env("ATT2"), "--proof", env("PROOF2"), "--user-id", "alice", "--store", dir, "--json"]);
      return false;
    } catch (e) {
      const out = JSON.parse(e.stdout.toString());
      return e.status === 1 && out.code === "history.equivocation" && JSON.parse(text).format === "por-store-v2";
    }
  });
// A fresh browser profile: import the CLI's store, and the second view is caught at once.
const ctx2 = await browser.newContext();
{
  const page = await ctx2.newPage();
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(PAGE);
  await page.setInputFiles("#import", env("CLI_STORE"));
  await page.waitForFunction(() => document.getElementById("memory-status").textContent.startsWith("Loaded"));
  const memory = (await page.textContent("#memory")) || "";
  await page.setInputFiles("#attestation", env("ATT2")); await page.setInputFiles("#proof", env("PROOF2"));
  await page.fill("#user", "alice");
  await page.waitForTimeout(200);
  await page.click("#verify"); await page.waitForSelector("#timing");
  const verdict = (await page.textContent("#verdict")) || "";
  await page.screenshot({ path: `${OUT}/imported-cli-store.png`, fullPage: true });
  const ok = memory.includes("months verified: 2026-11") && verdict.includes("EQUIVOCATION");
  if (ok) passed++; else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} imported-cli-store: ${verdict} memory: ${memory}`);
  // A file that is not a store is refused, and the memory kept.
  await page.setInputFiles("#import", env("PROOF"));
  await page.waitForFunction(() => document.getElementById("memory-status").textContent.startsWith("Not loaded"));
  const status = (await page.textContent("#memory-status")) || "";
  const kept = ((await page.textContent("#memory")) || "").includes("2026-11");
  const ok2 = status.includes("never reset silently") && status.includes("load a memory you saved") && !status.includes("--") && kept;
  if (ok2) passed++; else failed++;
  console.log(`${ok2 ? "ok  " : "FAIL"} import-refused: ${status}`);
  // The next month signed by a new key with no handover: KEY CHANGED in the page's words (a
  // button, not a command), then the customer re-pins knowingly and the month verifies.
  const check = async (att, proof) => {
    await page.setInputFiles("#attestation", att); await page.setInputFiles("#proof", proof);
    await page.waitForTimeout(200);
    await page.click("#verify"); await page.waitForSelector("#timing");
    return (await page.textContent("#verdict")) || "";
  };
  const changed = await check(env("ATT4"), env("PROOF4"));
  const advice = (await page.textContent("#details")) || "";
  const pageWords = changed.includes("KEY CHANGED") && changed.includes('the button "Trust the key')
    && !/--[a-z]|por-verify pin/.test(changed + advice) && (await page.$("#repin")) !== null;
  await page.screenshot({ path: `${OUT}/key-changed-repin.png`, fullPage: true });
  await page.click("#repin");
  await page.waitForFunction(() => document.getElementById("memory-status").textContent.startsWith("Re-pinned"));
  const repinned = ((await page.textContent("#memory")) || "").includes("re-pinned by the user");
  const after = await check(env("ATT4"), env("PROOF4"));
  const ok3 = pageWords && repinned && after.startsWith("VERIFIED");
  if (ok3) passed++; else failed++;
  console.log(`${ok3 ? "ok  " : "FAIL"} repin: ${changed} | then: ${after}`);
  await page.close();
}
// Reserves, offline: short even as claimed; an altered statement.
await run_reserves("reserves-short", env("RESERVES"), { words: "NOT PROVEN", cls: "fail", contains: "even as the exchange claims",
  details: "the balances on chain" });
await run_reserves("reserves-altered", env("RESERVES_ALTERED"), { words: "NOT PROVEN", cls: "fail", contains: "altered after signing",
  details: "What this means [reserves.statement_invalid]" });
async function run_reserves(name, statement, expect) {
  await visit(name, async (page) => {
    await page.setInputFiles("#attestation", env("ATT")); await page.setInputFiles("#reserves", statement);
  }, { ...expect, button: "#check-reserves", wait: "#reserves-not-checked", verdict: "#reserves-verdict", details_el: "#reserves-details" });
}

// Another exchange's proof file: OKX's sample with the root published for everyone, without
// it, and with a balance changed.
async function run_published(name, file, root, expect) {
  const page = await browser.newPage();
  page.on("request", (r) => requests.push(r.url()));
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(PAGE);
  await page.setInputFiles("#published", file);
  await page.fill("#published-root", root);
  await page.waitForTimeout(200);
  await page.click("#check-published");
  await page.waitForSelector("#published-details h3");
  const verdict = (await page.textContent("#published-verdict")) || "";
  const details = (await page.textContent("#published-details")) || "";
  const cls = await page.getAttribute("#published-verdict", "class");
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
  const ok = errors.length === 0 && verdict.startsWith(expect.words) && cls === expect.cls
    && (!expect.details || details.includes(expect.details));
  if (ok) passed++; else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}: ${verdict} [${cls}]${errors.length ? " errors: " + errors.join("; ") : ""}`);
  await page.close();
}
const OKX_ROOT = "ac6b39d2a0aa8112bd1aadff5e7d4b5c2b91cd54d595262ba4367f5d2db4160d";
await run_published("published-okx", env("OKX_V1"), OKX_ROOT, { words: "VERIFIED", cls: "pass", details: "weakness.child_sums_unbound" });
await run_published("published-okx-no-root", env("OKX_V1"), "", { words: "UNVERIFIED", cls: "error",
  details: "What this means [published.root_not_compared]" });
await run_published("published-gate", env("GATE"), "2da42ab6586ef6ad51b4bc8063ce92dcefb951572a26597346b7f78c1329ef0b",
  { words: "VERIFIED", cls: "pass", details: "weakness.batch_proofs_unchecked" });
await run_published("published-okx-changed", env("OKX_V1_CHANGED"), OKX_ROOT, { words: "NOT VERIFIED", cls: "fail",
  details: "What this means [published.check_failed]" });
const foreign = requests.filter((u) => !u.startsWith("file://") && !u.startsWith("data:"));
if (foreign.length === 0) { passed++; console.log("ok   no network: every request was file:// or data:"); }
else { failed++; console.log("FAIL the page made network requests: " + foreign.join(", ")); }
await browser.close();
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
