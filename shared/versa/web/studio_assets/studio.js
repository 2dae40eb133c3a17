// Versa preview studio: asks the server for signed URLs on every change, then shows the creative, its
// response headers, the decision (trace and provenance) and the creative's variants. No dependencies.
// Every server value is written with textContent (never innerHTML).
"use strict";

(() => {
  const boot = JSON.parse(document.getElementById("studio-data").textContent);
  const $ = (id) => document.getElementById(id);
  const form = $("sim");
  const img = $("creative");
  const ACCEPT_IMAGE = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
  const SHOWN_HEADERS = ["Content-Type", "Cache-Control", "ETag", "X-Versa-Variant", "X-Versa-Fallback",
    "X-Versa-Copy", "Vary"];
  const CARRY_ON_BRAND = ["country", "device", "client", "fmt", "dpr"];
  let seq = 0;
  let variantsSeq = 0;
  let currentKey = null;
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

  function setState(state, message) {
    document.body.dataset.state = state;
    $("status").textContent = message;
  }

  function formQuery() {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) params.set(name, String(value).trim());
    return params;
  }

  // ------------------------------------------------------------------------------------- errors

  function showError(problem) {
    const box = $("error");
    box.replaceChildren(el("strong", { text: problem.title || "Error" }), problem.detail || "");
    if (problem.parameter) {
      box.append(`\nParameter: ${problem.parameter}` + (problem.allowed ? ` — allowed: ${problem.allowed}` : ""));
    }
    box.hidden = false;
    setState("error", problem.status ? `${problem.status} ${problem.title || ""}` : "Error");
  }

  function clearError() {
    $("error").hidden = true;
    $("error").replaceChildren();
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  }

  function markInvalid(field) {
    if (!field) return;
    const control = form.elements.namedItem(field);
    const target = control instanceof RadioNodeList ? control[control.length - 1] : control;
    if (target) target.setAttribute("aria-invalid", "true");
  }

  async function problemOf(resp, what) {
    try {
      const body = await resp.json();
      return { status: resp.status, ...body, title: `${what}: ${body.title || resp.statusText}` };
    } catch (_) {
      return { status: resp.status, title: `${what}: HTTP ${resp.status}`, detail: resp.statusText };
    }
  }

  // ------------------------------------------------------------------------------------ update

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(update, delay);
  }

  async function update() {
    const mine = ++seq;
    setState("loading", "Updating…");
    const query = formQuery();
    history.replaceState(null, "", "/?" + query);
    let resp;
    let urls;
    try {
      resp = await fetch("/studio/urls?" + query, { cache: "no-store" });
      urls = await resp.json();
    } catch (err) {
      if (mine === seq) showError({ title: "The studio server did not answer", detail: String(err) });
      return;
    }
    if (mine !== seq) return;
    clearError();
    if (!resp.ok) {
      markInvalid(urls.field);
      showError(urls);
      return;
    }
    showLinks(urls);
    const [loaded, info, decision] = await Promise.all([
      loadImage(urls), fetchImage(urls.image_url), fetchDecision(urls.decision_url),
    ]);
    if (mine !== seq) return;
    showHeaders(info);
    if (decision.ok) showDecision(decision.body);
    const problem = !info.ok ? info.problem : !decision.ok ? decision.problem : null;
    if (problem) {
      markInvalid(problem.parameter && (boot.params[problem.parameter] ? "p." + problem.parameter : problem.parameter));
      showError(problem);
      return;
    }
    if (!loaded) {
      showError({ title: "The image did not load", detail: urls.image_url });
      return;
    }
    $("meta").textContent = `${urls.size[0]}×${urls.size[1]} at ${urls.dpr}x · ` +
      `${img.naturalWidth}×${img.naturalHeight} px · ${formatBytes(info.bytes)}`;
    img.dataset.etag = info.headers.ETag || "";
    document.body.dataset.variant = decision.body.design_key;
    setState("ready", `Variant ${decision.body.design_key}`);
  }

  // After a review decision the same signed URL draws different copy, but the browser's image cache
  // would show the old bytes: from then on the preview is fetched past the cache and shown as a blob.
  let freshImages = false;
  let blobUrl = null;

  async function loadImage(urls) {
    let src = urls.image_url;
    if (freshImages) {
      try {
        const resp = await fetch(urls.image_url, { headers: { Accept: ACCEPT_IMAGE }, cache: "reload" });
        if (resp.ok) {
          if (blobUrl) URL.revokeObjectURL(blobUrl);
          blobUrl = src = URL.createObjectURL(await resp.blob());
        }
      } catch (_) { /* the plain URL below reports the failure */ }
    }
    return new Promise((resolve) => {
      img.onload = () => resolve(true);
      img.onerror = () => resolve(false);
      img.width = urls.size[0];
      img.height = urls.size[1];
      img.src = src;
    });
  }

  async function fetchImage(url) {
    try {
      const resp = await fetch(url, { headers: { Accept: ACCEPT_IMAGE }, cache: "no-store" });
      const headers = { Status: `${resp.status} ${resp.statusText}`.trim() };
      for (const name of SHOWN_HEADERS) {
        const value = resp.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      if (!resp.ok) return { ok: false, headers, bytes: 0, problem: await problemOf(resp, "Image") };
      const bytes = (await resp.arrayBuffer()).byteLength;
      return { ok: true, headers, bytes };
    } catch (err) {
      return { ok: false, headers: {}, bytes: 0, problem: { title: "Image request failed", detail: String(err) } };
    }
  }

  async function fetchDecision(url) {
    try {
      const resp = await fetch(url, { cache: "no-store" });
      if (!resp.ok) return { ok: false, problem: await problemOf(resp, "Decision") };
      return { ok: true, body: await resp.json() };
    } catch (err) {
      return { ok: false, problem: { title: "Decision request failed", detail: String(err) } };
    }
  }

  // ----------------------------------------------------------------------------------- display

  function formatBytes(n) {
    return n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`;
  }

  function showLinks(urls) {
    $("image-url").value = new URL(urls.image_url, location.href).href;
    $("open-image").href = urls.image_url;
    $("open-click").href = urls.click_url;
    $("open-decision").href = urls.decision_url;
    const html = $("open-html");
    html.hidden = !urls.html_url;
    if (urls.html_url) html.href = urls.html_url;
  }

  function showHeaders(info) {
    const list = $("headers");
    list.replaceChildren();
    for (const [name, value] of Object.entries(info.headers)) {
      const dd = el("dd", { text: value });
      if (name === "X-Versa-Fallback") dd.className = "fallback";
      list.append(el("dt", { text: name }), dd);
    }
  }

  function localTime(instant, zone) {
    try {
      return new Date(instant).toLocaleString("sv-SE", { timeZone: zone }).slice(0, 16) + " " + zone;
    } catch (_) {
      return instant;
    }
  }

  function until(validUntil, now, zone) {
    if (!validUntil) return "unbounded (no rule boundary ahead)";
    const seconds = Math.round((Date.parse(validUntil) - Date.parse(now)) / 1000);
    if (!Number.isFinite(seconds)) return validUntil;
    const d = Math.floor(seconds / 86400);
    const h = Math.floor((seconds % 86400) / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const parts = [d ? `${d} d` : "", h ? `${h} h` : "", `${m} min`].filter(Boolean).join(" ");
    const when = zone ? localTime(validUntil, zone) : validUntil;
    return `${when}\n${seconds < 0 ? "already past" : "in " + parts} from the simulated time`;
  }

  function showDecision(d) {
    const ctx = d.context || {};
    const now = ctx.now ? ctx.now.value : null;
    const rows = [
      ["Design key", d.design_key],
      ["Valid until", until(d.valid_until, now, ctx.tz ? ctx.tz.value : null)],
      ["Locale", d.locale],
      ["Link", d.link || "—"],
      ["Matched", d.matched && d.matched.length ? d.matched.join(", ") : "no rule"],
      ["Copy slots", Object.entries(d.copy || {}).map(([slot, ref]) =>
        `${slot}: ${ref.key ? "generates (copy key " + ref.key + ")" : "fixed text"}`).join("\n") || "—"],
      ["Pack version", d.pack_version || "—"],
    ];
    const list = $("decision");
    list.replaceChildren();
    for (const [name, value] of rows) {
      const dd = el("dd", { text: value });
      if (name === "Link" && /^https?:\/\//.test(d.link || "")) {
        dd.replaceChildren(el("a", { href: d.link, target: "_blank", rel: "noopener noreferrer", text: d.link }));
      }
      list.append(el("dt", { text: name }), dd);
    }
    const trace = $("trace");
    trace.replaceChildren();
    for (const t of d.trace || []) {
      trace.append(el("li", { class: t.matched ? "hit" : "miss" },
        el("span", { class: "mark", text: t.matched ? "✓" : "·", "aria-label": t.matched ? "matched" : "not matched" }),
        el("span", { class: "rule", text: t.rule }),
        el("span", { class: "why", text: t.reason }),
        t.matched && t.sets && t.sets.length ? el("span", { class: "sets", text: "sets " + t.sets.join(", ") }) : null));
    }
    if (!(d.trace || []).length) trace.append(el("li", { class: "miss", text: "This creative has no rules." }));
    const body = $("provenance").tBodies[0];
    body.replaceChildren();
    for (const [name, sig] of Object.entries(ctx)) {
      const value = sig.value === null || sig.value === undefined ? "—"
        : typeof sig.value === "string" ? sig.value : JSON.stringify(sig.value);
      body.append(el("tr", {},
        el("td", { text: name }),
        el("td", { text: value }),
        el("td", {}, el("span", { class: `src src-${sig.source}`, text: sig.source }),
          sig.detail ? el("span", { class: "detail", text: sig.detail }) : null)));
    }
    currentKey = d.design_key;
    markCurrentVariant();
  }

  // ---------------------------------------------------------------------------------- variants

  async function loadVariants() {
    const mine = ++variantsSeq;
    const query = new URLSearchParams({ brand: boot.brand, creative: boot.creative, size: $("f-size").value });
    let report;
    try {
      const resp = await fetch("/studio/variants?" + query);
      report = await resp.json();
      if (!resp.ok) throw new Error(report.detail || resp.statusText);
    } catch (err) {
      if (mine === variantsSeq) $("variant-note").textContent = `Variants could not be listed: ${err.message || err}`;
      return;
    }
    if (mine !== variantsSeq) return;  // another size was picked meanwhile
    document.body.dataset.variantsSize = report.size;
    if (report.error) {
      $("variant-count").textContent = "";
      $("variant-note").textContent = report.error;
      return;
    }
    $("variant-count").textContent = String(report.count);
    const sizes = boot.sizes.length;
    $("variant-note").textContent = `${report.count} distinct designs at ${report.size.replace("x", "×")} over ` +
      `${report.combinations} decided contexts (reading ${report.attributes.join(", ") || "nothing"}). ` +
      "Pick one to load its example viewer" +
      (report.listed < report.count ? `; the ${report.listed} most common are listed.` : ".") +
      (sizes > 1 ? ` All ${sizes} sizes together: ${report.all_count} designs (pick another size above).` : "");
    const list = $("variants");
    list.replaceChildren();
    for (const v of report.variants) {
      const example = Object.entries(v.example).map(([k, val]) => `${k}=${val === null ? "∅" : val}`).join("  ");
      const button = el("button", { type: "button", title: example },
        el("span", { class: "vk", text: `${v.design_key}  ·  ${v.locale}  ·  ${v.contexts} contexts` }),
        el("span", { class: "vm", text: v.matched.length ? "matched: " + v.matched.join(", ") : "no rule matched" }),
        el("span", { class: "vm", text: example }));
      button.addEventListener("click", () => applyExample(v.example, v.visitor_id));
      list.append(el("li", { "data-key": v.design_key }, button));
    }
    markCurrentVariant();
  }

  function markCurrentVariant() {
    for (const li of $("variants").children) li.classList.toggle("current", li.dataset.key === currentKey);
  }

  function setControl(name, value) {
    const control = form.elements.namedItem(name);
    if (!control) return;
    const text = value === null || value === undefined ? "" : String(value);
    if (control instanceof RadioNodeList) {  // a bool parameter: hidden "false" + checkbox "true"
      for (const node of control) if (node.type === "checkbox") node.checked = text === "true";
      return;
    }
    control.value = text;
  }

  function applyExample(example, visitorId) {
    // a split's arm: the example names it; a visitor id in it goes to the vid field
    if (typeof visitorId === "string") setControl("p.vid", visitorId);
    for (const [key, value] of Object.entries(example)) {
      if (key === "at") setControl("at", String(value).slice(0, 19));
      else if (["country", "tz", "device", "client", "lang"].includes(key)) setControl(key, value);
      else if (key in boot.params) setControl("p." + key, value);
    }
    update();
  }

  // ------------------------------------------------------------------------------------ wiring

  function navigate(keep) {
    const current = formQuery();
    const next = new URLSearchParams();
    for (const [name, value] of current) if (keep(name)) next.set(name, value);
    location.assign("/?" + next);
  }

  $("f-brand").addEventListener("change", () => navigate((n) => n === "brand" || CARRY_ON_BRAND.includes(n)));
  // another creative has sizes of its own: it opens at its first
  $("f-creative").addEventListener("change", () => navigate((n) => !n.startsWith("p.") && n !== "size"));
  $("f-size").addEventListener("change", () => {
    update();
    loadVariants();
  });
  form.addEventListener("input", (event) => {
    if (event.target.name === "brand" || event.target.name === "creative") return;
    schedule(event.target.tagName === "SELECT" || event.target.type === "checkbox" ? 0 : 250);
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); update(); });
  for (const chip of form.querySelectorAll(".chip")) {
    chip.addEventListener("click", () => {
      const at = form.elements.namedItem("at");
      const wanted = chip.dataset.time;
      if (!wanted) at.value = "";
      else {
        const day = (at.value || new Date().toISOString()).slice(0, 10);
        at.value = `${day}T${wanted}`;
      }
      update();
    });
  }
  $("copy-url").addEventListener("click", async () => {
    const field = $("image-url");
    try { await navigator.clipboard.writeText(field.value); } catch (_) { field.select(); document.execCommand("copy"); }
    $("copy-url").textContent = "Copied";
    setTimeout(() => { $("copy-url").textContent = "Copy"; }, 1200);
  });

  // ------------------------------------------------------------------------------------ review

  let reviewItems = [];

  async function loadReview() {
    if (!boot.brand) return;
    let resp;
    let body;
    try {
      resp = await fetch("/studio/review?" + new URLSearchParams({ brand: boot.brand }), { cache: "no-store" });
      body = await resp.json();
    } catch (err) {
      $("review-note").textContent = `The review list did not load: ${err}`;
      return;
    }
    const list = $("review-list");
    if (!resp.ok) {
      $("review-note").textContent = `${body.title || resp.status}: ${body.detail || ""}`;
      list.replaceChildren();
      return;
    }
    reviewItems = body.items;
    $("review-count").textContent = body.count ? `(${body.count}${body.more ? "+" : ""})` : "";
    $("review-note").textContent = body.count
      ? "Generated copy and scenes waiting for a reviewer, drawn in the creative at each of their sizes. Only approved ones are served."
      : `Nothing of ${body.brand} awaits review.`;
    $("review-approve-all").disabled = !body.count;
    list.replaceChildren(...body.items.map(reviewCard));
    loadShots([...list.querySelectorAll("img[data-src]")], ++shotsSeq);
  }

  // One preview at a time: a creative has many sizes, and the server sheds renders beyond its
  // workers and queue (503), which the main preview must never be starved by.
  let shotsSeq = 0;
  async function loadShots(images, mine) {
    for (const image of images) {
      for (let attempt = 0; attempt < 3 && mine === shotsSeq; attempt++) {
        const ok = await new Promise((resolve) => {
          image.onload = () => resolve(true);
          image.onerror = () => resolve(false);
          image.src = image.dataset.src + (attempt ? `#retry${attempt}` : "");
        });
        if (ok) break;
        await new Promise((resolve) => setTimeout(resolve, 500 * (attempt + 1)));
      }
    }
    if (mine === shotsSeq) document.body.dataset.shots = "loaded";
  }

  function reviewCard(item) {
    const vary = Object.entries(item.vary).map(([k, v]) => `${k}=${v}`).join(" · ");
    const li = el("li", { class: "review-item", "data-key": item.key });
    const shots = el("div", { class: "review-shots" });
    for (const p of item.previews) {
      const shot = el("img", { "data-src": p.url, width: String(p.width), height: String(p.height),
        alt: `${item.creative} at ${p.size} with the ${item.kind === "visual" ? "scene" : "copy"} under review` });
      shots.append(el("figure", {}, shot, el("figcaption", { text: p.size })));
    }
    const approve = el("button", { type: "button", class: "approve", text: "Approve" });
    const reject = el("button", { type: "button", class: "reject", text: "Reject" });
    approve.addEventListener("click", () => decide("approve", [item]));
    reject.addEventListener("click", () => decide("reject", [item]));
    li.append(...[
      el("div", { class: "review-head" },
        el("strong", { text: `${item.creative} / ${item.slot}` }),
        el("span", { class: "meta", text: `${item.locale}${vary ? " · " + vary : ""}${item.model ? " · " + item.model : ""}` }),
        el("code", { class: "meta", text: item.key })),
      item.kind === "visual"
        ? el("p", { class: "review-text", text: `A generated scene (${item.vary.aspect || "?"}): ${item.text || ""}` })
        : el("p", { class: "review-text", text: item.text || "", lang: item.locale, dir: "auto" }),
      el("p", { class: "hint", text: `Serving now (${item.serving_source || "—"}): ${item.serving || "—"}` }),
      item.note ? el("p", { class: "hint", text: item.note }) : null,
      shots,
      el("div", { class: "review-actions" }, approve, reject),
    ].filter((node) => node != null));
    return li;
  }

  async function decide(action, items) {
    const comment = $("review-comment").value.trim();
    const result = $("review-result");
    if (action === "reject" && !comment) {
      result.textContent = "Say why in the comment before rejecting.";
      result.className = "review-result bad";
      $("review-comment").focus();
      return;
    }
    const payload = { action, items: items.map((i) => ({ key: i.key, version: i.version })), comment,
      by: $("review-by").value.trim() };
    let body;
    try {
      const resp = await fetch("/studio/review", { method: "POST", cache: "no-store",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) });
      body = await resp.json();
      if (!resp.ok) throw new Error(`${body.title}: ${body.detail || ""}`);
    } catch (err) {
      result.textContent = String(err.message || err);
      result.className = "review-result bad";
      return;
    }
    const failed = body.results.filter((r) => !r.ok);
    const verb = action === "approve" ? "Approved" : "Rejected";
    result.textContent = `${verb} ${body.decided} of ${body.results.length}.` +
      failed.map((r) => ` ${r.title}: ${r.detail}`).join("");
    result.className = failed.length ? "review-result bad" : "review-result ok";
    freshImages = true;
    await loadReview();
    if (boot.creative) update();
  }

  // -------------------------------------------------------------------------------------- lint

  let lintSeq = 0;

  async function loadLint() {
    const mine = ++lintSeq;
    $("lint-note").textContent = "Linting the pack (every variant at every size)…";
    document.body.dataset.lint = "loading";
    let body;
    try {
      const resp = await fetch("/studio/lint?" + new URLSearchParams({ brand: boot.brand }), { cache: "no-store" });
      body = await resp.json();
      if (!resp.ok) throw new Error(`${body.title || resp.status}: ${body.detail || ""}`);
    } catch (err) {
      if (mine === lintSeq) {
        $("lint-note").textContent = `Lint did not run: ${err.message || err}`;
        document.body.dataset.lint = "error";
      }
      return;
    }
    if (mine !== lintSeq) return;
    const total = body.errors + body.warnings;
    $("lint-count").textContent = total ? `(${body.errors} error${body.errors === 1 ? "" : "s"}, ` +
      `${body.warnings} warning${body.warnings === 1 ? "" : "s"})` : "";
    $("lint-note").textContent = total
      ? `What versa lint finds in ${body.brand} (version ${body.version}), per creative, with its place in pack.yaml.`
      : `versa lint finds nothing in ${body.brand} (version ${body.version}).`;
    const groups = body.creatives.filter((g) => g.findings.length)
      .sort((a, b) => (b.creative === boot.creative) - (a.creative === boot.creative));
    $("lint-groups").replaceChildren(...groups.map(lintGroup));
    document.body.dataset.lint = "ready";
  }

  function lintGroup(group) {
    const section = el("section", { class: "lint-group" + (group.creative === boot.creative ? " current" : ""),
      "data-creative": group.creative });
    section.append(el("h3", { text: group.creative ? `${group.creative} (${group.findings.length})` :
      `pack (${group.findings.length})` }));
    const list = el("ol", { class: "lint-list" });
    for (const f of group.findings) {
      const at = f.line ? `${f.file} line ${f.line}, column ${f.column}` : f.file;
      list.append(el("li", { class: `lint-item ${f.severity}` },
        el("span", { class: "sev", text: f.severity }),
        el("code", { class: "where", text: f.where || f.path, title: f.path }),
        el("span", { class: "at", text: at }),
        el("p", { class: "msg", text: f.message })));
    }
    section.append(list);
    return section;
  }

  $("lint-reload").addEventListener("click", loadLint);
  $("review-reload").addEventListener("click", loadReview);
  $("review-approve-all").addEventListener("click", () => decide("approve", reviewItems));

  if (boot.creative) {
    update();
    loadVariants();
  }
  loadReview();
  if (boot.creative) loadLint();
})();
