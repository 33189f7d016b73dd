// Drives Debian's Chromium with playwright-core (no browser download) for test_browser.py.
//   node browser.mjs URL
// Prints one JSON line {"generation", "rows"} once the page shows its rows and listens to the
// events stream; then waits for a line on stdin (the test changed the API) and prints the rows
// the page shows after its next reload.
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const [url] = process.argv.slice(2);
const stdin = createInterface({ input: process.stdin });
const lines = stdin[Symbol.asyncIterator]();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

async function shown(page) {
  return page.evaluate(() => {
    const header = [...document.querySelectorAll("#rows thead th")].map((th) => th.textContent);
    const rows = [...document.querySelectorAll("#rows tbody tr")].map((tr) =>
      Object.fromEntries([...tr.cells].map((td, i) => [header[i], td.textContent])),
    );
    return { generation: document.body.dataset.generation, rows };
  });
}

try {
  const page = await browser.newPage();
  page.on("pageerror", (err) => console.error(`page error: ${err.message}`));
  await page.goto(url);
  await page.waitForSelector('body[data-state="loaded"][data-events="open"]', { timeout: 30000 });
  const before = await shown(page);
  console.log(JSON.stringify(before));
  await lines.next();
  await page.waitForFunction((g) => document.body.dataset.generation !== g, before.generation, {
    timeout: 30000,
  });
  console.log(JSON.stringify(await shown(page)));
} finally {
  stdin.close();
  await browser.close();
}
