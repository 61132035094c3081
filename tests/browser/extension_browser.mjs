// Launches Debian's Chromium (playwright-core) with the Confab links extension
// (extension/ in the repository) loaded unpacked, and its native messaging host
// registered for that browser profile only. For any test that needs the extension:
//
//   import { launchWithExtension } from "./extension_browser.mjs";
//   const { context, worker, extensionId } =
//       await launchWithExtension({ nativeHost: "/tmp/x/confab-native-host.sh" });
//   const page = await context.newPage();   // every page gets the content script
//   ...
//   await context.close();                   // also removes the temporary profile
//
// `nativeHost`: the program Chromium starts for `org.confab.native_host`: usually a
// small shell script that sets XDG_RUNTIME_DIR / XDG_CONFIG_HOME to the test
// service's and runs `exec /path/to/build/confab native-host "$@"` (Chromium gives it
// the caller's origin, chrome-extension://<id>/, as its argument). Omit it to
// run without a host (the extension then reports "native host is not installed").
// `userDataDir`: a profile directory (default: a fresh temporary one).
//
// How: a persistent context (extensions need one) in Chromium's new headless mode,
// with --load-extension (Chromium 137+ honours it only with the
// DisableLoadExtensionCommandLineSwitch feature disabled). A profile's native
// messaging hosts are read from <userDataDir>/NativeMessagingHosts/<name>.json,
// which is written here, allowed for the extension's fixed id only.
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const EXTENSION_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../extension");
// Fixed by the "key" in extension/manifest.json.
export const EXTENSION_ID = "iblkjdlcnnnhdjmlfaiejalbmcbcfkgo";
export const NATIVE_HOST = "org.confab.native_host";

export async function launchWithExtension({ nativeHost = null, userDataDir = null, args = [] } = {}) {
  const profile = userDataDir || mkdtempSync(join(tmpdir(), "confab-ext-"));
  if (nativeHost) {
    mkdirSync(join(profile, "NativeMessagingHosts"), { recursive: true });
    writeFileSync(join(profile, "NativeMessagingHosts", NATIVE_HOST + ".json"), JSON.stringify({
      name: NATIVE_HOST, description: "Confab native messaging host (test)", path: nativeHost, type: "stdio",
      allowed_origins: [`chrome-extension://${EXTENSION_ID}/`],
    }));
  }
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync",
           "--disable-features=DisableLoadExtensionCommandLineSwitch",
           `--disable-extensions-except=${EXTENSION_DIR}`, `--load-extension=${EXTENSION_DIR}`, ...args],
  });
  let worker = context.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`));
  if (!worker) worker = await context.waitForEvent("serviceworker", {
    predicate: (w) => w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`), timeout: 15000 });
  if (!userDataDir) context.on("close", () => {
    try { rmSync(profile, { recursive: true, force: true, maxRetries: 5 }); } catch { /* Chromium still writing: left in /tmp */ }
  });
  return { context, worker, extensionId: EXTENSION_ID, profile };
}
