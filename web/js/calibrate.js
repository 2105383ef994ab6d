// The live page's "calibrate" mode for the camera on show: the court model's named points in a list;
// pick one, click it on the video (drag a placed point to adjust it, × removes it); "Solve" sends the
// points through fanout to the analytics service (/api/calibration/<camera>/solve, nothing stored),
// which answers the reprojected court lines, drawn over the video, and the errors: pixels (clicks
// against the model points projected) and centimetres (floor clicks mapped to the floor against the
// model), mean and max, and per point in the list. "Save" stores them as a new revision. Needs the
// write scope for the camera when auth is on; every refusal's reason is shown in the panel.
// Points are frame pixels ((0, 0) = centre of the top-left pixel) of the frame on screen.
// The panel's DOM is calibration_panel.js, the drawing calibration_overlay.js, the geometry
// calibration_geometry.js; this module holds the state and talks to the server.

import { readToken } from "./page.js";
import { clientToImage, contentBox, nearestPoint, rescaled } from "./calibration_geometry.js";
import { drawCalibration } from "./calibration_overlay.js";
import { createPanel } from "./calibration_panel.js";

const GRAB_CSS_PX = 12; // a press this near (CSS pixels) to a placed point drags it
const FRAME_WAIT_MS = 10000; // how long opening waits for a frame (the stored points are put on it)

const token = readToken();

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

/**
 * Presses, drags and releases on the overlay. The selected point, while unplaced, goes where the press
 * is (even next to another point: some are 2 px apart at the far end). Once it is placed, a press on a
 * placed point grabs that one (keeping its offset to the pointer), and a press elsewhere moves the
 * selected one there. Holding the press drags it; the release selects the next unplaced point.
 * @param {HTMLCanvasElement} overlay
 * @param {any} state
 * @param {{size: () => [number, number], ready: () => boolean, changed: () => void,
 *          released: (name: string) => void}} hooks
 */
function attachPointer(overlay, state, hooks) {
  const imagePoint = (event) => {
    const [w, h] = hooks.size();
    return clientToImage(overlay.getBoundingClientRect(), w, h, event.clientX, event.clientY);
  };
  overlay.addEventListener("pointerdown", (event) => {
    if (!state.open || event.button !== 0 || !hooks.ready()) return;
    const at = imagePoint(event);
    let name = state.selected;
    if (!at || !name) return;
    state.offset = [0, 0];
    const [w, h] = hooks.size();
    const radius = GRAB_CSS_PX / contentBox(overlay.getBoundingClientRect(), w, h).scale;
    const hit = state.placed.has(name) ? nearestPoint(state.placed, at[0], at[1], radius) : null;
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
    hooks.changed();
  });
  overlay.addEventListener("pointermove", (event) => {
    const at = state.dragging ? imagePoint(event) : null;
    if (!at) return;
    state.placed.set(state.dragging, [at[0] + state.offset[0], at[1] + state.offset[1]]);
    hooks.changed();
  });
  const drop = (event) => {
    if (!state.dragging) return;
    const name = state.dragging;
    state.dragging = null;
    if (overlay.hasPointerCapture(event.pointerId)) overlay.releasePointerCapture(event.pointerId);
    hooks.released(name);
  };
  overlay.addEventListener("pointerup", drop);
  overlay.addEventListener("pointercancel", drop);
}

/**
 * @param {{view: {canvas: HTMLCanvasElement, frame: {width: number, height: number} | null,
 *                 schedule: () => void}, camera?: string}} page
 */
export function createCalibration(page) {
  const overlay = /** @type {HTMLCanvasElement} */ (document.createElement("canvas"));
  overlay.className = "calib-overlay";
  overlay.setAttribute("aria-label", "calibration points and court lines");
  overlay.hidden = true;
  document.getElementById("stage").append(overlay);
  const ctx = overlay.getContext("2d");

  /** @type {{names: string[], world: Map<string, number[]>, placed: Map<string, [number, number]>,
   *          selected: string | null, solved: any, camera: string | null, open: boolean,
   *          dragging: string | null, offset: [number, number]}} */
  const state = { names: [], world: new Map(), placed: new Map(), selected: null, solved: null, camera: null,
    open: false, dragging: null, offset: [0, 0] };

  const size = () => /** @type {[number, number]} */ ([page.view.canvas.width, page.view.canvas.height]);
  const cameraPath = () => `/api/calibration/${encodeURIComponent(state.camera)}`;

  const panel = createPanel({
    pick: (name) => select(name),
    remove: (name) => {
      state.placed.delete(name);
      changed();
    },
    solve: () => solve(),
    save: () => save(),
    clear: () => {
      state.placed.clear();
      panel.say("");
      select(state.names[0] ?? null);
      changed();
    },
    close: () => close(),
  });

  function redraw() {
    const [w, h] = size();
    if (overlay.width !== w || overlay.height !== h) {
      overlay.width = w;
      overlay.height = h;
    }
    const scale = contentBox(overlay.getBoundingClientRect(), w, h).scale;
    const labels = new Map(state.names.map((n, i) => [n, String(i + 1)]));
    drawCalibration(ctx, { points: state.placed, selected: state.selected, lines: state.solved?.lines ?? null,
      labels, scale });
  }

  function refresh() {
    panel.result(state.solved);
    panel.render(state.placed, state.selected, state.solved);
    redraw();
  }

  /** Any change to the points: the last solve no longer describes them. */
  function changed() {
    state.solved = null;
    refresh();
  }

  function select(name) {
    state.selected = name;
    panel.render(state.placed, state.selected, state.solved);
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

  attachPointer(overlay, state, {
    size,
    ready: () => {
      if (!page.view.frame) panel.say("waiting for video: points are placed on the frame on screen", "error");
      return Boolean(page.view.frame);
    },
    changed,
    released: (name) => select(nextUnplaced(name)),
  });
  document.addEventListener("keydown", (event) => {
    if (!state.open || !state.selected || !["Delete", "Backspace"].includes(event.key)) return;
    if (state.placed.delete(state.selected)) changed();
  });

  function body() {
    const [width, height] = size();
    return { width, height, points: Object.fromEntries(state.placed) };
  }

  async function solve() {
    if (!state.camera) return;
    panel.buttons.solve.disabled = true;
    panel.say("solving…");
    const sent = body();
    const answer = await call("POST", `${cameraPath()}/solve`, sent);
    state.solved = answer.ok ? answer.body : null;
    if (answer.ok) panel.say(`solved from ${Object.keys(sent.points).length} points`);
    else panel.say(`cannot solve: ${answer.detail}`, "error");
    refresh();
  }

  async function save() {
    if (!state.camera || !state.solved) return;
    panel.buttons.save.disabled = true;
    const answer = await call("POST", cameraPath(), body());
    if (answer.ok) {
      state.solved = answer.body;
      panel.say(`saved as revision ${answer.body.revision}`, "ok");
    } else {
      panel.say(`not saved: ${answer.detail}`, "error");
    }
    refresh();
  }

  /** The stored calibration's points and lines, rescaled onto the frame on screen. */
  function load(stored) {
    const here = size();
    state.placed = rescaled(stored.points, [stored.width, stored.height], here);
    const sx = here[0] / stored.width;
    const sy = here[1] / stored.height;
    state.solved = { ...stored,
      lines: stored.lines.map((l) => l.map(([u, v]) => [(u + 0.5) * sx - 0.5, (v + 0.5) * sy - 0.5])) };
    state.selected = nextUnplaced(state.selected);
  }

  async function open(camera) {
    if (!camera) return;
    Object.assign(state, { camera, open: true, placed: new Map(), solved: null });
    document.documentElement.style.setProperty("--calib-top", `${document.getElementById("bar")?.offsetHeight ?? 0}px`);
    document.body.classList.add("calibrating");
    panel.root.hidden = false;
    overlay.hidden = false;
    panel.title = `Calibrate ${camera}`;
    panel.result(null);
    panel.say("loading…");
    if (!state.names.length) {
      const known = await call("GET", "/api/calibration/points");
      if (!known.ok) {
        panel.say(`calibration unavailable: ${known.detail}`, "error");
        return;
      }
      state.world = new Map(Object.entries(known.body.points));
      state.names = [...state.world.keys()];
      panel.list(state.names, state.world);
    }
    state.selected = state.names[0] ?? null;
    for (let waited = 0; !page.view.frame && waited < FRAME_WAIT_MS && state.open; waited += 200) {
      panel.say("waiting for video…");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const stored = await call("GET", cameraPath());
    if (stored.ok && page.view.frame) {
      load(stored.body);
      panel.say(`stored calibration, revision ${stored.body.revision}`
        + `${stored.body.source ? ` (${stored.body.source})` : ""}`);
    } else if (stored.status === 404 || stored.ok) {
      panel.say(page.view.frame ? "no stored calibration: click the court's points" : "waiting for video");
    } else {
      panel.say(`stored calibration unavailable: ${stored.detail}`, "error");
    }
    refresh();
  }

  function close() {
    state.open = false;
    state.dragging = null;
    document.body.classList.remove("calibrating");
    panel.root.hidden = true;
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
  const button = /** @type {HTMLButtonElement | null} */ (document.getElementById("calibrate"));
  button?.addEventListener("click", () => {
    if (calibration.isOpen) calibration.close();
    else calibration.open(/** @type {string} */ (page.camera));
  });
  client.on("subscribed", () => {
    if (calibration.isOpen && calibration.state.camera !== page.camera) calibration.close();
  });
}

attach();
