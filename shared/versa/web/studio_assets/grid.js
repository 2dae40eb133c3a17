// Versa studio: the grid (a matrix of viewers or every design), time travel and "as seen by".
// It reads the same form as studio.js (#sim) and follows its changes; a time-travel step sets the
// form's local date-time and lets both scripts re-render. Server values are written with textContent.
"use strict";

(() => {
  const boot = JSON.parse(document.getElementById("studio-data").textContent);
  if (!boot.creative) return;
  const $ = (id) => document.getElementById(id);
  const form = $("sim");
  const seq = { moments: 0, grid: 0, seen: 0, shots: 0 };
  let timer = 0;

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child != null) node.append(child);
    return node;
  }

  function formQuery(extra) {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) params.set(name, String(value).trim());
    for (const [name, value] of Object.entries(extra || {})) params.set(name, value);
    return params;
  }

  async function getJson(path, extra) {
    const resp = await fetch(`${path}?${formQuery(extra)}`, { cache: "no-store" });
    const body = await resp.json();
    if (!resp.ok) {
      const err = new Error(body.detail || body.title || resp.statusText);
      err.problem = body;
      throw err;
    }
    return body;
  }

  // One image at a time, with a retry: the server sheds renders beyond its workers and queue (503),
  // and the main preview must never be starved by a grid of thumbnails.
  async function loadShots(images, mine) {
    for (const image of images) {
      for (let attempt = 0; attempt < 3 && mine === seq.shots; attempt++) {
        const ok = await new Promise((resolve) => {
          image.onload = () => resolve(true);
          image.onerror = () => resolve(false);
          image.src = image.dataset.src + (attempt ? `#retry${attempt}` : "");
        });
        if (ok) break;
        await new Promise((resolve) => setTimeout(resolve, 500 * (attempt + 1)));
      }
    }
    return mine === seq.shots;
  }

  // ------------------------------------------------------------------------------- time travel

  function short(local) {
    return local.replace("T", " ").slice(0, 16);
  }

  function stepTo(at) {
    const field = form.elements.namedItem("at");
    field.value = at;
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  async function loadMoments() {
    const mine = ++seq.moments;
    let m;
    try {
      m = await getJson("/studio/moments");
    } catch (err) {
      if (mine === seq.moments) $("tt-now").textContent = `Time travel: ${err.message}`;
      return;
    }
    if (mine !== seq.moments) return;
    $("tt-now").textContent = `${m.weekday} ${short(m.local)} ${m.zone} · ${m.daypart}`;
    document.body.dataset.moment = m.local;
    document.body.dataset.daypart = m.daypart;
    const prev = $("tt-prev");
    const next = $("tt-next");
    prev.textContent = `◀ ${m.previous.daypart} · ${short(m.previous.at).slice(5)}`;
    next.textContent = `${m.next.daypart} · ${short(m.next.at).slice(5)} ▶`;
    prev.dataset.at = m.previous.at;
    next.dataset.at = m.next.at;
    prev.disabled = next.disabled = false;
    const marks = $("tt-deadlines");
    marks.replaceChildren();
    for (const mark of m.deadlines) {
      for (const side of ["before", "after"]) {
        const button = el("button", { type: "button", "data-at": mark[side], "data-side": side,
          title: `${mark.what}: ${mark.at} ${m.zone}`, text: `1 min ${side} ${mark.what}` });
        button.addEventListener("click", () => stepTo(mark[side]));
        marks.append(button);
      }
    }
  }

  $("tt-prev").addEventListener("click", (e) => stepTo(e.currentTarget.dataset.at));
  $("tt-next").addEventListener("click", (e) => stepTo(e.currentTarget.dataset.at));

  // -------------------------------------------------------------------------------------- grid

  // One country per rule set that mentions countries (the datalist labels say which rules), up to three.
  function defaultMatrix() {
    const byRules = new Map();
    for (const option of document.querySelectorAll("#countries option")) {
      const rules = (option.label || "").split(" · ").slice(1).join(" · ");
      if (!byRules.has(rules)) byRules.set(rules, option.value);
    }
    const countries = [...byRules.values()].slice(0, 3);
    return `country=${(countries.length ? countries : ["US"]).join(",")} device=mobile,desktop`;
  }

  async function loadGrid() {
    const mine = ++seq.grid;
    const input = $("grid-matrix");
    const all = $("grid-all").checked;
    input.disabled = all;
    document.body.dataset.grid = "loading";
    let report;
    try {
      report = await getJson("/studio/grid", { matrix: input.value, all: all ? "1" : "" });
    } catch (err) {
      if (mine !== seq.grid) return;
      input.setAttribute("aria-invalid", "true");
      $("grid-note").textContent = err.message;
      $("grid-count").textContent = "";
      $("grid-cells").replaceChildren();
      document.body.dataset.grid = "error";
      return;
    }
    if (mine !== seq.grid) return;
    input.removeAttribute("aria-invalid");
    $("grid-count").textContent = String(report.count);
    $("grid-note").textContent = `${report.count} cells, ${report.designs} distinct designs at ` +
      `${report.size.replace("x", "×")}` + (report.all ? " (every design, each at its example viewer)" : "");
    const list = $("grid-cells");
    list.replaceChildren(...report.cells.map((cell) => {
      const image = el("img", { "data-src": cell.image_url, alt: cell.context, width: String(cell.size[0]),
        height: String(cell.size[1]) });
      return el("li", { "data-key": cell.design_key, "data-daypart": cell.daypart },
        el("a", { class: "thumb", href: cell.image_url, target: "_blank", rel: "noopener" }, image),
        el("span", { class: "ctx", text: cell.context }),
        el("span", { class: "rules", text: cell.rules }),
        el("span", { class: "size", text: cell.size_text }),
        el("a", { href: cell.decision_url, target: "_blank", rel: "noopener", text: "decision (trace)" }));
    }));
    markCurrent();
    const mineShots = ++seq.shots;
    if (await loadShots([...list.querySelectorAll("img[data-src]")], mineShots) && mine === seq.grid) {
      document.body.dataset.grid = "ready";
    }
  }

  function markCurrent() {
    for (const li of $("grid-cells").children) {
      li.classList.toggle("current", li.dataset.key === document.body.dataset.variant);
    }
  }

  new MutationObserver(markCurrent).observe(document.body, { attributes: true, attributeFilter: ["data-variant"] });
  $("grid-matrix").value = defaultMatrix();
  $("grid-run").addEventListener("click", loadGrid);
  $("grid-all").addEventListener("change", loadGrid);
  $("grid-matrix").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); loadGrid(); } });

  // ----------------------------------------------------------------------------------- seen by

  async function loadSeen() {
    const mine = ++seq.seen;
    document.body.dataset.seen = "loading";
    let report;
    try {
      report = await getJson("/studio/seen");
    } catch (err) {
      if (mine !== seq.seen) return;
      $("seen-note").textContent = err.message;
      $("seen-list").replaceChildren();
      document.body.dataset.seen = "error";
      return;
    }
    if (mine !== seq.seen) return;
    $("seen-note").textContent = `the .${report.format} URL of this viewer, without its client override, ` +
      "fetched through the handler with each client's own headers";
    $("seen-list").replaceChildren(...report.clients.map((c) => {
      const kind = c.animated ? `${c.frames} frames, animated` : c.frames ? "static" : "not an image";
      const shownNote = c.shown ? `Served ${c.content_type} (${kind}); ${c.label} ${c.note}: that frame is drawn here.` : c.note;
      return el("li", { "data-client": c.id, "data-type": c.content_type, "data-frames": String(c.frames),
        "data-shown": c.shown ? "first-frame" : "served", "data-variant": c.variant || "" },
        el("div", { class: "thumb" }, el("img", { src: c.shown || c.image || "", alt: `${c.label}: what it shows` })),
        el("span", { class: "who", text: c.label },
          el("span", { class: "badge", text: `seen as ${c.classified}` })),
        el("span", { class: "served", text: `${c.status} ${c.content_type}` },
          el("span", { class: c.animated && !c.shown ? "badge anim" : "badge static",
            text: c.shown ? "shows frame 1" : kind })),
        el("span", { class: "how", text: `rules: ${c.matched.length ? c.matched.join(", ") : "(none)"} · ` +
          `design ${c.variant || "—"}${c.fallback ? " · fallback " + c.fallback : ""}` }),
        el("span", { class: "how", text: `Cache-Control: ${c.cache_control || "—"}` }),
        shownNote ? el("span", { class: "how", text: shownNote }) : null,
        el("span", { class: "ua", text: c.headers["User-Agent"] || "" }));
    }));
    document.body.dataset.seen = "ready";
  }

  // ------------------------------------------------------------------------------------ wiring

  function refresh() {
    loadMoments();
    loadGrid();
    loadSeen();
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(refresh, delay);
  }

  form.addEventListener("input", (event) => {
    if (event.target.name === "brand" || event.target.name === "creative") return;
    schedule(event.target.tagName === "SELECT" || event.target.type === "checkbox" ? 50 : 300);
  });
  $("f-size").addEventListener("change", () => schedule(50));
  for (const chip of form.querySelectorAll(".chip")) chip.addEventListener("click", () => schedule(50));
  refresh();
})();
