// Drives Debian's Chromium (playwright-core) through the service's web side.
//
//   node drive.mjs choose CHOOSER_URL DEVICE
//       waits on the chooser page for a request (a join, an incoming call), prints its text,
//       clicks DEVICE, waits until it is gone
//   node drive.mjs approve CHOOSER_URL APP_URL
//       the app page (another origin) is refused; approve its origin on the chooser page;
//       the app page then connects and sends its requests (see app.html); prints each result
//
// Prints one line per step; exits non-zero on any failure or timeout.
import { chromium } from "playwright-core";

const [mode, chooserUrl, arg] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
const timeout = 20000;
try {
  const chooser = await browser.newPage();
  chooser.on("dialog", (d) => { console.log("dialog: " + d.message()); d.dismiss(); });
  await chooser.goto(chooserUrl);
  await chooser.locator("#status", { hasText: "connected" }).waitFor({ timeout });
  // The page subscribes, then fetches the state: devices listed means the service has the subscription.
  await chooser.locator("#devices b").first().waitFor({ timeout });
  console.log("chooser connected");
  if (mode === "choose") {
    const button = chooser.locator(`[data-choice] button[data-device="${arg}"]`);
    await button.waitFor({ timeout });
    console.log("request: " + (await chooser.locator("[data-choice] > div").first().textContent()));
    await button.click();
    await chooser.locator("[data-choice]").waitFor({ state: "detached", timeout });
    console.log("chosen " + arg);
  } else if (mode === "approve") {
    const app = await browser.newPage();
    await app.goto(arg);
    await app.locator("#status", { hasText: "refused" }).waitFor({ timeout });
    console.log("app refused");
    const origin = new URL(arg).origin;
    await chooser.locator(`button[data-approve="${origin}"]`).click({ timeout });
    // The click only sends the Approve; reload the app once the service has taken it (the page lists it).
    await chooser.locator("#approved code", { hasText: origin }).waitFor({ timeout });
    console.log("approved " + origin);
    await app.reload();
    await app.locator("#status", { hasText: "connected" }).waitFor({ timeout });
    for (const tag of ["1", "2", "3", "4"]) {
      await app.locator("#r" + tag).filter({ hasText: "Result" }).waitFor({ timeout });
      console.log("app result " + tag + " " + (await app.locator("#r" + tag).textContent()));
    }
  } else {
    throw new Error("unknown mode " + mode);
  }
} catch (e) {
  console.log("FAILED " + e.message);
  process.exitCode = 1;
} finally {
  await browser.close();
}
