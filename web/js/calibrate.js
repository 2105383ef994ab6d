// The live page's "calibrate" mode for the camera on show: the court model's named points in a list;
// pick one, click it on the video (drag a placed point to adjust it, × removes it); "Solve" sends the
// points through fanout to the analytics service (/api/calibration/<camera>/solve, nothing stored),
// which answers the reprojected court lines, drawn over the video, and the errors: pixels (clicks
// against the model points projected) and centimetres (floor clicks mapped to the floor against the
// model), mean and max, and per point in the list. "Save" stores them as a new revision. Needs the
// write scope for the camera when auth is on; every refusal's reason is shown in the panel.
// Points are frame pixels ((0, 0) = centre of the top-left pixel) of the frame on screen.

import { readToken } from "./page.js";
import { clientToImage, contentBox, nearestPoint, rescaled } from "./calibration_geometry.js";
import { drawCalibration } from "./calibration_overlay.js";

const GRAB_CSS_PX = 12; // a press this near (CSS pixels) to a placed point drags it
const FRAME_WAIT_MS = 10000; // how long opening waits for a frame (the stored points are put on it)

const token = readToken();
const $ = (id) => document.getElementById(id);

/** @param {string} method @param {string} path @param {unknown} [body] */
async function call(method, path, body) {
  const headers = { ...(token ? { Authorization: `Bearer ${token}` } : {}),
    ...(body === undefined ? {} : { "Content-Type": "application/json" }) };
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  const detail = typeof answer?.detail === "string" ? answer.detail : `HTTP ${response.status}`;
  return { ok: response.ok, status: response.status, body: answer, detail };
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text != null) el.textContent = text;
  return el;
}

const fmt = (x, digits = 1) => (x == null ? "–" : x.toFixed(digits));

/**
 * @param {{view: {canvas: HTMLCanvasElement, frame: {width: number, height: number} | null,
 *                 schedule: () => void}, camera?: string}} page
 */
export function createCalibration(page) {
  const stage = $("stage");
  const overlay = /** @type {HTMLCanvasElement} */ (element("canvas", "calib-overlay"));
  overlay.setAttribute("aria-label", "calibration points and court lines");
  overlay.hidden = true;
  stage.append(overlay);
  const ctx = overlay.getContext("2d");

  const panel = element("aside", "calib-panel");
  panel.hidden = true;
  panel.setAttribute("aria-label", "calibration");
  const title = element("h2", "calib-title", "Calibrate");
  const hint = element("p", "calib-hint", "Pick a point in the list, click it on the video (hold to drag). "
    + "Pick a placed point to drag it, or to click it elsewhere. ↑: off the floor (net posts, wall tops), "
    + "two of them give the full camera pose.");
  const list = element("ol", "calib-points");
  const actions = element("div", "calib-actions");
  const solveButton = /** @type {HTMLButtonElement} */ (element("button", "calib-solve", "Solve"));
  const saveButton = /** @type {HTMLButtonElement} */ (element("button", "calib-save", "Save"));
  const clearButton = /** @type {HTMLButtonElement} */ (element("button", "calib-clear", "Clear"));
  const closeButton = /** @type {HTMLButtonElement} */ (element("button", "calib-close", "Close"));
  actions.append(solveButton, saveButton, clearButton, closeButton);
  const result = element("div", "calib-result");
  const message = element("div", "calib-message");
  message.setAttribute("role", "alert");
  panel.append(title, hint, actions, result, message, list);
  document.body.append(panel);

  /** @type {{names: string[], world: Map<string, number[]>, placed: Map<string, [number, number]>,
   *          selected: string | null, solved: any, camera: string | null, open: boolean,
   *          dragging: string | null, offset: [number, number], rows: Map<string, HTMLElement>}} */
  const state = { names: [], world: new Map(), placed: new Map(), selected: null, solved: null, camera: null,
    open: false, dragging: null, offset: [0, 0], rows: new Map() };

  const size = () => /** @type {[number, number]} */ ([page.view.canvas.width, page.view.canvas.height]);
  const labels = () => new Map(state.names.map((n, i) => [n, String(i + 1)]));

  function say(text, kind = "info") {
    message.textContent = text;
    message.dataset.kind = kind;
  }

  function redraw() {
    const [w, h] = size();
    if (overlay.width !== w || overlay.height !== h) {
      overlay.width = w;
      overlay.height = h;
    }
    const scale = contentBox(overlay.getBoundingClientRect(), w, h).scale;
    drawCalibration(ctx, { points: state.placed, selected: state.selected, lines: state.solved?.lines ?? null,
      labels: labels(), scale });
  }

  function renderList() {
    const residuals = state.solved?.residuals ?? {};
    for (const name of state.names) {
      const row = state.rows.get(name);
      const at = state.placed.get(name);
      row.classList.toggle("selected", name === state.selected);
      row.classList.toggle("placed", Boolean(at));
      row.querySelector(".calib-where").textContent = at ? `${at[0].toFixed(1)}, ${at[1].toFixed(1)}` : "";
      const r = residuals[name];
      row.querySelector(".calib-residual").textContent = r
        ? `${fmt(r.px)} px${r.cm == null ? "" : ` · ${fmt(r.cm)} cm`}` : "";
      /** @type {HTMLButtonElement} */ (row.querySelector(".calib-remove")).hidden = !at;
    }
    solveButton.disabled = state.placed.size === 0;
    saveButton.disabled = !state.solved;
  }

  function showResult() {
    const s = state.solved;
    if (!s) {
      result.textContent = "";
      delete result.dataset.floorCm;
      delete result.dataset.floorMaxCm;
      delete result.dataset.px;
      return;
    }
    const stored = s.revision == null ? "not saved" : `revision ${s.revision}`;
    result.textContent = `${s.kind} · ${fmt(s.reprojection_px, 2)} px mean, ${fmt(s.reprojection_max_px, 2)} px max · `
      + `floor ${fmt(s.floor_error_cm)} cm mean, ${fmt(s.floor_error_max_cm)} cm max · ${stored}`;
    result.dataset.floorCm = String(s.floor_error_cm);
    result.dataset.floorMaxCm = String(s.floor_error_max_cm);
    result.dataset.px = String(s.reprojection_px);
  }

  /** Any change to the points: the last solve no longer describes them. */
  function changed() {
    if (state.solved) {
      state.solved = null;
      showResult();
    }
    renderList();
    redraw();
  }

  function select(name) {
    state.selected = name;
    renderList();
    redraw();
  }

  function nextUnplaced(after) {
    const start = state.names.indexOf(after);
    for (let i = 1; i <= state.names.length; i++) {
      const name = state.names[(start + i) % state.names.length];
      if (!state.placed.has(name)) return name;
    }
    return after;
  }

  function buildList() {
    list.replaceChildren();
    state.rows.clear();
    state.names.forEach((name, i) => {
      const row = element("li", "calib-point");
      row.dataset.name = name;
      const off = (state.world.get(name)?.[2] ?? 0) !== 0;
      const pick = element("button", "calib-pick", `${i + 1}. ${name}${off ? " ↑" : ""}`);
      pick.title = off ? "off the floor (needed for the full camera pose)" : "on the floor";
      pick.addEventListener("click", () => select(name));
      const remove = element("button", "calib-remove", "×");
      remove.title = `remove ${name}`;
      remove.addEventListener("click", () => {
        state.placed.delete(name);
        changed();
      });
      row.append(pick, element("span", "calib-where"), element("span", "calib-residual"), remove);
      list.append(row);
      state.rows.set(name, row);
    });
  }

  function imagePoint(event) {
    const [w, h] = size();
    return clientToImage(overlay.getBoundingClientRect(), w, h, event.clientX, event.clientY);
  }

  overlay.addEventListener("pointerdown", (event) => {
    if (!state.open || event.button !== 0) return;
    if (!page.view.frame) {
      say("waiting for video: points are placed on the frame on screen", "error");
      return;
    }
    const at = imagePoint(event);
    if (!at) return;
    // The selected point, while unplaced, goes where the press is (even next to another point: some are
    // 2 px apart at the far end). Once it is placed, a press on a placed point grabs that one (keeping
    // its offset to the pointer), and a press elsewhere moves the selected one there. Holding drags it.
    let name = state.selected;
    if (!name) return;
    state.offset = [0, 0];
    const [w, h] = size();
    const hit = state.placed.has(name)
      ? nearestPoint(state.placed, at[0], at[1], GRAB_CSS_PX / contentBox(overlay.getBoundingClientRect(), w, h).scale)
      : null;
    if (hit) {
      name = hit;
      const [pu, pv] = state.placed.get(hit);
      state.offset = [pu - at[0], pv - at[1]];
    } else {
      state.placed.set(name, at);
    }
    state.selected = name;
    state.dragging = name;
    overlay.setPointerCapture(event.pointerId);
    event.preventDefault();
    changed();
  });
  overlay.addEventListener("pointermove", (event) => {
    if (!state.dragging) return;
    const at = imagePoint(event);
    if (!at) return;
    state.placed.set(state.dragging, [at[0] + state.offset[0], at[1] + state.offset[1]]);
    changed();
  });
  const drop = (event) => {
    if (!state.dragging) return;
    const placedNow = state.dragging;
    state.dragging = null;
    if (overlay.hasPointerCapture(event.pointerId)) overlay.releasePointerCapture(event.pointerId);
    select(nextUnplaced(placedNow));
  };
  overlay.addEventListener("pointerup", drop);
  overlay.addEventListener("pointercancel", drop);
  document.addEventListener("keydown", (event) => {
    if (!state.open || !state.selected || !["Delete", "Backspace"].includes(event.key)) return;
    if (state.placed.delete(state.selected)) changed();
  });

  function body() {
    const [width, height] = size();
    return { width, height, points: Object.fromEntries([...state.placed].map(([n, [u, v]]) => [n, [u, v]])) };
  }

  solveButton.addEventListener("click", async () => {
    if (!state.camera) return;
    solveButton.disabled = true;
    say("solving…");
    const sent = body();
    const answer = await call("POST", `/api/calibration/${encodeURIComponent(state.camera)}/solve`, sent);
    if (answer.ok) {
      state.solved = answer.body;
      say(`solved from ${Object.keys(sent.points).length} points`);
    } else {
      state.solved = null;
      say(`cannot solve: ${answer.detail}`, "error");
    }
    showResult();
    renderList();
    redraw();
  });

  saveButton.addEventListener("click", async () => {
    if (!state.camera || !state.solved) return;
    saveButton.disabled = true;
    const answer = await call("POST", `/api/calibration/${encodeURIComponent(state.camera)}`, body());
    if (answer.ok) {
      state.solved = answer.body;
      say(`saved as revision ${answer.body.revision}`, "ok");
    } else {
      say(`not saved: ${answer.detail}`, "error");
    }
    showResult();
    renderList();
  });

  clearButton.addEventListener("click", () => {
    state.placed.clear();
    select(state.names[0] ?? null);
    changed();
    say("");
  });
  closeButton.addEventListener("click", () => close());

  async function open(camera) {
    if (!camera) return;
    state.camera = camera;
    state.open = true;
    document.documentElement.style.setProperty("--calib-top", `${$("bar")?.offsetHeight ?? 0}px`);
    document.body.classList.add("calibrating");
    panel.hidden = false;
    overlay.hidden = false;
    title.textContent = `Calibrate ${camera}`;
    state.placed.clear();
    state.solved = null;
    showResult();
    say("loading…");
    if (!state.names.length) {
      const known = await call("GET", "/api/calibration/points");
      if (!known.ok) {
        say(`calibration unavailable: ${known.detail}`, "error");
        return;
      }
      state.world = new Map(Object.entries(known.body.points));
      state.names = [...state.world.keys()];
      buildList();
    }
    state.selected = state.names[0] ?? null;
    for (let waited = 0; !page.view.frame && waited < FRAME_WAIT_MS && state.open; waited += 200) {
      say("waiting for video…");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const stored = await call("GET", `/api/calibration/${encodeURIComponent(camera)}`);
    if (stored.ok && page.view.frame) {
      const s = stored.body;
      const here = size();
      state.placed = rescaled(s.points, [s.width, s.height], here);
      const sx = here[0] / s.width;
      const sy = here[1] / s.height;
      state.solved = { ...s, lines: s.lines.map((l) => l.map(([u, v]) => [(u + 0.5) * sx - 0.5, (v + 0.5) * sy - 0.5])) };
      state.selected = nextUnplaced(state.selected);
      say(`stored calibration, revision ${s.revision}${s.source ? ` (${s.source})` : ""}`);
    } else if (stored.status === 404 || stored.ok) {
      say(page.view.frame ? "no stored calibration: click the court's points" : "waiting for video");
    } else {
      say(`stored calibration unavailable: ${stored.detail}`, "error");
    }
    showResult();
    renderList();
    redraw();
  }

  function close() {
    state.open = false;
    state.dragging = null;
    document.body.classList.remove("calibrating");
    panel.hidden = true;
    overlay.hidden = true;
    page.view.schedule();
  }

  addEventListener("resize", () => state.open && redraw());
  return { open, close, state, overlay, redraw, get isOpen() { return state.open; } };
}

function attach() {
  const page = window.__courtside;
  const client = /** @type {import("../sdk/courtside.js").CourtsideClient | undefined} */ (page?.client);
  if (!page || !client || !page.view) {
    setTimeout(attach, 100);
    return;
  }
  const calibration = createCalibration(/** @type {any} */ (page));
  page.calibration = calibration;
  const button = /** @type {HTMLButtonElement | null} */ ($("calibrate"));
  button?.addEventListener("click", () => {
    if (calibration.isOpen) calibration.close();
    else calibration.open(/** @type {string} */ (page.camera));
  });
  client.on("subscribed", () => {
    if (calibration.isOpen && calibration.state.camera !== page.camera) calibration.close();
  });
}

attach();
