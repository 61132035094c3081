// What the browser drivers share: the lines the test writes on their stdin,
// and how a driver ends (one "FAILED <why>" line and exit status 1 on any error).

export const stdinLines = (async function* () {
  let buffered = "";
  for await (const chunk of process.stdin) {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
    }
  }
})();

export async function nextLine() {
  const { value, done } = await stdinLines.next();
  if (done) throw new Error("stdin closed");
  return value;
}

// Reads stdin until the line `word`.
export async function waitFor(word) {
  for (;;) {
    const { value, done } = await stdinLines.next();
    if (done) throw new Error(`stdin closed before "${word}"`);
    if (value === word) return;
  }
}

// Runs `main`, then closes the browser whatever happened.
export async function run(browser, main) {
  try {
    await main();
  } catch (e) {
    console.log("FAILED " + e.message);
    process.exitCode = 1;
  } finally {
    await browser.close();
    process.stdin.destroy();  // a driver that read stdin: let node end
  }
}

// Sets the Local Network Access permission of `origin` in the browser context of
// `page` (Chromium, through the DevTools protocol), under each name Chromium has
// given it; a name this Chromium does not know is skipped, with a line.
export async function setLocalNetworkAccess(context, page, origin, setting) {
  const cdp = await context.newCDPSession(page);
  const { targetInfo } = await cdp.send("Target.getTargetInfo");
  for (const name of ["local-network-access", "loopback-network", "local-network"])
    await cdp.send("Browser.setPermission", {permission: {name}, setting, origin,
                                             browserContextId: targetInfo.browserContextId})
      .catch((e) => console.log(`(${name}: ${e.message})`));
}
