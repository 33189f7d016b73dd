// A page that shows one API's rows and refreshes them on each reload of the emulator.
// It talks to /v1/... on its own origin: the dev server proxies that to rill-emu.
const api = new URLSearchParams(location.search).get("api") ?? "top_products";
const instance = "/v1/instances/default";

function render(rows) {
  const columns = rows.length ? Object.keys(rows[0]) : [];
  const head = document.querySelector("#rows thead");
  const body = document.querySelector("#rows tbody");
  head.replaceChildren(row("th", columns));
  body.replaceChildren(...rows.map((r) => row("td", columns.map((c) => r[c]))));
}

function row(cell, values) {
  const tr = document.createElement("tr");
  for (const value of values) {
    const td = document.createElement(cell);
    td.textContent = value === null ? "" : String(value);
    tr.append(td);
  }
  return tr;
}

async function load() {
  const resp = await fetch(`${instance}/api/${api}`);
  const body = await resp.json();
  if (!resp.ok) {
    document.body.dataset.error = body.error;
    return;
  }
  render(body);
  delete document.body.dataset.error;
  // Set last: a new generation means the new rows are on the page.
  document.body.dataset.generation = resp.headers.get("X-Rill-Emu-Generation");
  document.body.dataset.state = "loaded";
}

document.querySelector("#title").textContent = api;
const events = new EventSource(`${instance}/emu/events`);
events.addEventListener("hello", () => {
  document.body.dataset.events = "open";
});
events.addEventListener("reload", () => load());
load();
